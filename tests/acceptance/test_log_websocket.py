"""``/log`` against a real server with a real WebSocket client (``websockets``): the lines a
workflow logs while its orders run arrive as they are written, a rotation
(``rotateLogFiles``) does not end the stream, the token may come as a query argument, and
clients that go away -- politely or by dropping the connection -- leave no thread behind."""

from __future__ import annotations

import base64
import os
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import Qorus, free_port, tool
from websockets.sync.client import ClientConnection, connect

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]
DATA = Path(__file__).parent / "data" / "logwf"
PW = "Log-Secret-1"


def basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{PW}".encode()).decode()}


@pytest.fixture(scope="module")
def server(db_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Qorus]:
    base = tmp_path_factory.mktemp("logws")
    omq = base / "omq"
    for sub in ("etc", "log", "user", "var"):
        (omq / sub).mkdir(parents=True)
    url = db_factory.fresh().render_as_string(hide_password=False)
    (omq / "etc" / "options").write_text(f"qorus.systemdb = {url}\n")
    shutil.copytree(DATA, base / "data")
    d = ["--qorus-dir", str(omq)]
    res = tool("oload", *d, str(base / "data"))
    assert res.returncode == 0, res.stderr + res.stdout
    res = tool(
        "user_tool",
        *d,
        "-A",
        f"admin,{PW},superuser",
        "-g",
        "talkers:desc=the talking workflow,workflows=LOG-TALKER",
        "-R",
        "talk-ops:operates the talker:LOGIN,WORKFLOW-CONTROL,SUBMIT-ORDER:talkers",
        "-A",
        f"ann,{PW},talk-ops",
    )
    assert res.returncode == 0, res.stderr
    q = Qorus(omq, free_port(), ["rbac-security=true"])
    try:
        q.wait_ready(auth=("admin", PW))
        yield q
    finally:
        q.kill()


def ws_url(q: Qorus, path: str) -> str:
    return q.url.replace("http://", "ws://") + path


def read_until(ws: ClientConnection, wanted: set[str], timeout: float = 30) -> list[str]:
    """Messages until every text of ``wanted`` has been seen at the end of one."""
    got: list[str] = []
    missing = set(wanted)
    deadline = time.monotonic() + timeout
    while missing:
        left = deadline - time.monotonic()
        assert left > 0, f"still waiting for {sorted(missing)}; got {got[-10:]}"
        msg = str(ws.recv(timeout=left))
        got.append(msg)
        missing = {w for w in missing if not msg.endswith(w)}
    return got


def api(q: Qorus, method: str, path: str, who: str = "admin", **body: Any) -> Any:
    r = httpx.request(
        method, f"{q.url}/api/latest/{path}", json=body or None, auth=(who, PW), timeout=30
    )
    assert r.status_code in (200, 201), r.text
    return r.json()


def test_lines_a_workflow_logs_arrive_while_its_orders_run(server: Qorus) -> None:
    path = "/log/workflows/LOG-TALKER?lines=0"
    with connect(ws_url(server, path), additional_headers=basic("ann")) as ws:
        api(server, "PUT", "workflows/LOG-TALKER?action=start", who="ann")
        for ref in ("o1", "o2"):
            api(
                server,
                "POST",
                "workflows/LOG-TALKER?action=createOrder",
                "ann",
                staticdata={"ref": ref},
            )
        got = read_until(ws, {f"talker {r} line {i}" for r in ("o1", "o2") for i in range(3)})
        # in the order they were written, each line whole
        o1 = [g for g in got if "talker o1" in g]
        assert [g.rsplit(" ", 1)[1] for g in o1] == ["0", "1", "2"]
        assert all("[INFO]: talker" in g for g in o1)
        ws.send("ping")
        read_until(ws, {"pong"})
    # the last lines first
    with connect(
        ws_url(server, "/log/workflows/LOG-TALKER?lines=2"), additional_headers=basic("ann")
    ) as ws:
        first = [str(ws.recv(timeout=10)), str(ws.recv(timeout=10))]
        assert first[-1].endswith("line 2")


def test_a_rotation_does_not_end_the_stream(server: Qorus) -> None:
    api(server, "PUT", "workflows/LOG-TALKER?action=start")
    path = "/log/workflows/LOG-TALKER?lines=0"
    with connect(ws_url(server, path), additional_headers=basic("admin")) as ws:
        api(server, "POST", "workflows/LOG-TALKER?action=createOrder", staticdata={"ref": "r1"})
        read_until(ws, {"talker r1 line 2"})
        api(server, "PUT", "system/rotateLogFiles")
        api(server, "POST", "workflows/LOG-TALKER?action=createOrder", staticdata={"ref": "r2"})
        read_until(ws, {f"talker r2 line {i}" for i in range(3)})
    logs = sorted(p.name for p in (server.omq / "log").iterdir() if "LOG-TALKER" in p.name)
    assert len(logs) >= 2  # the rotated file and the new one


def test_the_system_log_with_the_token_as_a_query_argument(server: Qorus) -> None:
    r = httpx.post(f"{server.url}/api/public/login", json={"user": "admin", "pass": PW})
    token = r.json()["token"]
    with connect(ws_url(server, f"/log/system?lines=0&token={token}")) as ws:
        r = httpx.get(f"{server.url}/api/latest/system/ping", auth=("nobody", "wrong"))
        assert r.status_code == 401
        line = read_until(ws, {"wrong user name or password"})[-1]
        assert "login failed (basic): user 'nobody' from 127.0.0.1" in line
    http_logs = "".join(p.read_text() for p in (server.omq / "log").glob("*HTTP.log*"))
    assert token not in http_logs  # the handshake's log line masks it
    assert '"WebSocket /log/system?lines=0&token=********" [accepted]' in http_logs


def _threads(q: Qorus) -> int:
    return len(list(Path(f"/proc/{q.proc.pid}/task").iterdir()))


def test_clients_that_go_away_leave_no_thread_behind(server: Qorus) -> None:
    url = ws_url(server, "/log/system?lines=1")

    def polite() -> None:
        with connect(url, additional_headers=basic("admin")) as ws:
            ws.recv(timeout=10)

    def rude() -> None:  # the handshake, then the connection just drops: no close frame
        key = base64.b64encode(os.urandom(16)).decode()
        head = (
            "GET /log/system?lines=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: {basic('admin')['Authorization']}\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(head.encode())
            assert b" 101 " in sock.recv(65536).split(b"\r\n", 1)[0] + b" "

    for _ in range(3):  # warm-up: the server's worker threads exist now
        polite()
        rude()
    time.sleep(1)
    before = _threads(server)
    for _ in range(15):
        polite()
        rude()
    deadline = time.monotonic() + 10
    while _threads(server) > before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _threads(server) <= before
    # and the server still streams
    polite()
