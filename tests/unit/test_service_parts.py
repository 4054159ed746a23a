"""Parts of the services without a database: the names service code sees, the service API
outside a service, the read-write lock, the thread slots, the method checks of oload."""

from __future__ import annotations

import ast
import threading
import time

import pytest

from qorus_core.loader import pycode
from qorus_core.model.errors import QorusError
from qorus_server.services.locks import RWLock, ServiceLockError, Slots, ThreadLimitError
from qorus_server.userapi import ServiceApi, code_namespace
from qorus_server.userapi.svc import QorusService


def test_service_code_sees_its_names() -> None:
    ns = code_namespace("t")
    exec(
        "from svc import QorusService\n"
        "import svcapi as s2\n"
        "class S(svc.QorusService):\n"
        "    def m(self):\n"
        "        return 1\n"
        "result = (issubclass(S, QorusService), svcapi is ServiceApi, s2.getStateData,\n"
        "          UserApi.logInfo, OMQ.StatComplete)\n",
        ns,
    )
    assert ns["result"][:2] == (True, True)
    assert ns["result"][4] == "COMPLETE"


def test_the_service_api_needs_a_service() -> None:
    for call in (ServiceApi.getStateData, ServiceApi.getServiceInfo):
        with pytest.raises(QorusError) as info:
            call()
        assert info.value.code == "SERVICE-CONTEXT-ERROR"
    assert ServiceApi.getCallContext() is None
    # the object has the service API as methods, its own attributes first
    obj = QorusService()
    assert obj.getCallContext() is None
    with pytest.raises(AttributeError):
        obj.no_such_thing  # noqa: B018


def test_read_write_lock() -> None:
    lock = RWLock()
    inside: list[str] = []
    peak = {"read": 0}
    mutex = threading.Lock()
    active = {"read": 0, "write": 0}

    def run(mode: str) -> None:
        with lock.hold(mode):
            with mutex:
                active[mode] += 1
                peak["read"] = max(peak["read"], active["read"])
                assert active["write"] <= 1 and not (active["write"] and active["read"])
                inside.append(mode)
            time.sleep(0.05)
            with mutex:
                active[mode] -= 1

    threads = [threading.Thread(target=run, args=(m,)) for m in ["read"] * 4 + ["write"] * 2]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(inside) == ["read"] * 4 + ["write"] * 2 and peak["read"] >= 2
    # nested: the holder takes nothing more; a read holder cannot upgrade
    with lock.hold("write"), lock.hold("read"), lock.hold("write"):
        assert lock.held_by_me()
    assert not lock.held_by_me()
    with lock.hold("read"):
        with pytest.raises(ServiceLockError), lock.hold("write"):
            pass
        with lock.hold("none"):
            pass


def test_slots() -> None:
    slots = Slots()
    slots.acquire(2, 0.1, "x")
    slots.acquire(2, 0.1, "x")
    start = time.monotonic()
    with pytest.raises(ThreadLimitError) as info:
        slots.acquire(2, 0.2, "svc x: call of m()")
    assert time.monotonic() - start >= 0.2
    assert (
        info.value.code == "SERVICE-THREAD-LIMIT" and "max-service-threads (2)" in info.value.desc
    )
    threading.Timer(0.05, slots.release).start()
    slots.acquire(2, 5, "x")  # a slot freed within the wait is taken
    assert slots.used == 2


def test_oload_finds_methods_through_bases() -> None:
    tree = ast.parse(
        "class A:\n"
        "    x = 1\n"
        "    def a(self): pass\n"
        "class B(A, Lib):\n"
        "    async def b(self): pass\n"
        "class C(B, Unknown):\n"
        "    y: int = 2\n"
    )
    classes, methods = pycode.top_classes(tree), pycode.top_methods(tree)
    lib = ({"Lib": ["Base"]}, {"Lib": {"lib"}})

    def library(name: str) -> pycode.CodeInfo | None:
        return lib if name == "Lib" else None

    known = {"Base": {"init"}}
    for attr in ("a", "b", "x", "y", "lib", "init"):
        assert pycode.defines(classes, methods, "C", attr, library, known) is True, attr
    assert pycode.defines(classes, methods, "B", "nope", library, known) is False
    # C has a base nobody can follow: a name it lacks may come from there
    assert pycode.defines(classes, methods, "C", "nope", library, known) is None
