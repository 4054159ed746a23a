"""Services under concurrent calls: a reset while calls run (no call fails, the calls in
progress finish on the old object, new calls reach the new code), method locks (read methods
overlap, a write method runs alone, ``none`` methods ignore the lock) and the
``max-service-threads`` bound."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from qorus_core.model.errors import QorusError
from tests.helpers.definitions import add_service
from tests.helpers.engine import Logs, TestServer

pytestmark = pytest.mark.integration

Api = Callable[..., Any]

VERSIONED = """
import threading
import time
from svc import QorusService


class Versioned(QorusService):
    MARK = "{mark}"

    def init(self):
        self.mutex = threading.Lock()
        self.active = 0

    def work(self, n):
        with self.mutex:
            self.active += 1
        try:
            time.sleep(0.03)
            return [self.MARK, n]
        finally:
            with self.mutex:
                self.active -= 1

    def stop(self):
        UserApi.logInfo("%s stopped with %d calls active", self.MARK, self.active)
"""


def test_reset_while_calls_run_fails_no_call(api: Api, engine: Engine, logs: Logs) -> None:
    add_service(
        engine, "versioned", VERSIONED.format(mark="v1"), [{"name": "work", "lock": "read"}]
    )
    api("services.load", id="versioned")
    stop = threading.Event()
    results: list[Any] = []
    failures: list[str] = []

    def caller(k: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                results.append(api("services.call", id="versioned", method="work", args=n)[0])
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(6)]
    for th in threads:
        th.start()
    try:
        for mark in ("v2", "v3", "v4"):
            time.sleep(0.25)
            add_service(
                engine, "versioned", VERSIONED.format(mark=mark), [{"name": "work", "lock": "read"}]
            )
            assert api("services.reset", id="versioned") is True
        time.sleep(0.25)
    finally:
        stop.set()
        for th in threads:
            th.join(30)
    assert not failures, failures[:5]
    assert {"v1", "v2", "v3", "v4"} <= set(results)
    # after the last reset every new call reaches the new code
    assert api("services.call", id="versioned", method="work", args=0) == ["v4", 0]
    # each old object was stopped only after its calls in progress had finished
    stopped = [m for m in logs.messages("versioned") if "stopped with" in m]
    assert stopped == [f"v{i} stopped with 0 calls active" for i in (1, 2, 3)]
    assert api("services.info", id="versioned")["stats"]["errors"] == 0


LOCKER = """
import threading
import time
from svc import QorusService


class Locker(QorusService):
    def init(self):
        self.mutex = threading.Lock()
        self.active = {"read": 0, "write": 0, "none": 0}
        self.seen = []

    def _run(self, kind):
        with self.mutex:
            self.active[kind] += 1
            self.seen.append(dict(self.active))
        time.sleep(0.15)
        with self.mutex:
            self.seen.append(dict(self.active))
            self.active[kind] -= 1
        return kind

    def reader(self):
        return self._run("read")

    def writer(self):
        return self._run("write")

    def free(self):
        return self._run("none")

    def nested(self):
        return self.callService("locker", "reader")

    def upgrade(self):
        return UserApi.callService("locker", "writer")

    def snapshots(self):
        return self.seen
"""
LOCKER_METHODS: list[str | dict[str, Any]] = [
    {"name": "reader", "lock": "read"},
    {"name": "writer", "lock": "write", "write": True},
    {"name": "free", "lock": "none"},
    {"name": "nested", "lock": "write"},
    {"name": "upgrade", "lock": "read"},
    "snapshots",
]


def test_read_methods_overlap_and_a_write_method_runs_alone(api: Api, engine: Engine) -> None:
    add_service(engine, "locker", LOCKER, LOCKER_METHODS)
    api("services.load", id="locker")
    calls = ["reader"] * 4 + ["writer"] * 2 + ["free"] * 2 + ["reader"] * 2 + ["writer"]
    barrier = threading.Barrier(len(calls))

    def one(method: str) -> Any:
        barrier.wait()
        return api("services.call", id="locker", method=method)

    with ThreadPoolExecutor(len(calls)) as pool:
        answers = list(pool.map(one, calls))
    assert answers == [
        c.replace("reader", "read").replace("writer", "write").replace("free", "none")
        for c in calls
    ]
    seen = api("services.call", id="locker", method="snapshots")
    assert len(seen) == 2 * len(calls)
    # a write method never ran beside another locked one; read methods did run side by side
    assert all(s["read"] == 0 and s["write"] == 1 for s in seen if s["write"])
    assert max(s["read"] for s in seen) >= 2
    # unlocked methods ran while locked ones did
    assert any(s["none"] and (s["read"] or s["write"]) for s in seen)
    # a write method calling a read method of its own service takes no new lock; a read
    # method cannot call a write one (the lock cannot be upgraded)
    assert api("services.call", id="locker", method="nested") == "read"
    with pytest.raises(QorusError) as info:
        api("services.call", id="locker", method="upgrade")
    assert info.value.code == "SERVICE-LOCK-ERROR"


SLOW = """
import time
from svc import QorusService


class Slow(QorusService):
    def nap(self, secs):
        time.sleep(secs)
        return secs
"""


def test_max_service_threads_bounds_calls(api: Api, engine: Engine, server: TestServer) -> None:
    add_service(engine, "slow", SLOW, ["nap"])
    server.options.set("max-service-threads", 2)
    barrier = threading.Barrier(3)

    def one(secs: float) -> Any:
        barrier.wait()
        try:
            return api("services.call", id="slow", method="nap", args=secs)
        except QorusError as exc:
            return exc.code

    with ThreadPoolExecutor(3) as pool:
        answers = sorted(map(str, pool.map(one, [1.5, 1.5, 1.5])))
    # two ran; the third waited the manager's bounded wait (0.5 s here), then failed
    assert answers == ["1.5", "1.5", "SERVICE-THREAD-LIMIT"]
    # a call over the limit that gets a slot within the wait succeeds
    barrier = threading.Barrier(3)
    with ThreadPoolExecutor(3) as pool:
        answers = sorted(map(str, pool.map(one, [0.2, 0.2, 0.2])))
    assert answers == ["0.2", "0.2", "0.2"]
