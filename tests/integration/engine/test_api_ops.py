"""The workflows, orders and exec operations in-process through the registry, with a running
WorkflowManager: creation, runs, every order operation and a refusal each, RBAC visibility."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from qorus_core.model.errors import QorusError
from qorus_core.rbac import Principal
from qorus_server.api import REGISTRY, CallContext
from qorus_server.engine.manager import WorkflowManager
from tests.helpers.definitions import add_workflow, noop_step
from tests.helpers.engine import wait_orders

pytestmark = pytest.mark.integration


@pytest.fixture
def api(server: SimpleNamespace, manager: WorkflowManager) -> Any:
    server.workflows = manager

    def call(name: str, user: Any = None, **args: Any) -> Any:
        return REGISTRY.call(name, CallContext(server=server, user=user), args)

    return call


@pytest.fixture
def wfid(engine: Engine) -> int:
    noop_step(engine, "A1", 'wfapi.updateDynamicData({"a1": True})')
    noop_step(engine, "A2")
    return add_workflow(engine, "APIWF", ["A1", "A2"], keys=["cust"])


def err(api: Any, name: str, **args: Any) -> QorusError:
    with pytest.raises(QorusError) as info:
        api(name, **args)
    return info.value


def test_create_run_and_info(api: Any, wfid: int, engine: Engine) -> None:
    started = api("workflows.start", id="APIWF")
    assert started["name"] == "APIWF" and len(started["ids"]) == 1
    res = api(
        "workflows.create-order", id="APIWF:1.0", staticdata={"x": 1}, orderkeys={"cust": "c1"}
    )
    wfiid = res["workflow_instanceid"]
    wait_orders(engine, [wfiid])
    info = api("orders.info", id=str(wfiid))
    assert info["workflowstatus"] == "COMPLETE"
    assert info["dynamicdata"] == {"a1": True} and info["keys"] == {"cust": "c1"}
    assert [s["stepstatus"] for s in info["StepInstances"]] == ["COMPLETE", "COMPLETE"]
    [wf] = [w for w in api("workflows.list") if w["workflowid"] == wfid]
    assert wf["COMPLETE"] == 1 and wf["TOTAL"] == 1 and wf["exec_count"] == 1
    assert api("workflows.info", id=str(wfid))["exec"][0]["executionID"] == started["ids"][0]
    found = api("workflows.orders", id="APIWF", keyname="cust", keyvalue="c1")
    assert [o["workflow_instanceid"] for o in found] == [wfiid]
    assert api("orders.search", status="COMPLETE", workflowid=str(wfid))[0]["name"] == "APIWF"
    assert [s["name"] for s in api("workflows.stepinfo", id="APIWF")] == ["A1", "A2"]
    [ex] = api("exec.list")
    assert api("exec.info", id=str(ex["executionID"]))["name"] == "APIWF"
    stopped = api("exec.stop-all")
    assert stopped["count"] == 1 and stopped["workflows"] == {"APIWF v1.0": [ex["executionID"]]}
    assert api("exec.list") == []


def test_bad_arguments_and_unknowns(api: Any, wfid: int) -> None:
    e = err(api, "workflows.create-order", id="APIWF", staticdata={}, priority=1000)
    assert (e.http_status, e.code) == (400, "ORDER-DATA-ERROR")
    e = err(api, "workflows.create-order", id="APIWF", staticdata={}, status="FOO")
    assert e.http_status == 400
    e = err(api, "workflows.create-order", id="APIWF", staticdata={}, orderkeys={"nokey": 1})
    assert (e.http_status, e.code) == (409, "WORKFLOW-KEY-ERROR")
    assert err(api, "workflows.info", id="NOSUCH").http_status == 404
    assert err(api, "orders.info", id="999999").http_status == 404
    assert err(api, "orders.retry", id="999999").http_status == 404
    assert err(api, "orders.search", status="FOO").http_status == 400
    assert err(api, "orders.search", nosuch=1).http_status == 400
    assert err(api, "workflows.start", id="APIWF", mode="FAST").http_status == 400
    assert err(api, "exec.info", id="12345").http_status == 404


def test_order_operations_and_refusals(api: Any, wfid: int, engine: Engine) -> None:
    # no running instance: orders stay where the operations put them
    [a, b] = [
        api("workflows.create-order", id="APIWF", staticdata={"n": n})["workflow_instanceid"]
        for n in range(2)
    ]
    e = err(api, "orders.retry", id=a)
    assert (e.http_status, e.code) == (409, "STATUS-ERROR")
    assert api("orders.block", id=a)["workflow_status"] == "BLOCKED"
    assert err(api, "orders.block", id=a).code == "BLOCK-WORKFLOW-ERROR"
    assert api("orders.unblock", id=a)["workflow_status"] == "READY"
    assert err(api, "orders.unblock", id=a).code == "BLOCK-WORKFLOW-ERROR"
    assert api("orders.cancel", id=a)["workflow_status"] == "CANCELED"
    assert api("orders.uncancel", id=a)["workflow_status"] == "READY"
    assert err(api, "orders.uncancel", id=a).code == "CANCEL-WORKFLOW-ERROR"
    assert api("orders.set-priority", id=a, priority="7")["priority"] == 7
    assert err(api, "orders.set-priority", id=a, priority=1000).http_status == 400
    res = api("orders.reschedule", id=a, date="2999-01-01T00:00:00")
    assert res["workflow_status"] == "SCHEDULED"
    assert err(api, "orders.set-error", id=a).code == "WORKFLOW-STATUS-ERROR"
    assert api("orders.static-data", id=a, newdata={"n": 9})["staticdata"] == {"n": 9}
    assert api("orders.dynamic-data", id=a, newdata="{d: 1}")["dynamicdata"] == {"d": 1}
    assert api("orders.update-keys", id=a, orderkeys={"cust": "k"})["keys"] == {"cust": ["k"]}
    assert err(api, "orders.update-keys", id=a, orderkeys={"x": "k"}).http_status == 409
    assert err(api, "orders.static-data", id=a, newdata={}).http_status == 400
    assert api("orders.add-note", id=a, note="hello")["note"] == "hello"
    assert [n["note"] for n in api("orders.notes", id=a)] == ["hello"]
    e = err(api, "orders.skip-step", id=a, stepid=1)
    assert e.code in ("SKIP-STEP-ERROR", "STEP-STATUS-ERROR")
    bulk = api("orders.block-many", ids=f"{a},{b}")
    assert [r.get("workflow_status") for r in bulk] == ["BLOCKED", "BLOCKED"]
    bulk = api("orders.retry-many", ids=[a, b])
    assert all(r["error"]["err"] == "STATUS-ERROR" for r in bulk)
    api("orders.unblock-many", ids=[a, b])
    api("orders.cancel-many", ids=[b])
    assert api("orders.info", id=b)["workflowstatus"] == "CANCELED"
    api("orders.uncancel-many", ids=[b])
    # an instance starts and runs the READY one
    api("workflows.start", id=str(wfid))
    wait_orders(engine, [b])
    assert api("orders.info", id=b)["workflowstatus"] == "COMPLETE"
    e = err(api, "orders.cancel", id=b)
    assert (e.http_status, e.code) == (409, "CANCEL-WORKFLOW-ERROR")


def test_workflow_control(api: Any, wfid: int, server: SimpleNamespace) -> None:
    server.options.set("autostart-interfaces", True)
    res = api("workflows.set-autostart", id="APIWF", autostart=2)
    assert res["autostart"] == 2 and res["started"] == 2
    assert api("workflows.dec-autostart", id="APIWF")["autostart"] == 1
    assert len(api("exec.list")) == 1
    assert api("workflows.inc-autostart", id="APIWF")["autostart"] == 2
    assert api("workflows.disable", id="APIWF")["workflowid"] == wfid
    assert api("exec.list") == []
    assert err(api, "workflows.start", id="APIWF").code == "WORKFLOW-START-ERROR"
    api("workflows.enable", id="APIWF")
    assert len(api("exec.list")) == 2
    assert "deleted from the cache" in api("workflows.reset", id="APIWF")
    assert api("workflows.stop", id="APIWF")["count"] == 2
    api("workflows.set-autostart", id="APIWF", autostart=0)
    assert err(api, "workflows.dec-autostart", id="APIWF").code == "WORKFLOW-SETAUTOSTART-ERROR"
    assert api("workflows.set-options", id="APIWF", options={"max-retries": 2}) == {
        "max-retries": 2
    }
    assert err(api, "workflows.set-options", id="APIWF", options={"nosuch": 1}).http_status == 409
    ids = api("workflows.start-many", ids="APIWF,NOSUCH")
    assert [d["started"] for d in ids] == [True, False]
    many = api("exec.stop-many", args=["APIWF"])
    assert many["count"] == 1 and many["msg"] == "1 workflow execution instance has been stopped"


def test_rbac_visibility(api: Any, wfid: int, engine: Engine) -> None:
    noop_step(engine, "B1")
    other = add_workflow(engine, "HIDDEN", ["B1"])
    user = Principal(
        username="ann",
        description="",
        roles=frozenset({"r"}),
        permissions=frozenset({"LOGIN", "SUBMIT-ORDER", "RETRY-WORKFLOW-ORDER"}),
        all_interfaces=False,
        group_ids=frozenset({5}),
        workflow_ids=frozenset({wfid}),
        service_ids=frozenset(),
        job_ids=frozenset(),
    )
    assert [w["name"] for w in api("workflows.list", user=user)] == ["APIWF"]
    hidden = api("workflows.create-order", id="HIDDEN", staticdata={})["workflow_instanceid"]
    seen = api("workflows.create-order", user=user, id="APIWF", staticdata={})
    assert err(api, "workflows.info", user=user, id="HIDDEN").code == "AUTHORIZATION-ERROR"
    e = err(api, "workflows.create-order", user=user, id=str(other), staticdata={})
    assert e.http_status == 403
    assert err(api, "orders.info", user=user, id=hidden).http_status == 403
    ids = [o["workflow_instanceid"] for o in api("orders.search", user=user)]
    assert ids == [seen["workflow_instanceid"]]
    assert api("orders.search", user=user, workflowid=str(other)) == []
    assert err(api, "workflows.start", user=user, id="APIWF").code == "AUTHORIZATION-ERROR"
