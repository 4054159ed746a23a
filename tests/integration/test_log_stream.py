"""``/log`` in-process (the real app over a real schema, Starlette's test client): the system
log and an interface's log streamed as they grow, the last lines first, a rotation followed,
interface groups applied, and nothing left running when a client goes away."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from starlette.exceptions import StarletteDeprecationWarning
from starlette.routing import WebSocketRoute

from qorus_core import rbac
from qorus_core.omqdir import OmqDir
from qorus_server.http.app import build_app
from qorus_server.http.logstream import LogStream
from qorus_server.logs import Logs
from tests.helpers.engine import make_server
from tests.integration.rbac_helpers import add_interface

with warnings.catch_warnings():  # it asks for httpx2; httpx is what the project has
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient, WebSocketDenialResponse

pytestmark = pytest.mark.integration

PW = "Secret-123!"


def basic(user: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{PW}".encode()).decode()}


@pytest.fixture
def setup(engine: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, Any, LogStream]]:
    wf_a = add_interface(engine, "workflow", "WF-A", "1.0")
    add_interface(engine, "workflow", "WF-B", "1.0")
    add_interface(engine, "service", "SVC-A", "1.0")
    add_interface(engine, "job", "JOB-A", "1.0")
    with engine.begin() as conn:
        rbac.add_group(conn, "G1", "group one", workflows=["WF-A"], services=["SVC-A"])
        rbac.add_role(conn, "g1-reader", "sees G1", ["LOGIN"], ["G1"])
        rbac.add_role(conn, "nothing", "sees nothing", ["LOGIN"], [])
        policy = rbac.PasswordPolicy()
        rbac.add_user(conn, "admin", PW, ["superuser"], policy=policy)
        rbac.add_user(conn, "ann", PW, ["g1-reader"], policy=policy)
        rbac.add_user(conn, "bob", PW, ["nothing"], policy=policy)
    server = make_server(engine, **{"rbac-security": True, "instance-key": "t"})
    server.omq = OmqDir(tmp_path / "omq").ensure()
    server.logs = Logs(server.omq, server.options)
    server.wf_a = wf_a
    app = build_app(server)  # type: ignore[arg-type]
    stream = next(
        r.endpoint.__self__
        for r in app.routes
        if isinstance(r, WebSocketRoute) and r.path == "/log/{path:path}"
    )
    try:
        with TestClient(app) as client:
            yield client, server, stream
    finally:
        server.logins.close()
        server.logs.close()


def test_system_log_last_lines_then_new_ones(setup: Any) -> None:
    client, server, _ = setup
    for i in range(5):
        server.logs.system.info("old %d", i)
    with client.websocket_connect("/log/system?lines=2", headers=basic("admin")) as ws:
        assert ws.receive_text().endswith("old 3")
        assert ws.receive_text().endswith("old 4")
        server.logs.system.info("fresh line")
        assert ws.receive_text().endswith("[INFO]: fresh line")
        ws.send_text("ping")
        assert ws.receive_text() == "pong"
    with client.websocket_connect("/log/qorus-core", headers=basic("admin")) as ws:
        assert ws.receive_text().endswith("old 0")  # 100 lines by default: all six


def test_a_workflows_log_by_name_and_id_and_the_groups_apply(setup: Any) -> None:
    client, server, _ = setup
    wflog = server.logs.get_logger("WF", "WF-A")
    wflog.info("step one ran")
    for ref in ("WF-A", "WF-A:1.0", str(server.wf_a)):
        with client.websocket_connect(f"/log/workflows/{ref}?lines=1", headers=basic("ann")) as ws:
            assert ws.receive_text().endswith("step one ran")
    with client.websocket_connect("/log/workflows/WF-A?lines=0", headers=basic("ann")) as ws:
        wflog.info("step two ran")
        assert ws.receive_text().endswith("step two ran")
    svclog = server.logs.get_logger("SVC", "SVC-A")
    svclog.info("service said")
    with client.websocket_connect("/log/services/SVC-A", headers=basic("ann")) as ws:
        assert ws.receive_text().endswith("service said")
    for who, path in (
        ("ann", "/log/workflows/WF-B"),
        ("ann", "/log/jobs/JOB-A"),
        ("ann", "/log/system"),
        ("ann", "/log/http"),
        ("bob", "/log/workflows/WF-A"),
    ):
        with (
            pytest.raises(WebSocketDenialResponse) as info,
            client.websocket_connect(path, headers=basic(who)),
        ):
            pass
        assert info.value.status_code == 403, (who, path)
        assert info.value.json()["err"] == "AUTHORIZATION-ERROR"


def test_a_log_not_written_yet_streams_once_it_is(setup: Any) -> None:
    client, server, _ = setup
    with client.websocket_connect("/log/jobs/JOB-A", headers=basic("admin")) as ws:
        server.logs.get_logger("JOB", "JOB-A").info("the job ran")
        assert ws.receive_text().endswith("the job ran")


def test_rotation_keeps_streaming_the_new_file(setup: Any) -> None:
    client, server, _ = setup
    wflog = server.logs.get_logger("WF", "WF-A")
    with client.websocket_connect("/log/workflows/WF-A?lines=0", headers=basic("admin")) as ws:
        wflog.info("before rotation")
        assert ws.receive_text().endswith("before rotation")
        server.logs.rotate()
        wflog.info("after rotation")
        assert ws.receive_text().endswith("after rotation")
        server.logs.rotate()
        wflog.info("after the second")
        assert ws.receive_text().endswith("after the second")


def test_the_token_may_come_as_a_query_argument(setup: Any) -> None:
    client, server, _ = setup
    principal = server.logins.password_login("admin", PW, "test", "basic")
    token = server.logins.issue_token(principal)
    server.logs.system.info("for the token")
    with client.websocket_connect(f"/log/system?lines=1&token={token}") as ws:
        assert ws.receive_text().endswith("for the token")
    with client.websocket_connect("/log/system?lines=1", headers={"qorus-token": token}) as ws:
        assert ws.receive_text().endswith("for the token")


def _running(client: TestClient) -> int:
    async def count() -> int:
        return len(asyncio.all_tasks())

    assert client.portal is not None
    return int(client.portal.call(count))


def test_clients_that_go_away_leave_no_task_and_no_thread(setup: Any) -> None:
    client, server, stream = setup

    def session(n: int) -> None:
        with client.websocket_connect("/log/workflows/WF-A?lines=1", headers=basic("admin")) as ws:
            server.logs.get_logger("WF", "WF-A").info("line %d", n)
            ws.receive_text()
            assert stream.active == 1

    session(0)  # warm-up: the thread pool of the database work exists now
    deadline = time.monotonic() + 5
    while stream.active and time.monotonic() < deadline:
        time.sleep(0.01)
    tasks, threads = _running(client), threading.active_count()
    for n in range(1, 21):
        session(n)
    deadline = time.monotonic() + 5
    while (stream.active or _running(client) > tasks) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert stream.active == 0
    assert _running(client) <= tasks
    assert threading.active_count() <= threads
