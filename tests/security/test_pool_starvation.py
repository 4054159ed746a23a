"""One operator request must not hang the server: execution instances cannot starve the API,
logins or the session heartbeat of database connections.

``count`` of a start is bounded by ``workflow-max-instances``; the API, the engine and the
heartbeat have separate pools; an API request that finds its pool empty answers 503
DB-POOL-EXHAUSTED after ``api-pool-timeout`` seconds instead of hanging.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import resil
from qorus_proc import run_qorus, tool
from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine

from qorus_core.db import tables as t
from qorus_core.db.orders import create_orders
from qorus_core.db.wfdefs import find_workflow
from qorus_core.omqdir import OmqDir
from qorus_core.options import load_options
from qorus_server.http.app import build_app
from qorus_server.server import QorusServer

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

ADMIN = ("admin", "Adm1n-Secret")
VIEWER = ("viewer", "V1ew-Secret")
#: 12 connections: 3 for the API, 2 for the heartbeat, 7 for the engine
SMALL = (
    "rbac-security=true",
    "system-pool-maximum=12",
    "db-max-threads=4",
    "api-pool-maximum=3",
    "api-pool-timeout=2",
    "heartbeat-interval=1",
    "workflow-workers=2",
)


def users(omq_dir: Path) -> None:
    for name, pw in (ADMIN, VIEWER):
        role = "superuser" if name == "admin" else "read-only"
        res = tool("user_tool", "--qorus-dir", str(omq_dir), "-A", f"{name},{pw},{role},{name}")
        assert res.returncode == 0, res.stderr


def exec_count(api: str) -> int:
    r = httpx.get(f"{api}/workflows/RESIL-MARKED", auth=ADMIN, timeout=10)
    assert r.status_code == 200, r.text
    return int(r.json()["exec_count"])


def test_start_count_beyond_the_bound_is_refused(omq_dir: Path, start_qorus: Any) -> None:
    users(omq_dir)
    resil.load(omq_dir)  # autostart 1: one instance runs from the start
    q = start_qorus(omq_dir, *SMALL, "workflow-max-instances=4", ready=False)
    q.wait_ready(auth=ADMIN)
    api = f"{q.url}/api/latest"
    wf = f"{api}/workflows/RESIL-MARKED"
    assert exec_count(api) == 1

    for bad in ("5", "1000000", str(2**70), "0", "-1", "abc", "1.5", "", "1e3"):
        r = httpx.put(f"{wf}?action=start&count={bad}", auth=ADMIN, timeout=10)
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["err"] == "INVALID-ARGUMENT" and "count" in r.json()["desc"]
    for bad_body in ({"count": True}, {"count": [1, 2]}, {"count": {"n": 1}}, {"count": None}):
        r = httpx.put(f"{wf}?action=start", json=bad_body, auth=ADMIN, timeout=10)
        assert r.status_code == 400, (bad_body, r.text)
    r = httpx.put(f"{wf}?action=start&count=5", auth=ADMIN, timeout=10)
    assert "workflow-max-instances (4)" in r.json()["desc"]
    assert exec_count(api) == 1  # nothing started by a refused request

    # within the count bound but beyond it with the running one: refused as a whole
    r = httpx.put(f"{wf}?action=start&count=4", auth=ADMIN, timeout=10)
    assert r.status_code == 409 and r.json()["err"] == "WORKFLOW-START-ERROR", r.text
    assert exec_count(api) == 1
    r = httpx.put(f"{wf}?action=start&count=3", auth=ADMIN, timeout=10)
    assert r.status_code == 200 and len(r.json()["ids"]) == 3, r.text
    r = httpx.put(f"{wf}?action=start", auth=ADMIN, timeout=10)
    assert r.status_code == 409 and r.json()["err"] == "WORKFLOW-START-ERROR"
    assert exec_count(api) == 4

    for bad in ("5", str(10**30)):
        r = httpx.put(f"{wf}?action=setAutostart&autostart={bad}", auth=ADMIN, timeout=10)
        assert r.status_code == 400 and "workflow-max-instances" in r.json()["desc"], r.text

    # a stranger and a read-only user start nothing
    r = httpx.put(f"{wf}?action=start&count=1", timeout=10)
    assert r.status_code == 401
    r = httpx.put(f"{wf}?action=stop", auth=VIEWER, timeout=10)
    assert r.status_code == 403
    r = httpx.put(f"{wf}?action=start&count=50", auth=VIEWER, timeout=10)
    assert r.status_code in (400, 403) and ADMIN[1] not in r.text
    assert exec_count(api) == 4
    code, err = q.terminate()
    assert code == 0, err


def heartbeat(engine: Engine, pid: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(
            select(t.sessions.c.heartbeat).where(
                t.sessions.c.pid == pid, t.sessions.c.sessionstatus == "ACTIVE"
            )
        ).scalar_one()


def test_many_busy_instances_leave_the_api_and_heartbeat_alone(
    omq_dir: Path, engine: Engine, db_kind: str, tmp_path: Path, start_qorus: Any
) -> None:
    users(omq_dir)
    resil.load(omq_dir)
    with engine.connect() as conn:
        wfid = find_workflow(conn, "RESIL-MARKED", None)
    static = {"markers": str(tmp_path / "markers"), "sleep": 0.3}
    create_orders(engine, wfid, [{"staticdata": dict(static, i=i)} for i in range(400)])
    q = start_qorus(omq_dir, *SMALL, "workflow-max-instances=25", ready=False)
    q.wait_ready(auth=ADMIN)
    api = f"{q.url}/api/latest"
    # 25 instances, 50 workers, whose steps hold a connection each: the engine pool (7) is dry
    r = httpx.put(f"{api}/workflows/RESIL-MARKED?action=start&count=24", auth=ADMIN, timeout=30)
    assert r.status_code == 200, r.text
    resil.wait_for("the engine pool to be busy", lambda: resil.counts(engine)["I"] >= 7)

    beats = {heartbeat(engine, q.proc.pid)}
    for _ in range(10):  # each call has a bound; none may fail or hang
        r = httpx.post(
            f"{q.url}/api/public/login", json={"user": ADMIN[0], "pass": ADMIN[1]}, timeout=10
        )
        assert r.status_code == 200, r.text
        token = {"Qorus-Token": r.json()["token"]}
        for path in ("system/ping", "workflows/RESIL-MARKED", "orders?limit=5", "system"):
            r = httpx.get(f"{api}/{path}", headers=token, timeout=10)
            assert r.status_code == 200, (path, r.text)
        r = httpx.get(f"{api}/system/health", headers=token, timeout=10)
        assert r.status_code == 200 and r.json()["health"] != "RED", r.text
        beats.add(heartbeat(engine, q.proc.pid))
    resil.wait_for("two more heartbeats", lambda: len(beats | {heartbeat(engine, q.proc.pid)}) > 2)
    assert resil.counts(engine)["I"] > 0  # the premise held throughout: the engine was busy

    if db_kind == "postgresql":  # the server never holds more than its budget (+ the listener)
        with engine.connect() as conn:
            mine = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d"),
                {"d": engine.url.database},
            ).scalar_one()
        # 12 pooled + the wake listener, + at most 5 of this test's own engine
        assert mine <= 12 + 1 + 5, mine
    code, err = q.terminate()
    assert code == 0, err


# ------------------------------------------------------------------ in-process: the 503


@pytest.fixture
def small_server(omq_dir: Path) -> Iterator[QorusServer]:
    omq = OmqDir(omq_dir)
    options = load_options(
        omq, ["http-server=127.0.0.1:0", "api-pool-maximum=2", "api-pool-timeout=1"]
    )
    server = QorusServer(omq, options, version="test", components=[])
    server.step1_options()
    server.step2_logs()
    server.start()
    yield server
    server.request_shutdown("test")
    server.shutdown_steps()
    server.logs.close()
    for lst in server.listeners:
        if lst.sock:
            lst.sock.close()


def call(server: QorusServer, path: str) -> httpx.Response:
    """One request through the server's ASGI app in this thread."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=build_app(server))
        async with httpx.AsyncClient(transport=transport, base_url="http://qorus") as client:
            return await client.get(path)

    return asyncio.run(go())


def test_exhausted_api_pool_answers_503_and_the_heartbeat_pool_is_apart(
    small_server: QorusServer,
) -> None:
    assert small_server.pools is not None
    held: list[Connection] = [small_server.engine.connect() for _ in range(2)]
    try:
        r = call(small_server, "/api/latest/system/sessions")
        assert r.status_code == 503, r.text
        assert r.json()["err"] == "DB-POOL-EXHAUSTED" and "try again" in r.json()["desc"]
        # the heartbeat and the engine still get connections of their own
        done = threading.Event()

        def beat() -> None:
            assert small_server.pools is not None
            with small_server.pools.heartbeat.connect() as conn:
                conn.execute(text("SELECT 1"))
            with small_server.pools.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            done.set()

        th = threading.Thread(target=beat)
        th.start()
        th.join(10)
        assert done.is_set()
        for conn in held:
            conn.close()
        held.clear()
        r = call(small_server, "/api/latest/system/sessions")
        assert r.status_code == 200, r.text
    finally:
        for conn in held:
            conn.close()


@pytest.mark.parametrize(
    ("overrides", "code", "says"),
    [
        (("system-pool-maximum=12", "db-max-threads=4", "api-pool-maximum=9"), 2, "engine"),
        (("system-pool-maximum=12", "db-max-threads=4", "api-pool-maximum=-1"), 9, "api-pool"),
        (("api-pool-maximum=abc",), 9, "api-pool-maximum"),
        (("api-pool-timeout=0",), 9, "api-pool-timeout"),
        (("api-pool-timeout=100000",), 9, "api-pool-timeout"),
        (("workflow-max-instances=0",), 9, "workflow-max-instances"),
        (("stuck-order-timeout=-5",), 9, "stuck-order-timeout"),
    ],
)
def test_bad_pool_options_stop_the_start(
    omq_dir: Path, overrides: tuple[str, ...], code: int, says: str
) -> None:
    res = run_qorus(omq_dir, *overrides, "http-server=127.0.0.1:0")
    assert res.returncode == code, res.stderr
    assert says in res.stderr
