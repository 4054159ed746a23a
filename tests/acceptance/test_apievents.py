"""``/apievents`` against a real server with a real WebSocket client (``websockets``): events
arrive as orders run, ``ping`` answers ``pong``, a filter message changes what arrives, a
login is required (Basic, the Qorus-Token header or a browser's ``token``), the RPC event
methods and their REST forms answer the same events."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import Qorus, tool
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

DATA = Path(__file__).resolve().parent / "data" / "wf"
ADMIN = ("admin", "Adm1n-Secret")


def basic(user: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def ws_url(q: Qorus, query: str = "") -> str:
    return f"ws://127.0.0.1:{q.port}/apievents{query}"


def receive(ws: ClientConnection, timeout: float = 10.0) -> Any:
    return json.loads(ws.recv(timeout=timeout))


def collect(ws: ClientConnection, want: Any, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Events received until ``want(events)`` holds."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not want(got):
        left = deadline - time.monotonic()
        assert left > 0, [e["eventstr"] for e in got]
        msg = receive(ws, left)
        assert isinstance(msg, list), msg  # arrays are always events
        got.extend(msg)
    return got


@pytest.fixture
def server(omq_dir: Path, start_qorus: Any) -> Iterator[Qorus]:
    d = ["--qorus-dir", str(omq_dir)]
    res = tool("oload", *d, str(DATA))
    assert res.returncode == 0, res.stderr + res.stdout
    res = tool("user_tool", *d, "-A", f"{ADMIN[0]},{ADMIN[1]},superuser,Admin")
    assert res.returncode == 0, res.stderr
    q = start_qorus(omq_dir, "rbac-security=true", ready=False)
    q.wait_ready(auth=ADMIN)
    yield q


def rest(q: Qorus, method: str, path: str, **body: Any) -> Any:
    r = httpx.request(
        method, f"{q.url}/api/latest/{path}", json=body or None, auth=ADMIN, timeout=30
    )
    assert r.status_code in (200, 201), r.text
    return r.json()


def test_events_arrive_as_orders_run(server: Qorus) -> None:
    with connect(ws_url(server), additional_headers=basic(*ADMIN)) as ws:
        ws.send("ping")
        assert ws.recv(timeout=10) == "pong"
        rest(server, "PUT", "workflows/ACC-SIMPLE?action=start")
        ids = [
            int(
                rest(
                    server,
                    "POST",
                    "workflows/ACC-SIMPLE?action=createOrder",
                    staticdata={"ref": f"r{i}"},
                )["workflow_instanceid"]
            )
            for i in range(3)
        ]

        def done(events: list[dict[str, Any]]) -> bool:
            finished = {
                e["info"]["workflow_instanceid"]
                for e in events
                if e["eventstr"] == "WORKFLOW_STATUS_CHANGED"
                and e["info"]["info"]["new"] == "COMPLETE"
            }
            return finished >= set(ids)

        events = collect(ws, done)
    keys = {"id", "time", "class", "classstr", "event", "eventstr", "severity", "severitystr"}
    assert all(keys | {"caller", "info"} <= set(e) for e in events)
    ids_seen = [e["id"] for e in events]
    assert ids_seen == sorted(ids_seen) and len(set(ids_seen)) == len(ids_seen)
    changes = [
        (e["info"]["workflow_instanceid"], e["info"]["info"]["old"], e["info"]["info"]["new"])
        for e in events
        if e["eventstr"] == "WORKFLOW_STATUS_CHANGED"
    ]
    for wfiid in ids:
        mine = [(o, n) for i, o, n in changes if i == wfiid]
        assert mine == [("READY", "IN-PROGRESS"), ("IN-PROGRESS", "COMPLETE")]
    submitted = [e for e in events if e["eventstr"] == "WORKFLOW_DATA_SUBMITTED"]
    assert submitted and submitted[0]["caller"]["user"] == "admin"
    assert submitted[0]["caller"]["api"].startswith("REST POST /api/latest/workflows/ACC-SIMPLE")


def test_a_filter_message_changes_what_arrives(server: Qorus) -> None:
    with connect(ws_url(server), additional_headers=basic(*ADMIN)) as ws:
        ws.send(json.dumps([{"eventstr": "WORKFLOW_DATA_SUBMITTED"}]))
        ack = receive(ws)
        assert ack == {"filter": {"or": [{"eventstr": "WORKFLOW_DATA_SUBMITTED"}]}}
        ws.send(json.dumps([{"bogus": 1}]))
        bad = receive(ws)
        assert bad["err"] == "INVALID-CRITERIA-CODE" and "bogus" in bad["desc"]
        ws.send("hello")
        assert ws.recv(timeout=10) == "error: unknown command"
        rest(server, "PUT", "workflows/ACC-SIMPLE?action=start")
        wfiid = int(
            rest(
                server, "POST", "workflows/ACC-SIMPLE?action=createOrder", staticdata={"ref": "f"}
            )["workflow_instanceid"]
        )
        [ev] = collect(ws, lambda got: len(got) >= 1)
        assert ev["eventstr"] == "WORKFLOW_DATA_SUBMITTED"
        assert ev["info"]["workflow_instanceid"] == wfiid
        # the old filter (the bad one was refused) keeps STATUS_CHANGED out
        for _ in range(100):
            if rest(server, "GET", f"orders/{wfiid}")["workflowstatus"] == "COMPLETE":
                break
            time.sleep(0.1)
        ws.send("ping")
        assert ws.recv(timeout=10) == "pong"  # nothing came before the answer
        # an info criterion: only this order's status changes
        ws.send(json.dumps({"or": [{"info": {"workflow_instanceid": wfiid + 1}}]}))
        assert "filter" in receive(ws)
        other = int(
            rest(
                server, "POST", "workflows/ACC-SIMPLE?action=createOrder", staticdata={"ref": "g"}
            )["workflow_instanceid"]
        )
        assert other == wfiid + 1
        got = collect(
            ws,
            lambda g: any(
                e["eventstr"] == "WORKFLOW_STATUS_CHANGED"
                and e["info"]["info"]["new"] == "COMPLETE"
                for e in g
            ),
        )
        assert {e["info"]["workflow_instanceid"] for e in got} == {other}
        ws.send("null")  # everything again
        assert receive(ws) == {"filter": []}


def test_logins_of_a_websocket(server: Qorus) -> None:
    with pytest.raises(InvalidStatus) as exc, connect(ws_url(server)):
        pass
    assert exc.value.response.status_code == 401
    assert b"AUTHENTICATION-ERROR" in exc.value.response.body
    with (
        pytest.raises(InvalidStatus) as exc,
        connect(ws_url(server), additional_headers=basic("admin", "wrong")),
    ):
        pass
    assert exc.value.response.status_code == 401
    r = httpx.post(f"{server.url}/api/public/login", json={"user": ADMIN[0], "pass": ADMIN[1]})
    token = r.json()["token"]
    with connect(ws_url(server), additional_headers={"Qorus-Token": token}) as ws:
        ws.send("ping")
        assert ws.recv(timeout=10) == "pong"
    with connect(ws_url(server, f"?token={token}")) as ws:  # a browser's way
        ws.send("ping")
        assert ws.recv(timeout=10) == "pong"
    with pytest.raises(InvalidStatus) as exc, connect(ws_url(server, "?token=not-a-token")):
        pass
    assert exc.value.response.status_code == 401


def test_rpc_and_rest_answer_the_same_events(server: Qorus) -> None:
    last = rest(server, "GET", "system/events?action=lastId")
    assert isinstance(last, int) and last >= 1  # SYSTEM_STARTUP at least
    rest(server, "PUT", "workflows/ACC-SIMPLE?action=start")
    rest(server, "POST", "workflows/ACC-SIMPLE?action=createOrder", staticdata={"ref": "x"})
    r = httpx.post(
        f"{server.url}/JSON",
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "omq.system.wait-for-events",
            "params": [last + 1, 10_000, [{"eventstr": "WORKFLOW_DATA_SUBMITTED"}]],
        },
        auth=ADMIN,
        timeout=30,
    )
    ans = r.json()["result"]
    assert [e["eventstr"] for e in ans["events"]] == ["WORKFLOW_DATA_SUBMITTED"]
    query = f"action=wait&min_id={last + 1}&filter=[{{eventstr: WORKFLOW_DATA_SUBMITTED}}]"
    same = rest(server, "GET", f"system/events?{query}")
    assert same["events"] == ans["events"]
    tail = rest(server, "GET", "system/events?count=2")
    assert len(tail["events"]) == 2 and tail["lastid"] >= ans["lastid"]
