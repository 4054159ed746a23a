"""The system event stream from a hostile or careless client, against a real server with RBAC
on: WebSockets without a login, hostile filter messages (deep, huge, wrong types, binary),
hostile filters and timeouts over RPC and REST, a user outside a workflow's group, and a
flood of events with a client that never reads (the server stays small, the client is cut
off, posting never waits for it)."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import Qorus, tool
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

DATA = Path(__file__).resolve().parents[1] / "acceptance" / "data" / "wf"
ADMIN = ("admin", "Adm1n-Secret")
VIEWER = ("viewer", "V1ew-Secret")
NOLOGIN = ("nologin", "N0login-Secret")
LEAKS = ("Traceback", "sqlalchemy", "psycopg", "pymysql", "sqlite3")

FLOOD_SVC = """\
type: service
name: flood
version: "1.0"
desc: posts user events
servicetype: USER
lang: python
class-name: Flood
code: flood-1.0.qsd.py
methods:
  - name: flood
    desc: posts n user events
"""
FLOOD_PY = """\
from svc import QorusService


class Flood(QorusService):
    def flood(self, n):
        for i in range(int(n)):
            UserApi.postUserEvent("INFO", {"i": i, "pad": "x" * 300})
        return int(n)
"""


def basic(user: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


@pytest.fixture(scope="module")
def server(db_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Qorus]:
    from qorus_proc import free_port

    base = tmp_path_factory.mktemp("events")
    root = base / "omq"
    for sub in ("etc", "log", "user", "var"):
        (root / sub).mkdir(parents=True)
    url = db_factory.fresh().render_as_string(hide_password=False)
    (root / "etc" / "options").write_text(f"qorus.systemdb = {url}\n")
    data = base / "data"
    data.mkdir()
    for f in DATA.iterdir():
        (data / f.name).write_text(f.read_text())
    (data / "flood-1.0.qsd.yaml").write_text(FLOOD_SVC)
    (data / "flood-1.0.qsd.py").write_text(FLOOD_PY)
    d = ["--qorus-dir", str(root)]
    res = tool("oload", *d, str(data))
    assert res.returncode == 0, res.stderr + res.stdout
    for args in (
        ["-g", "FAILS:desc=only the failing workflow,workflows=ACC-FAIL"],
        ["-R", "limited:only FAILS:LOGIN:FAILS"],
        ["-R", "nothing:no login:SHUTDOWN"],
        ["-A", f"{ADMIN[0]},{ADMIN[1]},superuser,Admin"],
        ["-A", f"{VIEWER[0]},{VIEWER[1]},limited,Viewer"],
        ["-A", f"{NOLOGIN[0]},{NOLOGIN[1]},nothing,No login"],
    ):
        res = tool("user_tool", *d, *args)
        assert res.returncode == 0, res.stderr + res.stdout
    q = Qorus(root, free_port(), ["rbac-security=true", "max-events=2000"])
    try:
        q.wait_ready(auth=ADMIN)
        yield q
    finally:
        q.kill()


def ws_url(q: Qorus) -> str:
    return f"ws://127.0.0.1:{q.port}/apievents"


def rest(q: Qorus, method: str, path: str, auth: tuple[str, str] = ADMIN, **kw: Any) -> Any:
    r = httpx.request(method, f"{q.url}/api/latest/{path}", auth=auth, timeout=60, **kw)
    assert r.status_code in (200, 201), r.text
    return r.json()


def test_a_websocket_needs_a_login_with_login(server: Qorus) -> None:
    for headers, status in (
        ({}, 401),
        ({"Authorization": "Basic !!!"}, 401),
        ({"Authorization": "Bearer x"}, 401),
        (basic("admin", "wrong"), 401),
        (basic("a\x01b" * 100, "x"), 401),
        ({"Qorus-Token": "x" * 5000}, 401),
        (basic(*NOLOGIN), 403),
    ):
        with (
            pytest.raises(InvalidStatus) as exc,
            connect(ws_url(server), additional_headers=headers),
        ):
            pass
        assert exc.value.response.status_code == status, headers
        body = exc.value.response.body.decode()
        assert json.loads(body)["err"] in ("AUTHENTICATION-ERROR", "AUTHORIZATION-ERROR")
        assert not any(w in body for w in LEAKS)
    assert rest(server, "GET", "system/ping") == "OK"


def test_hostile_filter_messages_are_answered_and_change_nothing(server: Qorus) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    hostile: list[Any] = [
        deep,
        "{" * 50_000,
        json.dumps([{"info": {"a": {"b": {"c": {"d": {"e": 1}}}}}}]),
        json.dumps([{"class": "x" * 100_000}]),
        json.dumps([{"all": True}] * 5000),
        json.dumps([{"eventstrhash": {str(i): True for i in range(1000)}}]),
        json.dumps({"or": 5}),
        json.dumps([[[]]]),
        json.dumps([{"minseverity": 1e300}]),
        "[" + "1," * 40_000 + "1]",
        b"\x00\xff" * 10,
        "x" * 70_000,
    ]
    with connect(ws_url(server), additional_headers=basic(*ADMIN), max_size=2**22) as ws:
        for msg in hostile:
            ws.send(msg)
            answer = ws.recv(timeout=10)
            if answer.startswith("{"):
                body = json.loads(answer)
                assert "err" in body and "desc" in body, answer[:200]
                assert len(answer) < 2000 and not any(w in answer for w in LEAKS)
            else:
                assert answer == "error: unknown command", answer[:200]
        ws.send("ping")
        assert ws.recv(timeout=10) == "pong"
        # the filter in force is still "everything": an event arrives
        rest(server, "PUT", "system?action=rotateLogFiles")
        rest(server, "GET", "system/health")
        ws.send(json.dumps([{"classstr": "SYSTEM"}]))
        assert "filter" in json.loads(ws.recv(timeout=10))


def test_hostile_filters_and_timeouts_over_rpc_and_rest(server: Qorus) -> None:
    deep: Any = {"all": 1}
    for _ in range(200):
        deep = {"info": deep}
    cases: list[list[Any]] = [
        [1, 0, deep],
        [1, 0, [deep]],
        [1, 0, "x" * 100_000],
        [1, 0, [{"class": [1, 2]}]],
        [1, 0, [{"info": 5}]],
        [1, -1],
        [1, 2**70],
        [1, "soon"],
        [-5, 0],
        ["x", 0],
    ]
    for i, params in enumerate(cases):
        call = {"jsonrpc": "2.0", "id": i, "method": "omq.system.wait-for-events"}
        r = httpx.post(
            f"{server.url}/JSON", json={**call, "params": params}, auth=ADMIN, timeout=60
        )
        assert not any(w in r.text for w in LEAKS), r.text[:300]
        ans = r.json()
        # refused as params (-32602), or the whole body refused for its depth (-32600/-32700)
        assert ans["error"]["code"] in (-32602, -32600, -32700), (params, ans)
    api = f"{server.url}/api/latest/system/events"
    for query, arg in (
        ("action=wait&timeout_ms=-1", "timeout_ms"),
        ("action=wait&timeout_ms=1e9", "timeout_ms"),
        ("action=wait&min_id=abc", "min_id"),
        ("count=-2", "count"),
        ("filter=" + "[" * 5000, "filter"),
        ("filter={a: [", "filter"),
    ):
        r = httpx.get(f"{api}?{query}", auth=ADMIN, timeout=30)
        assert r.status_code == 400 and arg in r.json()["desc"], (query, r.text[:300])


def test_a_user_outside_a_workflows_group_gets_none_of_its_events(server: Qorus) -> None:
    with connect(ws_url(server), additional_headers=basic(*VIEWER)) as ws:
        rest(server, "PUT", "workflows/ACC-SIMPLE?action=start")
        rest(server, "PUT", "workflows/ACC-FAIL?action=start")
        hidden = rest(
            server,
            "POST",
            "workflows/ACC-SIMPLE?action=createOrder",
            json={"staticdata": {"ref": "hidden"}},
        )["workflow_instanceid"]
        shown = rest(
            server, "POST", "workflows/ACC-FAIL?action=createOrder", json={"staticdata": {}}
        )["workflow_instanceid"]
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + 30
        while not any(
            e["eventstr"] == "WORKFLOW_STATUS_CHANGED"
            and e["info"]["workflow_instanceid"] == shown
            and e["info"]["info"]["new"] == "ERROR"
            for e in got
        ):
            assert time.monotonic() < deadline, got
            got.extend(json.loads(ws.recv(timeout=30)))
        # the hidden order has long finished too (it started first): nothing of it came
        for _ in range(100):
            if rest(server, "GET", f"orders/{hidden}")["workflowstatus"] == "COMPLETE":
                break
            time.sleep(0.1)
        ws.send("ping")
        while (msg := ws.recv(timeout=10)) != "pong":
            got.extend(json.loads(msg))
    simple = rest(server, "GET", "workflows/ACC-SIMPLE")["workflowid"]
    assert not [e for e in got if e["info"].get("workflowid") == simple]
    assert not [e for e in got if e["info"].get("workflow_instanceid") == hidden]
    assert {e["classstr"] for e in got} <= {"WORKFLOW", "SYSTEM"}
    # the RPC and REST forms filter the same way
    last = rest(server, "GET", "system/events?count=0", auth=VIEWER)
    assert not [e for e in last["events"] if e["info"].get("workflowid") == simple]
    assert [e for e in last["events"] if e["info"].get("workflow_instanceid") == shown]


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _raw_client(server: Qorus) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads."""
    s = socket.create_connection(("127.0.0.1", server.port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    auth = basic(*ADMIN)["Authorization"]
    s.sendall(
        (
            "GET /apievents HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Version: 13\r\nAuthorization: {auth}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return s


def test_a_flood_with_a_client_that_never_reads(server: Qorus) -> None:
    rest(server, "PUT", "services/flood?action=load")
    rest(server, "PUT", "services/flood/flood?action=call", json={"args": [2000]})  # warm up
    before = _rss_kb(server.proc.pid)
    slow = _raw_client(server)
    try:
        t0 = time.monotonic()
        n = rest(server, "PUT", "services/flood/flood?action=call", json={"args": [100_000]})
        posting = time.monotonic() - t0
        assert n == 100_000
        # posting never waited for the client: 100000 events in well under the time a
        # blocked client would have cost at one send timeout per batch
        assert posting < 60, posting
        grown = _rss_kb(server.proc.pid) - before
        # the events themselves would take ~45 MB; the server keeps max-events (2000)
        assert grown < 40_000, f"the server grew by {grown} kB"
        # the client is cut off: what was buffered, then a close 4008 (too slow), then EOF
        slow.settimeout(60)
        data = b""
        while chunk := slow.recv(1 << 20):
            data += chunk
        tail = data[-300:]
        assert b"\x88" in tail and (4008).to_bytes(2, "big") in tail, tail[-80:]
    finally:
        slow.close()
    # everything else goes on
    assert rest(server, "GET", "system/ping") == "OK"
    with connect(ws_url(server), additional_headers=basic(*ADMIN)) as ws:
        ws.send("ping")
        assert ws.recv(timeout=10) == "pong"
    last = rest(server, "GET", "system/events?count=0")
    assert len(last["events"]) <= 2000


def test_a_huge_wait_ends_at_shutdown(server: Qorus) -> None:
    """(Last: it stops the server.) A wait of a huge timeout ends at once when the system
    shuts down, answering ``shutdown``, and does not hold the shutdown up."""
    last = rest(server, "GET", "system/events?action=lastId")
    out: list[Any] = []

    def wait() -> None:
        r = httpx.get(
            f"{server.url}/api/latest/system/events",
            params={"action": "wait", "min_id": last + 10_000, "timeout_ms": 10**12},
            auth=ADMIN,
            timeout=120,
        )
        out.append(r)

    th = threading.Thread(target=wait)
    th.start()
    time.sleep(1.0)
    assert th.is_alive()
    t0 = time.monotonic()
    r = httpx.put(f"{server.url}/api/latest/system?action=shutdown", auth=ADMIN, timeout=30)
    assert r.status_code == 200, r.text
    th.join(30)
    assert not th.is_alive() and time.monotonic() - t0 < 20
    [answer] = out
    assert answer.status_code == 200 and answer.json()["shutdown"] is True
    code, err = server.wait_exit(60)
    assert code == 0, err
