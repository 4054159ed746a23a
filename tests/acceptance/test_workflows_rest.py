"""Workflows, orders and execution instances over REST against one real ``qorus``: definitions
loaded with ``oload``, orders created with qrest and httpx, run to COMPLETE, searched and
operated on; ostart / ostop; a failing step fixed with ``oload`` + reset, then retried."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import Qorus, api, create, free_port, get, put, tool, wait_status

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]
DATA = Path(__file__).parent / "data" / "wf"
DEMO = Path(__file__).resolve().parents[2] / "releases" / "demo" / "demo.qrf"


@pytest.fixture(scope="module")
def server(db_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Qorus]:
    base = tmp_path_factory.mktemp("wfrest")
    root = base / "omq"
    for sub in ("etc", "log", "user", "var"):
        (root / sub).mkdir(parents=True)
    url = db_factory.fresh().render_as_string(hide_password=False)
    port = free_port()
    (root / "etc" / "options").write_text(
        f"qorus.systemdb = {url}\nqorus-client.client-url = http://127.0.0.1:{port}\n"
    )
    data = base / "data"
    shutil.copytree(DATA, data)
    res = tool("oload", "--qorus-dir", str(root), str(data), str(DEMO))
    assert res.returncode == 0, res.stderr + res.stdout
    q = Qorus(root, port, ["recover_delay=1"])
    q.data = data  # type: ignore[attr-defined]
    try:
        q.wait_ready()
        yield q
        res = tool("qrest", "-u", q.url, "put", "system/shutdownWait")
        assert res.returncode == 0, res.stderr
        assert q.wait_exit()[0] == 0
    finally:
        q.kill()


def refused(server: Qorus, method: str, path: str, http: int, err: str, **body: Any) -> None:
    r = httpx.request(method, api(server, path), json=body or None, timeout=30)
    assert r.status_code == http, r.text
    assert r.json()["err"] == err, r.text


def qrest(server: Qorus, *args: str) -> str:
    res = tool("qrest", "-u", server.url, *args)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_resources_listed(server: Qorus) -> None:
    assert httpx.get(f"{server.url}/api/latest").json() == [
        "async-queues",
        "exec",
        "groups",
        "jobresults",
        "jobs",
        "logout",
        "orders",
        "perms",
        "public",
        "roles",
        "services",
        "sync-events",
        "system",
        "users",
        "workflows",
    ]


def test_orders_run_to_complete(server: Qorus) -> None:
    started = put(server, "workflows/ACC-SIMPLE?action=start")
    assert started["name"] == "ACC-SIMPLE" and len(started["ids"]) == 1
    by_httpx = create(server, "ACC-SIMPLE", staticdata={"ref": "h1"}, priority=10)
    out = qrest(server, "post", "workflows/ACC-SIMPLE:1.0/createOrder", "staticdata={ref: q1}")
    by_qrest = int(out.split(":")[1])
    for wfiid, ref in ((by_httpx, "h1"), (by_qrest, "q1")):
        info = wait_status(server, wfiid, "COMPLETE")
        assert info["name"] == "ACC-SIMPLE" and info["version"] == "1.0"
        assert info["keys"] == {"ref": ref}
        assert info["dynamicdata"] == {"first": ref, "second": True}
        assert [(s["stepname"], s["stepstatus"]) for s in info["StepInstances"]] == [
            ("AccFirst", "COMPLETE"),
            ("AccSecond", "COMPLETE"),
        ]
        for key in ("started", "completed", "modified", "priority", "ErrorInstances", "notes"):
            assert key in info
    assert get(server, f"orders/{by_httpx}")["priority"] == 10
    found = get(server, "orders", keyname="ref", keyvalue="h1")
    assert [o["workflow_instanceid"] for o in found] == [by_httpx]
    found = get(server, "workflows/ACC-SIMPLE/orders", status="COMPLETE", sort="started")
    assert {o["workflow_instanceid"] for o in found} >= {by_httpx, by_qrest}
    assert get(server, "orders", ids=f"{by_qrest}", limit=1)[0]["workflowstatus"] == "COMPLETE"
    [wf] = [w for w in get(server, "workflows") if w["name"] == "ACC-SIMPLE"]
    assert wf["COMPLETE"] >= 2 and wf["TOTAL"] == wf["COMPLETE"] and wf["exec_count"] == 1
    assert get(server, "workflows/ACC-SIMPLE")["COMPLETE"] == wf["COMPLETE"]
    assert put(server, "workflows/ACC-SIMPLE?action=stop")["count"] == 1


def test_bad_requests(server: Qorus) -> None:
    refused(
        server,
        "POST",
        "workflows/ACC-SIMPLE?action=createOrder",
        400,
        "ORDER-DATA-ERROR",
        staticdata={},
        priority=1000,
    )
    refused(
        server,
        "POST",
        "workflows/ACC-SIMPLE?action=createOrder",
        400,
        "ORDER-DATA-ERROR",
        staticdata={},
        status="FOO",
    )
    refused(
        server,
        "POST",
        "workflows/ACC-SIMPLE?action=createOrder",
        409,
        "WORKFLOW-KEY-ERROR",
        staticdata={},
        orderkeys={"nokey": "x"},
    )
    refused(
        server, "POST", "workflows/NOSUCH?action=createOrder", 404, "WORKFLOW-ERROR", staticdata={}
    )
    refused(server, "GET", "orders?status=FOO", 400, "ORDER-SEARCH-ERROR")
    refused(server, "GET", "orders/99999999", 404, "ORDER-NOT-FOUND")
    refused(server, "PUT", "orders/99999999?action=retry", 404, "ORDER-NOT-FOUND")
    refused(server, "GET", "workflows/createOrder", 404, "WORKFLOW-ERROR")
    refused(server, "GET", "exec/4242", 404, "INVALID-WORKFLOW-EXECUTION-ID")
    refused(server, "GET", "workflows/ACC-SIMPLE?action=createOrder", 405, "METHOD-NOT-ALLOWED")


def test_order_operations(server: Qorus) -> None:
    """With no instance running, the orders stay where the operations put them."""
    a = create(server, "ACC-SIMPLE", staticdata={"ref": "ops-a"})
    b = create(server, "ACC-SIMPLE", staticdata={"ref": "ops-b"}, status="BLOCKED")
    assert get(server, f"orders/{b}")["workflowstatus"] == "BLOCKED"
    refused(server, "PUT", f"orders/{a}?action=retry", 409, "STATUS-ERROR")
    refused(server, "PUT", f"orders/{a}?action=unblock", 409, "BLOCK-WORKFLOW-ERROR")
    refused(server, "PUT", f"orders/{a}?action=uncancel", 409, "CANCEL-WORKFLOW-ERROR")
    refused(server, "PUT", f"orders/{a}?action=setError", 409, "WORKFLOW-STATUS-ERROR")
    refused(server, "PUT", f"orders/{a}?action=skipStep", 409, "SKIP-STEP-ERROR", stepid=1)
    refused(server, "PUT", f"orders/{a}?action=setPriority", 400, "ORDER-DATA-ERROR", priority=1000)
    refused(
        server,
        "PUT",
        f"orders/{a}?action=updateKeys",
        409,
        "WORKFLOW-KEY-ERROR",
        orderkeys={"nokey": "x"},
    )
    assert put(server, f"orders/{a}/block")["workflow_status"] == "BLOCKED"
    assert put(server, f"orders/{a}/unblock")["workflow_status"] == "READY"
    assert put(server, f"orders/{a}/cancel")["workflow_status"] == "CANCELED"
    assert put(server, f"orders/{a}/uncancel")["workflow_status"] == "READY"
    assert put(server, f"orders/{a}/setPriority", priority=3)["priority"] == 3
    res = put(server, f"orders/{a}/reschedule", date="2999-01-01T00:00:00")
    assert res["workflow_status"] == "SCHEDULED"
    put(server, f"orders/{a}/reschedule")
    assert get(server, f"orders/{a}")["workflowstatus"] == "READY"
    put(server, f"orders/{a}/staticData", newdata={"ref": "ops-a2"})
    put(server, f"orders/{a}/dynamicData", newdata={"pre": 1})
    put(server, f"orders/{a}/updateKeys", orderkeys={"ref": "before"})
    r = httpx.post(api(server, f"orders/{a}/notes"), json={"note": "checked"}, timeout=30)
    assert r.status_code == 200 and r.json()["note"] == "checked"
    assert [n["note"] for n in get(server, f"orders/{a}/notes")] == ["checked"]
    info = get(server, f"orders/{a}")
    assert info["staticdata"] == {"ref": "ops-a2"} and info["dynamicdata"] == {"pre": 1}
    assert info["keys"] == {"ref": "before"} and info["priority"] == 3
    assert len(info["notes"]) == 1
    bulk = put(server, "orders?action=block", ids=f"{a},{b}")
    assert [x.get("workflow_status") for x in bulk] == ["BLOCKED", None]
    assert bulk[1]["error"]["err"] == "BLOCK-WORKFLOW-ERROR"
    bulk = put(server, "orders?action=unblock", ids=[a, b])
    assert [x["workflow_status"] for x in bulk] == ["READY", "READY"]
    assert put(server, "orders?action=cancel", ids=[b])[0]["workflow_status"] == "CANCELED"
    assert put(server, "orders?action=uncancel", ids=[b])[0]["workflow_status"] == "READY"
    assert put(server, "orders?action=retry", ids=[b])[0]["error"]["err"] == "STATUS-ERROR"
    refused(server, "PUT", "orders?action=retry", 400, "INVALID-ARGUMENT")
    c = create(server, "ACC-SIMPLE", staticdata={"ref": "ops-c"}, status="BLOCKED")
    assert put(server, f"orders/{c}/setError")["workflow_status"] == "ERROR"
    assert put(server, f"orders/{c}/retry")["workflow_status"] == "RETRY"
    # a running instance takes them to COMPLETE; the steps ran with the changed data
    put(server, "workflows/ACC-SIMPLE?action=start")
    wait_status(server, c, "COMPLETE")
    assert wait_status(server, a, "COMPLETE")["dynamicdata"] == {
        "pre": 1,
        "first": "ops-a2",
        "second": True,
    }
    wait_status(server, b, "COMPLETE")
    refused(server, "PUT", f"orders/{a}?action=cancel", 409, "CANCEL-WORKFLOW-ERROR")
    refused(
        server, "PUT", f"orders/{a}?action=setPriority", 409, "WORKFLOW-STATUS-ERROR", priority=1
    )
    put(server, "workflows/ACC-SIMPLE?action=stop")


def test_workflow_control(server: Qorus) -> None:
    res = put(server, "workflows/ACC-SIMPLE?action=setAutostart", autostart=2)
    assert res["autostart"] == 2 and res["started"] == 2
    assert len([e for e in get(server, "exec") if e["name"] == "ACC-SIMPLE"]) == 2
    assert put(server, "workflows/ACC-SIMPLE/decAutostart")["autostart"] == 1
    assert put(server, "workflows/ACC-SIMPLE/incAutostart")["autostart"] == 2
    put(server, "workflows/ACC-SIMPLE/disable")
    assert get(server, "workflows/ACC-SIMPLE")["enabled"] is False
    assert [e for e in get(server, "exec") if e["name"] == "ACC-SIMPLE"] == []
    refused(server, "PUT", "workflows/ACC-SIMPLE?action=start", 409, "WORKFLOW-START-ERROR")
    put(server, "workflows/ACC-SIMPLE/enable")
    assert get(server, "workflows/ACC-SIMPLE")["exec_count"] == 2
    assert put(server, "workflows/ACC-SIMPLE/setAutostart", autostart=0)["started"] == -2
    refused(server, "PUT", "workflows/ACC-SIMPLE/decAutostart", 409, "WORKFLOW-SETAUTOSTART-ERROR")
    refused(
        server,
        "PUT",
        "workflows/ACC-SIMPLE/setAutostart",
        400,
        "INVALID-ARGUMENT",
        autostart="many",
    )
    opts = put(server, "workflows/ACC-SIMPLE/setOptions", options={"max-retries": 2})
    assert opts == {"max-retries": 2}
    assert get(server, "workflows/ACC-SIMPLE")["options"]["max-retries"]["value"] == 2
    refused(
        server,
        "PUT",
        "workflows/ACC-SIMPLE/setOptions",
        409,
        "WORKFLOW-OPTION-ERROR",
        options={"nosuch": 1},
    )
    assert "deleted from the cache" in put(server, "workflows/ACC-SIMPLE/reset")
    assert isinstance(put(server, "workflows?action=resetAll"), list)
    started = put(server, "workflows?action=start", ids="ACC-SIMPLE,NOSUCH")
    assert [s["started"] for s in started] == [True, False]
    assert put(server, "workflows?action=stopAll")["count"] >= 1
    assert get(server, "exec") == []
    steps = get(server, "workflows/ACC-SIMPLE/stepinfo")
    assert [s["name"] for s in steps] == ["AccFirst", "AccSecond"]
    assert get(server, "workflows/ORDER-FULFILMENT/errors")[0]["error"] == "CARRIER-UNAVAILABLE"


def test_ostart_ostop(server: Qorus) -> None:
    res = tool("ostart", "-u", server.url, "ACC-SIMPLE", "1.0")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("started ACC-SIMPLE v1.0 with ID ")
    first = int(res.stdout.split()[-1])
    res = tool("ostart", "-u", server.url, "ACC-SIMPLE", "NORMAL")
    second = int(res.stdout.split()[-1])
    assert {e["executionID"] for e in get(server, "exec")} == {first, second}
    assert get(server, f"exec/{first}")["mode"] == "NORMAL"
    res = tool("ostop", "-u", server.url, str(first))
    assert (res.returncode, res.stdout) == (0, "1 workflow execution instance has been stopped\n")
    res = tool("ostop", "-u", server.url, "-v", "ACC-SIMPLE", "1.0")
    assert res.returncode == 0, res.stderr
    assert res.stdout == (
        f"1 workflow execution instance has been stopped\nACC-SIMPLE v1.0: {second}\n"
    )
    tool("ostart", "-u", server.url, "ACC-SIMPLE")
    tool("ostart", "-u", server.url, "ACC-FAIL")
    res = tool("ostop", "-u", server.url, "-a")
    assert res.stdout == "2 workflow execution instances have been stopped\n"
    # errors: REST error 1 (err and desc), bad arguments 1, server down 2; the URL from -W
    res = tool("ostart", "-u", server.url, "NOSUCH")
    assert res.returncode == 1 and "WORKFLOW-ERROR" in res.stderr and "NOSUCH" in res.stderr
    res = tool("ostart", "-u", server.url, "ACC-SIMPLE", "1.0", "FAST")
    assert res.returncode == 1 and "INVALID-ARGUMENT" in res.stderr
    res = tool("ostop", "-u", server.url, "4242")
    assert res.returncode == 1 and "INVALID-WORKFLOW-EXECUTION-ID" in res.stderr
    res = tool("ostop", "-u", server.url, "-a", "ACC-SIMPLE")
    assert res.returncode == 1 and "excess arguments" in res.stderr
    res = tool("ostart", "-u", f"http://127.0.0.1:{free_port()}", "ACC-SIMPLE")
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    res = tool("ostop", "-u", f"http://127.0.0.1:{free_port()}", "-a")
    assert res.returncode == 2 and "cannot reach the server" in res.stderr
    res = tool("ostart", "--qorus-dir", str(server.omq), "-W")
    assert (res.returncode, res.stdout.strip()) == (0, server.url)


def test_step_error_fixed_and_retried(server: Qorus) -> None:
    put(server, "workflows/ACC-FAIL?action=start")
    wfiid = create(server, "ACC-FAIL", staticdata={})
    info = wait_status(server, wfiid, "ERROR")
    [err] = info["ErrorInstances"]
    assert err["error"] == "ValueError" and "broken" in err["description"] + str(err["info"])
    assert info["StepInstances"][0]["stepstatus"] == "ERROR"
    assert get(server, "workflows/ACC-FAIL")["ERROR"] == 1
    # fix the code, load it, reset the workflow, retry the order
    data: Path = server.data  # type: ignore[attr-defined]
    code = data / "AccBroken-1.0.qstep.py"
    code.write_text(
        code.read_text().replace(
            'raise ValueError("the step is broken")', 'wfapi.updateDynamicData({"fixed": True})'
        )
    )
    res = tool("oload", "--qorus-dir", str(server.omq), str(data / "AccBroken-1.0.qstep.yaml"))
    assert res.returncode == 0, res.stderr + res.stdout
    put(server, "workflows/ACC-FAIL?action=reset")
    assert put(server, f"orders/{wfiid}?action=retry")["workflow_status"] == "RETRY"
    info = wait_status(server, wfiid, "COMPLETE")
    assert info["dynamicdata"] == {"fixed": True}
    assert info["StepInstances"][0]["stepstatus"] == "COMPLETE"
    put(server, "workflows/ACC-FAIL?action=stop")
