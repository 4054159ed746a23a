"""Order creation rules, operations and their refusals, search, order and workflow info."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine

from qorus_core.db import orders_ops as ops
from qorus_core.db import tables as t
from qorus_core.db.orders import create_order, create_orders
from qorus_core.db.orders_query import get_order_info, list_workflows, search_orders, workflow_info
from qorus_core.db.refdata import now
from qorus_core.model.errors import QorusError
from qorus_server.events import EventBus
from tests.helpers.definitions import add_workflow, noop_step
from tests.helpers.engine import statuses

pytestmark = pytest.mark.integration


@pytest.fixture
def wf(engine: Engine) -> int:
    noop_step(engine, "O1")
    noop_step(engine, "O2")
    return add_workflow(engine, "OPS", ["O1", "O2"], keys=["cust", "ref"])


def force(engine: Engine, wfiid: int, status: str, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(t.workflow_instance)
            .where(t.workflow_instance.c.workflow_instanceid == wfiid)
            .values(workflowstatus=status, **values)
        )


def add_step_row(engine: Engine, wfiid: int, name: str, status: str) -> int:
    with engine.begin() as conn:
        sid = conn.execute(select(t.steps.c.stepid).where(t.steps.c.name == name)).scalar()
        conn.execute(
            insert(t.step_instance).values(
                workflow_instanceid=wfiid,
                stepid=sid,
                ind=0,
                stepstatus=status,
                retries=0,
                skip=False,
                started=now(),
            )
        )
    return int(sid)


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)


def code_of(fn: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(QorusError) as exc:
        fn(*args, **kwargs)
    return exc.value.code


# ---------------------------------------------------------------------- creation


def test_create_order_rules(engine: Engine, wf: int) -> None:
    bus = EventBus()
    wfiid = create_order(
        engine,
        wf,
        {"a": 1},
        orderkeys={"cust": "c1"},
        priority=7,
        events=bus,
        global_unique_key={"ref": "R-1"},
    )
    info = get_order_info(engine, wfiid)
    assert info["workflowstatus"] == "READY" and info["priority"] == 7
    assert info["keys"] == {"cust": "c1", "ref": "R-1"}
    assert [e.eventstr for e in bus.since(0)] == ["WORKFLOW_DATA_SUBMITTED"]
    before = count(engine, t.workflow_instance)
    assert code_of(create_order, engine, wf, {}, orderkeys={"nope": 1}) == "WORKFLOW-KEY-ERROR"
    assert code_of(create_order, engine, wf, {}, global_unique_key={"ref": "R-1"}) == (
        "DUPLICATE-ORDER-KEY"
    )
    assert code_of(create_order, engine, wf, {}, priority=1000) == "ORDER-DATA-ERROR"
    assert code_of(create_order, engine, wf, {}, priority=-1) == "ORDER-DATA-ERROR"
    assert code_of(create_order, engine, wf, [1, 2]) == "ORDER-DATA-ERROR"  # type: ignore[arg-type]
    assert code_of(create_order, engine, wf, None) == "ORDER-DATA-ERROR"
    assert code_of(create_order, engine, wf, {}, status="COMPLETE") == "ORDER-DATA-ERROR"
    # all or nothing: the second order's bad key leaves no first order behind
    assert (
        code_of(
            create_orders,
            engine,
            wf,
            [{"staticdata": {}}, {"staticdata": {}, "orderkeys": {"x": 1}}],
        )
        == "WORKFLOW-KEY-ERROR"
    )
    assert count(engine, t.workflow_instance) == before
    # scopes: workflow-specific keys may repeat across workflows, global ones not
    noop_step(engine, "Other1")
    other = add_workflow(engine, "OTHER", ["Other1"], keys=["ref"])
    create_order(engine, wf, {}, workflow_specific_unique_key={"ref": "W-1"})
    create_order(engine, other, {}, workflow_specific_unique_key={"ref": "W-1"})
    assert (
        code_of(create_order, engine, wf, {}, workflow_specific_unique_key={"ref": "W-1"})
        == "DUPLICATE-ORDER-KEY"
    )
    sched = create_order(engine, wf, {}, scheduled=now() + timedelta(days=1))
    blocked = create_order(engine, wf, {}, status="BLOCKED", external_order_instanceid="X-1")
    st = get_order_info(engine, blocked)
    assert statuses(engine, [sched])[sched] == "S"
    assert (st["workflowstatus"], st["workflowstatus_orig"]) == ("BLOCKED", "READY")
    assert st["external_order_instanceid"] == "X-1" and st["staticdata"] == {}


# ---------------------------------------------------------------------- operations


def test_retry_rules(engine: Engine, wf: int) -> None:
    bus = EventBus()
    wfiid = create_order(engine, wf, {})
    for status in ("Y", "C", "I", "X", "B", "S"):
        force(engine, wfiid, status)
        assert code_of(ops.retry_order, engine, wfiid) == "STATUS-ERROR"
    force(engine, wfiid, "E")
    add_step_row(engine, wfiid, "O1", "E")
    res = ops.retry_order(engine, wfiid, events=bus)
    assert res["workflow_status"] == "RETRY" and res["steps_updated"] == 1
    ev = bus.since(0)[-1]
    assert ev.eventstr == "WORKFLOW_STATUS_CHANGED" and ev.info["info"]["new"] == "RETRY"
    assert get_order_info(engine, wfiid)["StepInstances"][0]["stepstatus"] == "RETRY"
    assert code_of(ops.retry_order, engine, 999999) == "RETRY-ERROR"


def test_cancel_uncancel_block_unblock(engine: Engine, wf: int) -> None:
    wfiid = create_order(engine, wf, {})
    for status in ("I", "C"):
        force(engine, wfiid, status)
        assert code_of(ops.cancel_order, engine, wfiid) == "CANCEL-WORKFLOW-ERROR"
        assert code_of(ops.block_order, engine, wfiid) == "BLOCK-WORKFLOW-ERROR"
    force(engine, wfiid, "E")
    assert ops.block_order(engine, wfiid)["workflow_status"] == "BLOCKED"
    assert code_of(ops.block_order, engine, wfiid) == "BLOCK-WORKFLOW-ERROR"
    assert ops.cancel_order(engine, wfiid)["workflow_status"] == "CANCELED"
    assert code_of(ops.cancel_order, engine, wfiid) == "CANCEL-WORKFLOW-ERROR"
    assert code_of(ops.unblock_order, engine, wfiid) == "BLOCK-WORKFLOW-ERROR"
    # uncancel restores the status from before the block
    assert ops.uncancel_order(engine, wfiid)["workflow_status"] == "ERROR"
    assert code_of(ops.uncancel_order, engine, wfiid) == "CANCEL-WORKFLOW-ERROR"
    force(engine, wfiid, "Y")
    ops.block_order(engine, wfiid)
    assert ops.unblock_order(engine, wfiid)["workflow_status"] == "READY"


def test_reschedule_and_priority(engine: Engine, wf: int) -> None:
    wfiid = create_order(engine, wf, {})
    res = ops.reschedule_order(engine, wfiid, now() + timedelta(hours=1))
    assert res["workflow_status"] == "SCHEDULED"
    assert ops.reschedule_order(engine, wfiid, None)["workflow_status"] == "READY"
    ops.block_order(engine, wfiid)
    ops.reschedule_order(engine, wfiid, (now() + timedelta(hours=1)).isoformat())
    assert get_order_info(engine, wfiid)["workflowstatus_orig"] == "SCHEDULED"
    force(engine, wfiid, "E")
    assert code_of(ops.reschedule_order, engine, wfiid, None) == "WORKFLOW-STATUS-ERROR"
    assert ops.set_priority(engine, wfiid, 3)["priority"] == 3
    assert code_of(ops.set_priority, engine, wfiid, 5000) == "ORDER-DATA-ERROR"
    force(engine, wfiid, "C")
    assert code_of(ops.set_priority, engine, wfiid, 1) == "WORKFLOW-STATUS-ERROR"


def test_skip_step_and_set_error(engine: Engine, wf: int) -> None:
    wfiid = create_order(engine, wf, {})
    force(engine, wfiid, "E")
    with engine.connect() as conn:
        o2 = int(conn.execute(select(t.steps.c.stepid).where(t.steps.c.name == "O2")).scalar() or 0)
    assert code_of(ops.skip_step, engine, wfiid, o2) == "SKIP-STEP-ERROR"  # never ran
    assert code_of(ops.skip_step, engine, wfiid, 999999) == "SKIP-STEP-ERROR"
    o1 = add_step_row(engine, wfiid, "O1", "C")
    assert code_of(ops.skip_step, engine, wfiid, o1) == "STEP-STATUS-ERROR"
    add_step_row(engine, wfiid, "O2", "E")
    force(engine, wfiid, "I")
    assert code_of(ops.skip_step, engine, wfiid, o2) == "SESSION-ERROR"
    force(engine, wfiid, "E")
    res = ops.skip_step(engine, wfiid, o2)
    assert res["workflow_status"] == "RETRY"
    steps = {s["stepname"]: s for s in get_order_info(engine, wfiid)["StepInstances"]}
    assert steps["O2"]["stepstatus"] == "COMPLETE" and steps["O2"]["skip"] is True
    assert ops.set_error(engine, wfiid)["workflow_status"] == "ERROR"
    assert code_of(ops.set_error, engine, wfiid) == "WORKFLOW-STATUS-ERROR"


def test_data_keys_and_notes(engine: Engine, wf: int) -> None:
    bus = EventBus()
    wfiid = create_order(engine, wf, {"a": 1}, orderkeys={"cust": ["x", "y"]})
    ops.update_static_data(engine, wfiid, {"a": 2}, events=bus)
    ops.update_dynamic_data(engine, wfiid, {"d": [1, 2]}, events=bus)
    ops.update_keys(engine, wfiid, {"cust": "z"}, events=bus)
    assert [e.eventstr for e in bus.since(0)] == ["WORKFLOW_DATA_UPDATED"] * 3
    info = get_order_info(engine, wfiid)
    assert info["staticdata"] == {"a": 2} and info["dynamicdata"] == {"d": [1, 2]}
    assert info["keys"] == {"cust": "z"}
    assert code_of(ops.update_keys, engine, wfiid, {"bad": 1}) == "WORKFLOW-KEY-ERROR"
    assert code_of(ops.update_dynamic_data, engine, wfiid, [1]) == "ORDER-DATA-ERROR"
    force(engine, wfiid, "I")
    assert code_of(ops.update_static_data, engine, wfiid, {}) == "SESSION-ERROR"
    ops.add_note(engine, wfiid, "first", username="admin")
    ops.add_note(engine, wfiid, "second")
    notes = ops.get_notes(engine, wfiid)
    assert [n["note"] for n in notes] == ["second", "first"]
    assert get_order_info(engine, wfiid)["note_count"] == 2
    assert code_of(ops.add_note, engine, wfiid, "  ") == "ORDER-NOTE-ERROR"


def test_bulk_forms_report_per_order(engine: Engine, wf: int) -> None:
    a, b = create_order(engine, wf, {}), create_order(engine, wf, {})
    force(engine, b, "C")
    res = ops.block_orders(engine, [a, b])
    assert res[0]["workflow_status"] == "BLOCKED"
    assert res[1]["error"]["err"] == "BLOCK-WORKFLOW-ERROR"
    assert ops.unblock_orders(engine, [a])[0]["workflow_status"] == "READY"
    assert ops.cancel_orders(engine, [a])[0]["workflow_status"] == "CANCELED"
    assert ops.uncancel_orders(engine, [a])[0]["workflow_status"] == "READY"
    assert ops.retry_orders(engine, [a])[0]["error"]["err"] == "STATUS-ERROR"


# ---------------------------------------------------------------------- queries


def test_search_and_workflow_counts(engine: Engine, wf: int) -> None:
    ids = [create_order(engine, wf, {}, orderkeys={"cust": f"c{i % 3}"}) for i in range(9)]
    force(engine, ids[0], "E")
    force(engine, ids[1], "C")
    assert {o["workflow_instanceid"] for o in search_orders(engine, status="ERROR")} == {ids[0]}
    assert len(search_orders(engine, statuses="ERROR,COMPLETE", workflowid=wf)) == 2
    by_key = search_orders(engine, keyname="cust", keyvalue="c1")
    assert {o["workflow_instanceid"] for o in by_key} == {ids[1], ids[4], ids[7]}
    page1 = search_orders(engine, workflowid=wf, limit=4, sort="workflow_instanceid", desc=False)
    page2 = search_orders(
        engine, workflowid=wf, limit=4, offset=4, sort="workflow_instanceid", desc=False
    )
    assert [o["workflow_instanceid"] for o in page1 + page2] == ids[:8]
    assert search_orders(engine, ids=[ids[2]])[0]["workflowstatus"] == "READY"
    assert search_orders(engine, minstarted=now() + timedelta(days=1)) == []
    assert code_of(search_orders, engine, status="NOPE") == "ORDER-SEARCH-ERROR"
    assert code_of(search_orders, engine, sort="evil") == "ORDER-SEARCH-ERROR"
    (row,) = [w for w in list_workflows(engine) if w["workflowid"] == wf]
    assert (row["READY"], row["ERROR"], row["COMPLETE"], row["TOTAL"]) == (7, 1, 1, 9)
    info = workflow_info(engine, "OPS")
    assert info["keylist"] == ["cust", "ref"] and info["TOTAL"] == 9
    assert [s["name"] for s in info["steps"]] == ["O1", "O2"]
    assert code_of(workflow_info, engine, "NOSUCH") == "WORKFLOW-ERROR"
    assert code_of(get_order_info, engine, 999999) == "ORDER-NOT-FOUND"
