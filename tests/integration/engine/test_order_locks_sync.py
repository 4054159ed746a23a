"""Operator locks, synchronous execution and UserApi.callRestApi in-process, through the
registry with a running WorkflowManager."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from qorus_core.db import order_locks
from qorus_core.db import tables as t
from qorus_core.db.claims import claim_batch
from qorus_core.model.errors import QorusError
from qorus_server.api import REGISTRY, CallContext, Principal
from qorus_server.engine.manager import WorkflowManager
from qorus_server.http.routes import RestRouter
from tests.helpers.definitions import add_workflow, noop_step
from tests.helpers.engine import error_rows, wait_orders

pytestmark = pytest.mark.integration

OPS = frozenset(
    {
        "LOGIN",
        "RETRY-WORKFLOW-ORDER",
        "CANCEL-WORKFLOW-ORDER",
        "BLOCK-WORKFLOW-ORDER",
        "EDIT-WORKFLOW-DATA",
        "SET-ORDER-INFO",
        "LOCK-WORKFLOW-ORDER",
    }
)
ANN = Principal("ann", OPS)
BOB = Principal("bob", OPS)
BOSS = Principal("boss", OPS | {"BREAK-WORKFLOW-ORDER-LOCK"})


@pytest.fixture
def api(server: SimpleNamespace, manager: WorkflowManager) -> Any:
    server.workflows = manager
    server.registry = REGISTRY
    server.router = RestRouter(REGISTRY)

    def call(name: str, user: Any = None, **args: Any) -> Any:
        return REGISTRY.call(name, CallContext(server=server, user=user, transport="rest"), args)

    return call


def err(api: Any, name: str, **args: Any) -> QorusError:
    with pytest.raises(QorusError) as info:
        api(name, **args)
    return info.value


@pytest.fixture
def failing(api: Any, engine: Engine) -> int:
    """A workflow whose step fails (ERROR) unless the static data says ``ok``."""
    noop_step(
        engine,
        "L1",
        "if not wfapi.getStaticData('ok'):\n"
        "    raise RuntimeError('not ok')\n"
        "wfapi.updateDynamicData({'done': True})",
    )
    return add_workflow(engine, "LOCKWF", ["L1"])


def _error_order(api: Any, engine: Engine) -> int:
    api("workflows.start", id="LOCKWF")
    wfiid = int(api("workflows.create-order", id="LOCKWF", staticdata={})["workflow_instanceid"])
    wait_orders(engine, [wfiid])
    return wfiid


def test_lock_blocks_other_operators(api: Any, failing: int, engine: Engine) -> None:
    wfiid = _error_order(api, engine)
    assert api("orders.lock", user=ANN, id=wfiid, note="investigating") == "OK"
    info = api("orders.info", id=wfiid)
    assert info["operator_lock"] == "ann"
    assert info["notes"][0]["note"] == "ORDER LOCK: investigating"
    assert info["notes"][0]["username"] == "ann"
    # bob cannot change it, nor lock or unlock it
    for name, args in (
        ("orders.retry", {}),
        ("orders.cancel", {}),
        ("orders.block", {}),
        ("orders.static-data", {"newdata": {"a": 1}}),
        ("orders.dynamic-data", {"newdata": {"a": 1}}),
    ):
        e = err(api, name, user=BOB, id=wfiid, **args)
        assert (e.code, e.http_status) == ("WORKFLOW-ORDER-LOCKED", 409), name
        assert "ann" in e.desc
    assert err(api, "orders.lock", user=BOB, id=wfiid, note="x").code == "LOCK-ERROR"
    assert err(api, "orders.unlock", user=BOB, id=wfiid).code == "LOCK-ERROR"
    # the bulk form reports the refusal per order
    [res] = api("orders.retry-many", user=BOB, ids=str(wfiid))
    assert res["error"]["err"] == "WORKFLOW-ORDER-LOCKED"
    # notes are not changes
    api("orders.add-note", user=BOB, id=wfiid, note="seen")
    assert api("orders.info", id=wfiid)["workflowstatus"] == "ERROR"
    # the holder can; an unlock frees it for others
    assert api("orders.block", user=ANN, id=wfiid)["workflow_status"] == "BLOCKED"
    assert api("orders.unlock", user=ANN, id=wfiid, note="done") == "OK"
    assert api("orders.info", id=wfiid)["operator_lock"] is None
    assert api("orders.unblock", user=BOB, id=wfiid)["workflow_status"] == "ERROR"
    notes = [n["note"] for n in api("orders.notes", id=wfiid)]
    assert notes == ["ORDER UNLOCK: done", "seen", "ORDER LOCK: investigating"]


def test_break_lock_and_permissions(api: Any, failing: int, engine: Engine) -> None:
    wfiid = _error_order(api, engine)
    api("orders.lock", user=ANN, id=wfiid, note="mine")
    # breakLock needs BREAK-WORKFLOW-ORDER-LOCK
    e = err(api, "orders.break-lock", user=BOB, id=wfiid, note="x")
    assert (e.code, e.http_status) == ("AUTHORIZATION-ERROR", 403)
    nolock = Principal("carl", frozenset({"LOGIN"}))
    assert err(api, "orders.lock", user=nolock, id=wfiid, note="x").http_status == 403
    e = err(api, "orders.break-lock", user=BOSS, id=wfiid)
    assert (e.code, e.http_status) == ("ORDER-ERROR", 400)
    assert api("orders.break-lock", user=BOSS, id=wfiid, note="ann is away") == "OK"
    info = api("orders.info", id=wfiid)
    assert info["operator_lock"] is None
    assert info["notes"][-1]["note"] == "BREAK ORDER LOCK: ann is away"
    assert info["notes"][-1]["username"] == "boss"
    assert api("orders.retry", user=BOB, id=wfiid)["workflow_status"] == "RETRY"
    # lock needs a note; an unknown order is 404
    assert err(api, "orders.lock", user=ANN, id=wfiid).http_status == 400
    assert err(api, "orders.lock", user=ANN, id=999999, note="x").http_status == 404


def test_lock_without_rbac_and_data_layer(
    api: Any, failing: int, engine: Engine, server: SimpleNamespace
) -> None:
    wfiid = _error_order(api, engine)
    # RBAC off: REST callers are the anonymous operator "-", in-process ones the system
    assert api("orders.lock", id=wfiid, note="anon") == "OK"
    assert order_locks.get_lock(engine, wfiid) == "-"
    assert api("orders.retry", id=wfiid)["workflow_status"] == "RETRY"
    e = err(api, "orders.cancel", user=ANN, id=wfiid)
    assert e.code == "WORKFLOW-ORDER-LOCKED"
    # an in-process caller is the system, not the anonymous REST operator
    with pytest.raises(QorusError) as refused:
        REGISTRY.call("orders.unlock", CallContext(server=server), {"id": wfiid})
    assert refused.value.code == "LOCK-ERROR"
    with engine.begin() as conn, pytest.raises(QorusError) as info:
        order_locks.check_lock(conn, wfiid, "%SYS%")
    assert info.value.code == "WORKFLOW-ORDER-LOCKED"
    assert order_locks.unlock_order(engine, wfiid, "-") == "OK"
    with engine.begin() as conn:
        order_locks.check_lock(conn, wfiid, "%SYS%")


# ---------------------------------------------------------------------- synchronous


def test_exec_synchronous_complete_and_error(
    api: Any, failing: int, engine: Engine, manager: WorkflowManager
) -> None:
    done = api("workflows.exec-synchronous", id="LOCKWF", staticdata={"ok": True}, priority=5000)
    assert done["status"] == "COMPLETE" and done["dynamicdata"] == {"done": True}
    assert "error" not in done
    wi = t.workflow_instance
    with engine.connect() as conn:
        row = conn.execute(
            select(wi.c.synchronous, wi.c.priority, wi.c.status_sessionid).where(
                wi.c.workflow_instanceid == done["workflow_instanceid"]
            )
        ).one()
    assert tuple(row) == (False, 999, 0)  # flag cleared at the end; priority clamped
    failed = api("workflows.exec-synchronous", id=str(failing), staticdata={})
    assert failed["status"] == "ERROR" and failed["dynamicdata"] is None
    assert failed["error"]["error"] == "RuntimeError"
    assert "not ok" in failed["error"]["description"]
    # no normal execution instance was needed, and none is left over
    assert manager.list_executions() == []
    e = err(api, "workflows.exec-synchronous", id="LOCKWF", staticdata={}, scheduled="2099-01-01")
    assert e.http_status == 400
    e = err(api, "workflows.exec-synchronous", user=BOB, id="LOCKWF", staticdata={})
    assert e.code == "AUTHORIZATION-ERROR"


def test_exec_synchronous_retries_until_final(api: Any, engine: Engine) -> None:
    noop_step(
        engine,
        "R1",
        "n = (wfapi.getDynamicData('n') or 0) + 1\n"
        "wfapi.updateDynamicData({'n': n})\n"
        "if n < 3:\n"
        "    wfapi.stepError('TEMP', 'try again', 0)",
    )
    add_workflow(engine, "RETRYWF", ["R1"], errors={"TEMP": {"status": "RETRY"}})
    res = api("workflows.exec-synchronous", id="RETRYWF", staticdata={})
    assert res["status"] == "COMPLETE" and res["dynamicdata"] == {"n": 3}


def test_normal_instances_skip_synchronous_orders(
    api: Any, failing: int, engine: Engine, server: SimpleNamespace
) -> None:
    wfiid = int(api("workflows.create-order", id="LOCKWF", staticdata={})["workflow_instanceid"])
    wi = t.workflow_instance
    with engine.begin() as conn:
        conn.execute(update(wi).where(wi.c.workflow_instanceid == wfiid).values(synchronous=True))
    with engine.begin() as conn:
        assert claim_batch(conn, failing, server.sessionid, 10) == []
    with engine.begin() as conn:
        conn.execute(update(wi).where(wi.c.workflow_instanceid == wfiid).values(synchronous=False))
    with engine.begin() as conn:
        claimed = claim_batch(conn, failing, server.sessionid, 10)
    assert [c.workflow_instanceid for c in claimed] == [wfiid]


# ---------------------------------------------------------------------- UserApi in step code


def test_step_calls_rest_api_and_sync_workflow(api: Any, failing: int, engine: Engine) -> None:
    noop_step(
        engine,
        "C1",
        "from qorus_core.model.errors import QorusError\n"
        "ping = UserApi.callRestApi('GET', 'system/ping')\n"
        "info = UserApi.callRestApi('GET', '/api/latest/orders/' + "
        "str(wfapi.getWfiid()))\n"
        "try:\n"
        "    UserApi.callRestApi('GET', 'no/such/thing')\n"
        "    missing = None\n"
        "except QorusError as exc:\n"
        "    missing = [exc.code, exc.http_status]\n"
        "sub = UserApi.execSynchronousWorkflow('LOCKWF', {'ok': True})\n"
        "wfapi.updateDynamicData({'ping': ping, 'status': info['workflowstatus'],\n"
        "    'missing': missing, 'sub': [sub['status'], sub['dynamicdata']],\n"
        "    'sub_id': sub['workflow_instanceid']})",
    )
    add_workflow(engine, "CALLER", ["C1"])
    api("workflows.start", id="CALLER")
    wfiid = int(api("workflows.create-order", id="CALLER", staticdata={})["workflow_instanceid"])
    assert wait_orders(engine, [wfiid]) == {wfiid: "C"}, error_rows(engine, wfiid)
    dd = api("orders.info", id=wfiid)["dynamicdata"]
    assert dd["ping"] == "OK" and dd["status"] == "IN-PROGRESS"
    assert dd["missing"] == ["NOT-FOUND", 404]
    assert dd["sub"] == ["COMPLETE", {"done": True}]
    sub = api("orders.info", id=dd["sub_id"])
    assert sub["parent_workflow_instanceid"] == wfiid
