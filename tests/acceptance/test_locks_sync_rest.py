"""Operator locks, execSynchronous and UserApi.callRestApi against a real ``qorus`` with
``rbac-security`` on: users made by ``user-tool``, definitions loaded by ``oload``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import tool

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]
DATA = Path(__file__).parent / "data" / "extra"
ADMIN = ("admin", "Adm1n-Secret")
ANN = ("ann", "Ann-Secret1")
BOB = ("bob", "Bob-Secret1")
OPS = "LOGIN,SUBMIT-ORDER,EXEC-SYNC-WORKFLOW,RETRY-WORKFLOW-ORDER,LOCK-WORKFLOW-ORDER"


def _setup(omq: Path) -> None:
    d = ["--qorus-dir", str(omq)]
    for args in (
        ["-R", f"ops:Operators:{OPS}:DEFAULT"],
        ["-A", f"{ADMIN[0]},{ADMIN[1]},superuser,Admin"],
        ["-A", f"{ANN[0]},{ANN[1]},ops,Ann"],
        ["-A", f"{BOB[0]},{BOB[1]},ops,Bob"],
    ):
        res = tool("user_tool", *d, *args)
        assert res.returncode == 0, res.stderr + res.stdout
    res = tool("oload", *d, str(DATA))
    assert res.returncode == 0, res.stderr + res.stdout


def test_locks_sync_and_self_calls(omq_dir: Path, start_qorus: Any) -> None:
    _setup(omq_dir)
    q = start_qorus(omq_dir, "rbac-security=true", ready=False)
    q.wait_ready(auth=ADMIN)
    api = f"{q.url}/api/latest"

    def call(method: str, path: str, auth: tuple[str, str], **body: Any) -> httpx.Response:
        return httpx.request(method, f"{api}/{path}", json=body or None, auth=auth, timeout=60)

    # execSynchronous: the answer is the order's final info, also when it ends in ERROR
    r = call("POST", "workflows/ACC-CHECK?action=execSynchronous", ANN, staticdata={"ok": True})
    assert r.status_code == 201, r.text
    done = r.json()
    assert done["status"] == "COMPLETE" and done["dynamicdata"] == {"checked": True}
    r = call("POST", "workflows/ACC-CHECK/execSynchronous", ANN, staticdata={})
    assert r.status_code == 201, r.text
    failed = r.json()
    assert failed["status"] == "ERROR" and failed["error"]["error"] == "CHECK-FAILED"
    wfiid = int(failed["workflow_instanceid"])
    info = call("GET", f"orders/{wfiid}", ANN).json()
    assert info["workflowstatus"] == "ERROR" and info["synchronous"] is False
    # no permission, no synchronous execution
    r = call("POST", "workflows/ACC-CHECK?action=execSynchronous", ("nobody", "x"), staticdata={})
    assert r.status_code == 401

    # ann locks the failed order: bob can neither retry it nor unlock it
    r = call("PUT", f"orders/{wfiid}?action=lock", ANN, note="checking the customer")
    assert r.status_code == 200 and r.json() == "OK", r.text
    info = call("GET", f"orders/{wfiid}", BOB).json()
    assert info["operator_lock"] == "ann"
    assert info["notes"][-1]["note"] == "ORDER LOCK: checking the customer"
    r = call("PUT", f"orders/{wfiid}?action=retry", BOB)
    assert r.status_code == 409 and r.json()["err"] == "WORKFLOW-ORDER-LOCKED", r.text
    r = call("PUT", f"orders/{wfiid}?action=unlock", BOB)
    assert r.status_code == 409 and r.json()["err"] == "LOCK-ERROR", r.text
    r = call("PUT", f"orders/{wfiid}?action=breakLock", BOB, note="mine now")
    assert r.status_code == 403 and r.json()["err"] == "AUTHORIZATION-ERROR"
    # qrest shows the same refusal
    res = tool("qrest", "-u", q.url, "-U", f"{BOB[0]}:{BOB[1]}", "put", f"orders/{wfiid}/retry")
    assert res.returncode == 1 and "WORKFLOW-ORDER-LOCKED" in res.stdout + res.stderr
    # the admin breaks the lock; then bob may retry
    r = call("PUT", f"orders/{wfiid}?action=breakLock", ADMIN, note="ann is on leave")
    assert r.status_code == 200, r.text
    info = call("GET", f"orders/{wfiid}", BOB).json()
    assert info["operator_lock"] is None
    assert info["notes"][-1]["note"] == "BREAK ORDER LOCK: ann is on leave"
    r = call("PUT", f"orders/{wfiid}?action=retry", BOB)
    assert r.status_code == 200 and r.json()["workflow_status"] == "RETRY", r.text

    # a step calls the server's REST API in-process and runs a synchronous child order
    r = call("POST", "workflows/ACC-SELFCALL?action=createOrder", ANN, staticdata={})
    assert r.status_code == 201, r.text
    selfcall = int(r.json()["workflow_instanceid"])
    deadline = time.monotonic() + 60
    while (info := call("GET", f"orders/{selfcall}", ANN).json())["workflowstatus"] not in (
        "COMPLETE",
        "ERROR",
    ):
        assert time.monotonic() < deadline, info["workflowstatus"]
        time.sleep(0.1)
    assert info["workflowstatus"] == "COMPLETE", info["ErrorInstances"]
    key = call("GET", "system/instance-key", ANN).json()
    dd = info["dynamicdata"]
    assert dd["instance_key"] == key and dd["my_status"] == "IN-PROGRESS"
    assert dd["child"] == "COMPLETE"
    assert dd["session"] == call("GET", "system", ANN).json()["session-id"]

    r = call("PUT", "system/shutdown", ADMIN)
    assert r.status_code == 200
    assert q.wait_exit()[0] == 0
