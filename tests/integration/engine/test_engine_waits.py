"""Steps that wait: ASYNC (queue data by key), EVENT (a posted event), SUBWORKFLOW (a child
order); array steps; segments. Runs on SQLite, PostgreSQL and MariaDB (``--db``)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import orders_ops, waits
from qorus_core.db import tables as t
from qorus_core.db.orders import create_order
from qorus_core.db.unit import loads
from qorus_server.engine.manager import WorkflowManager
from tests.helpers.definitions import add_step, add_workflow, noop_step
from tests.helpers.engine import error_rows, statuses, step_rows, wait_orders

pytestmark = pytest.mark.integration

ASYNC = """
from wf import QorusAsyncStep


class {name}(QorusAsyncStep):
    def primary(self):
        n = len(wfapi.getDynamicData("keys") or [])
        key = "k-%d-%d" % (wfapi.getWfiid(), n)
        wfapi.updateDynamicData({{"keys": (wfapi.getDynamicData("keys") or []) + [key]}})
        {primary}

    def end(self, data):
        wfapi.updateDynamicData({{"got": data}})
        if data.get("fail"):
            wfapi.stepError("PARTNER-REFUSED", "the partner said no")

    def validation(self, key):
        wfapi.updateDynamicData({{"validated": (wfapi.getDynamicData("validated") or 0) + 1}})
        return {validation}
"""


def async_step(
    engine: Engine,
    name: str,
    primary: str = "self.submitAsyncKey(key)",
    validation: str = "'RETRY'",
) -> int:
    code = ASYNC.format(name=name, primary=primary, validation=validation)
    return add_step(engine, name, code, steptype="ASYNC", queue=f"{name}Q")


def dyn(engine: Engine, wfiid: int) -> dict[str, Any]:
    with engine.connect() as conn:
        text = conn.execute(
            select(t.order_instance.c.dynamicdata).where(
                t.order_instance.c.workflow_instanceid == wfiid
            )
        ).scalar()
    value = loads(text)
    assert isinstance(value, dict)
    return value


def wait_status(engine: Engine, wfiid: int, code: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while statuses(engine, [wfiid]).get(wfiid) != code:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"order {wfiid} is {statuses(engine, [wfiid])}, not {code}: "
                f"{[(e['error'], e['description']) for e in error_rows(engine, wfiid)]}"
            )
        time.sleep(0.05)


def start(engine: Engine, manager: WorkflowManager, name: str, steps: list[Any], **kw: Any) -> int:
    wfid = add_workflow(engine, name, steps, **kw)
    manager.start_workflow(name)
    return wfid


def order(engine: Engine, manager: WorkflowManager, wfid: int, **static: Any) -> int:
    wfiid = create_order(engine, wfid, static or {"x": 1})
    manager.notify(wfid)
    return wfiid


def queue_update(engine: Engine, manager: WorkflowManager, queue: str, key: str, data: Any) -> None:
    with engine.begin() as conn:
        qid = waits.find_queue(conn, queue)["queueid"]
        woken = waits.update_data(conn, qid, key, data)
    assert woken is not None
    manager.notify(woken)


def post(engine: Engine, manager: WorkflowManager, event: str, key: str) -> bool:
    with engine.begin() as conn:
        typeid = waits.find_event_type(conn, event)["id"]
        first, woken = waits.post_event(conn, typeid, key)
    for wf in woken:
        manager.notify(wf)
    return first


def rows_by_name(engine: Engine, wfiid: int) -> dict[tuple[str, int], str]:
    return {(r["name"], r["ind"]): r["stepstatus"] for r in step_rows(engine, wfiid)}


# ---------------------------------------------------------------------- ASYNC


def test_async_step_waits_for_queue_data_then_end_completes(
    engine: Engine, manager: WorkflowManager
) -> None:
    noop_step(engine, "Before", 'wfapi.updateDynamicData({"before": True})')
    async_step(engine, "AsyncA")
    noop_step(engine, "After", 'wfapi.updateDynamicData({"after": wfapi.getDynamicData("got")})')
    wfid = start(engine, manager, "ASYNCWF", ["Before", "AsyncA", "After"])
    wfiid = order(engine, manager, wfid)
    wait_status(engine, wfiid, "A")
    assert rows_by_name(engine, wfiid) == {("Before", 0): "C", ("AsyncA", 0): "A"}
    key = dyn(engine, wfiid)["keys"][0]
    with engine.connect() as conn:
        qid = waits.find_queue(conn, "AsyncAQ")["queueid"]
        assert waits.key_info(conn, qid, key)["queue_data_status"] == "WAITING"
    queue_update(engine, manager, "AsyncAQ", key, {"answer": 42})
    wait_status(engine, wfiid, "C")
    data = dyn(engine, wfiid)
    assert data["got"] == {"answer": 42} and data["after"] == {"answer": 42}
    assert set(rows_by_name(engine, wfiid).values()) == {"C"}
    with engine.connect() as conn:
        segs = dict(
            conn.execute(
                select(t.segment_instance.c.segmentid, t.segment_instance.c.segmentstatus).where(
                    t.segment_instance.c.workflow_instanceid == wfiid
                )
            ).all()
        )
    # a new segment starts after the async step
    assert segs == {0: "C", 1: "C"}


def test_async_end_error_fails_the_step(engine: Engine, manager: WorkflowManager) -> None:
    async_step(engine, "AsyncE")
    wfid = start(engine, manager, "ASYNCERR", ["AsyncE"])
    wfiid = order(engine, manager, wfid)
    wait_status(engine, wfiid, "A")
    key = dyn(engine, wfiid)["keys"][0]
    queue_update(engine, manager, "AsyncEQ", key, {"fail": True})
    wait_status(engine, wfiid, "E")
    assert [e["error"] for e in error_rows(engine, wfiid)] == ["PARTNER-REFUSED"]
    # the key cannot be used twice
    with engine.begin() as conn, pytest.raises(Exception) as exc:
        qid = waits.find_queue(conn, "AsyncEQ")["queueid"]
        waits.update_data(conn, qid, key, {})
    assert getattr(exc.value, "code", "") == "INVALID-STATUS"


def test_async_skip_and_missing_key(engine: Engine, manager: WorkflowManager) -> None:
    async_step(engine, "AsyncSkip", primary="self.skipAsyncStep()")
    async_step(engine, "AsyncNone", primary="pass")
    skip = start(engine, manager, "ASYNCSKIP", ["AsyncSkip"])
    none = start(engine, manager, "ASYNCNONE", ["AsyncNone"])
    a, b = order(engine, manager, skip), order(engine, manager, none)
    assert wait_orders(engine, [a, b]) == {a: "C", b: "E"}
    assert [e["error"] for e in error_rows(engine, b)] == ["ASYNC-NO-KEY-SUBMITTED"]


def test_async_delay_runs_validation(engine: Engine, manager: WorkflowManager) -> None:
    async_step(engine, "AsyncV", validation="'COMPLETE'")
    wfid = start(engine, manager, "ASYNCDELAY", ["AsyncV"], options={"async_delay": 1})
    wfiid = order(engine, manager, wfid)
    wait_status(engine, wfiid, "C")
    assert dyn(engine, wfiid)["validated"] == 1
    key = dyn(engine, wfiid)["keys"][0]
    with engine.connect() as conn:
        qid = waits.find_queue(conn, "AsyncVQ")["queueid"]
        info = waits.key_info(conn, qid, key)
    assert info is not None and info["queue_data_status"] == "USED"


def test_max_async_retries_end_in_error(engine: Engine, manager: WorkflowManager) -> None:
    async_step(engine, "AsyncW", validation="'ASYNC-WAITING'")
    wfid = start(
        engine,
        manager,
        "ASYNCMAX",
        ["AsyncW"],
        options={"async_delay": 0, "max-async-retries": 2},
    )
    wfiid = order(engine, manager, wfid)
    wait_status(engine, wfiid, "E")
    assert dyn(engine, wfiid)["validated"] == 2
    assert [e["error"] for e in error_rows(engine, wfiid)] == ["MAX-ASYNC-RETRIES"]


def test_cancel_runs_validation_and_a_new_key(engine: Engine, manager: WorkflowManager) -> None:
    async_step(engine, "AsyncC")
    wfid = start(engine, manager, "ASYNCCANCEL", ["AsyncC"])
    wfiid = order(engine, manager, wfid)
    wait_status(engine, wfiid, "A")
    first = dyn(engine, wfiid)["keys"][0]
    with engine.begin() as conn:
        qid = waits.find_queue(conn, "AsyncCQ")["queueid"]
        woken = waits.cancel_key(conn, qid, first)
    assert woken == wfid
    manager.notify(wfid)
    deadline = time.monotonic() + 30
    while len(dyn(engine, wfiid).get("keys", [])) < 2:
        assert time.monotonic() < deadline, dyn(engine, wfiid)
        time.sleep(0.05)
    wait_status(engine, wfiid, "A")
    second = dyn(engine, wfiid)["keys"][1]
    queue_update(engine, manager, "AsyncCQ", second, {"ok": 1})
    wait_status(engine, wfiid, "C")
    assert dyn(engine, wfiid)["validated"] == 1


def test_async_key_taken_is_a_step_error(engine: Engine, manager: WorkflowManager) -> None:
    async_step(engine, "AsyncDup", primary="self.submitAsyncKey('same-key')")
    wfid = start(engine, manager, "ASYNCDUP", ["AsyncDup"])
    a = order(engine, manager, wfid)
    wait_status(engine, a, "A")
    b = order(engine, manager, wfid)
    wait_status(engine, b, "E")
    assert [e["error"] for e in error_rows(engine, b)] == ["DUPLICATE-KEY"]


# ---------------------------------------------------------------------- EVENT

EVENT = """
from wf import QorusEventStep


class {name}(QorusEventStep):
    def primary(self):
        {primary}
"""


def event_step(engine: Engine, name: str, primary: str) -> int:
    code = EVENT.format(name=name, primary=primary)
    return add_step(engine, name, code, steptype="EVENT", event="PaymentDone")


def test_event_posted_after_the_bind(engine: Engine, manager: WorkflowManager) -> None:
    event_step(engine, "EvA", "self.bindEvent('pay-' + str(wfapi.getStaticData('n')))")
    noop_step(engine, "EvAfter", 'wfapi.updateDynamicData({"after": True})')
    wfid = start(engine, manager, "EVENTWF", ["EvA", "EvAfter"])
    wfiid = order(engine, manager, wfid, n=7)
    wait_status(engine, wfiid, "V")
    assert post(engine, manager, "PaymentDone", "pay-7") is True
    wait_status(engine, wfiid, "C")
    assert dyn(engine, wfiid) == {"after": True}
    assert post(engine, manager, "PaymentDone", "pay-7") is False


def test_event_posted_before_the_bind_is_not_lost(engine: Engine, manager: WorkflowManager) -> None:
    event_step(engine, "EvB", "self.bindEvent('early')")
    wfid = start(engine, manager, "EVENTEARLY", ["EvB"])
    assert post(engine, manager, "PaymentDone", "early") is True
    wfiid = order(engine, manager, wfid)
    wait_status(engine, wfiid, "C")


def test_event_unposted_skip_and_missing_bind(engine: Engine, manager: WorkflowManager) -> None:
    event_step(engine, "EvU", "self.bindEventUnposted('done-already')")
    event_step(engine, "EvS", "self.skipEvent()")
    event_step(engine, "EvN", "pass")
    post(engine, manager, "PaymentDone", "done-already")
    u = order(engine, manager, start(engine, manager, "EVUNPOSTED", ["EvU"]))
    s = order(engine, manager, start(engine, manager, "EVSKIP", ["EvS"]))
    n = order(engine, manager, start(engine, manager, "EVNONE", ["EvN"]))
    assert wait_orders(engine, [u, s, n]) == {u: "E", s: "C", n: "E"}
    assert [e["error"] for e in error_rows(engine, u)] == ["ALREADY-POSTED"]
    assert [e["error"] for e in error_rows(engine, n)] == ["NO-EVENT-BOUND"]


# ---------------------------------------------------------------------- SUBWORKFLOW

SUB = """
from wf import QorusSubworkflowStep


class {name}(QorusSubworkflowStep):
    def primary(self):
        {primary}
"""


def test_subworkflow_waits_for_its_child_and_gets_feedback(
    engine: Engine, manager: WorkflowManager
) -> None:
    noop_step(engine, "ChildWork", "wfapi.leaveParentFeedback('total', 99)")
    start(engine, manager, "CHILDWF", ["ChildWork"])
    add_step(
        engine,
        "SubA",
        SUB.format(
            name="SubA",
            primary="r = self.bindSubworkflow({'name': 'CHILDWF'}, {'staticdata': {'c': 1}})\n"
            "        wfapi.updateDynamicData({'child': r['workflow_instanceid']})",
        ),
        steptype="SUBWORKFLOW",
    )
    noop_step(
        engine, "UseFeedback", 'wfapi.updateDynamicData({"fb": wfapi.getChildFeedback("total")})'
    )
    wfid = start(engine, manager, "PARENTWF", ["SubA", "UseFeedback"])
    wfiid = order(engine, manager, wfid)
    wait_status(engine, wfiid, "C")
    data = dyn(engine, wfiid)
    assert data["fb"] == 99
    with engine.connect() as conn:
        child = conn.execute(
            select(
                t.workflow_instance.c.parent_workflow_instanceid,
                t.workflow_instance.c.subworkflow,
                t.workflow_instance.c.workflowstatus,
            ).where(t.workflow_instance.c.workflow_instanceid == data["child"])
        ).one()
        assert waits.children(conn, wfiid)[0]["subworkflow_instanceid"] == data["child"]
    assert (int(child[0]), bool(child[1]), child[2]) == (wfiid, True, "C")


def test_child_in_error_shows_in_parent_until_retried(
    engine: Engine, manager: WorkflowManager
) -> None:
    noop_step(
        engine,
        "ChildFails",
        "if not wfapi.getStaticData('ok') and not wfapi.getDynamicData('again'):\n"
        "    wfapi.updateDynamicData({'again': True})\n"
        "    wfapi.stepError('CHILD-FAILED', 'first run fails')",
    )
    start(engine, manager, "CHILDERR", ["ChildFails"])
    add_step(
        engine,
        "SubE",
        SUB.format(name="SubE", primary="self.bindSubworkflow('CHILDERR', {'staticdata': {}})"),
        steptype="SUBWORKFLOW",
    )
    wfid = start(engine, manager, "PARENTERR", ["SubE"])
    wfiid = order(engine, manager, wfid)
    wait_status(engine, wfiid, "E")
    assert [e["error"] for e in error_rows(engine, wfiid)] == ["SUBWORKFLOW-ERROR"]
    with engine.connect() as conn:
        child = waits.children(conn, wfiid)[0]
    assert child["workflowstatus"] == "ERROR"
    # retrying the parent retries the child, which now completes, and the parent with it
    orders_ops.retry_order(engine, wfiid)
    manager.notify(wfid)
    wait_status(engine, wfiid, "C")
    assert statuses(engine, [child["subworkflow_instanceid"]]) == {
        child["subworkflow_instanceid"]: "C"
    }


def test_skip_subworkflow_and_missing_bind(engine: Engine, manager: WorkflowManager) -> None:
    add_step(
        engine,
        "SubSkip",
        SUB.format(name="SubSkip", primary="self.skipSubworkflow()"),
        steptype="SUBWORKFLOW",
    )
    add_step(engine, "SubNone", SUB.format(name="SubNone", primary="pass"), steptype="SUBWORKFLOW")
    a = order(engine, manager, start(engine, manager, "SUBSKIP", ["SubSkip"]))
    b = order(engine, manager, start(engine, manager, "SUBNONE", ["SubNone"]))
    assert wait_orders(engine, [a, b]) == {a: "C", b: "E"}
    assert [e["error"] for e in error_rows(engine, b)] == ["NO-SUBWORKFLOW-STARTED"]


# ---------------------------------------------------------------------- arrays

ARRAY = """
from wf import QorusNormalArrayStep


class {name}(QorusNormalArrayStep):
    def array(self):
        return {elements}

    def primary(self, arg):
        runs = (wfapi.getDynamicData("runs") or []) + [arg]
        wfapi.updateDynamicData({{"runs": runs}})
        if arg == 2 and runs.count(2) == 1:
            wfapi.stepError("ELEMENT-FAILED", "element 2 fails once")
"""


def test_array_retry_reruns_only_the_failed_elements(
    engine: Engine, manager: WorkflowManager
) -> None:
    add_step(engine, "ArrA", ARRAY.format(name="ArrA", elements="[1, 2, 3]"), arraytype="SERIES")
    noop_step(engine, "ArrNext", 'wfapi.updateDynamicData({"next": True})')
    wfid = start(
        engine,
        manager,
        "ARRAYWF",
        ["ArrA", "ArrNext"],
        errors={"ELEMENT-FAILED": {"status": "RETRY", "retry-delay": 1}},
    )
    wfiid = order(engine, manager, wfid)
    wait_status(engine, wfiid, "C")
    data = dyn(engine, wfiid)
    assert data["runs"] == [1, 2, 3, 2] and data["next"] is True
    assert rows_by_name(engine, wfiid) == {
        ("ArrA", 0): "C",
        ("ArrA", 1): "C",
        ("ArrA", 2): "C",
        ("ArrNext", 0): "C",
    }
    errs = error_rows(engine, wfiid)
    assert [(e["error"], e["ind"]) for e in errs] == [("ELEMENT-FAILED", 1)]


def test_empty_array_completes_the_step(engine: Engine, manager: WorkflowManager) -> None:
    add_step(engine, "ArrE", ARRAY.format(name="ArrE", elements="[]"), arraytype="SERIES")
    wfid = start(engine, manager, "ARRAYEMPTY", ["ArrE"])
    wfiid = order(engine, manager, wfid)
    wait_status(engine, wfiid, "C")
    rows = step_rows(engine, wfiid)
    assert [(r["ind"], r["stepstatus"], bool(r["skip"])) for r in rows] == [(0, "C", True)]


def test_async_array_waits_for_every_element(engine: Engine, manager: WorkflowManager) -> None:
    code = """
from wf import QorusAsyncArrayStep


class ArrAsync(QorusAsyncArrayStep):
    def array(self):
        return ["a", "b"]

    def primary(self, arg):
        self.submitAsyncKey("%d-%s" % (wfapi.getWfiid(), arg))

    def end(self, data, arg):
        wfapi.updateDynamicData({arg: data})
"""
    add_step(engine, "ArrAsync", code, steptype="ASYNC", arraytype="SERIES", queue="ArrQ")
    wfid = start(engine, manager, "ASYNCARRAY", ["ArrAsync"])
    wfiid = order(engine, manager, wfid)
    wait_status(engine, wfiid, "A")
    assert rows_by_name(engine, wfiid) == {("ArrAsync", 0): "A", ("ArrAsync", 1): "A"}
    queue_update(engine, manager, "ArrQ", f"{wfiid}-a", 1)
    deadline = time.monotonic() + 30
    while rows_by_name(engine, wfiid)[("ArrAsync", 0)] != "C":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert statuses(engine, [wfiid]) == {wfiid: "A"}
    queue_update(engine, manager, "ArrQ", f"{wfiid}-b", 2)
    wait_status(engine, wfiid, "C")
    assert dyn(engine, wfiid) == {"a": 1, "b": 2}


# ---------------------------------------------------------------------- synchronous


def test_synchronous_execution_answers_a_waiting_status_at_the_limit(engine: Engine) -> None:
    from qorus_server.engine.sync import run_synchronous
    from tests.helpers.engine import Logs, make_server, next_tag

    async_step(engine, "AsyncSync")
    wfid = add_workflow(engine, "ASYNCSYNC", ["AsyncSync"])
    server = make_server(engine, **{"synchronous-wait-timeout": 1})
    m = WorkflowManager(logger_factory=Logs(next_tag()), poll_interval=0.2)
    m.start(server)
    try:
        answer = run_synchronous(m, wfid, {"staticdata": {}})
    finally:
        m.stop()
    assert answer["status"] == "ASYNC-WAITING"
    wfiid = int(str(answer["workflow_instanceid"]))
    with engine.connect() as conn:
        sync = conn.execute(
            select(t.workflow_instance.c.synchronous).where(
                t.workflow_instance.c.workflow_instanceid == wfiid
            )
        ).scalar()
    assert not sync  # the normal instances take it over


def test_canceled_child_fails_the_parent_step(engine: Engine, manager: WorkflowManager) -> None:
    # the child waits on an event nobody posts, and is canceled by an operator
    add_step(
        engine,
        "ChildWaits",
        EVENT.format(name="ChildWaits", primary="self.bindEvent('never')"),
        steptype="EVENT",
        event="PaymentDone",
    )
    start(engine, manager, "CHILDCANCEL", ["ChildWaits"])
    add_step(
        engine,
        "SubX",
        SUB.format(name="SubX", primary="self.bindSubworkflow('CHILDCANCEL', {'staticdata': {}})"),
        steptype="SUBWORKFLOW",
    )
    wfid = start(engine, manager, "PARENTCANCEL", ["SubX"])
    wfiid = order(engine, manager, wfid)
    wait_status(engine, wfiid, "W")
    with engine.connect() as conn:
        child = waits.children(conn, wfiid)[0]["subworkflow_instanceid"]
    wait_status(engine, child, "V")
    orders_ops.cancel_order(engine, child)
    manager.notify(wfid)
    wait_status(engine, wfiid, "E")
    assert [e["description"] for e in error_rows(engine, wfiid)] == [
        f"child order {child} is CANCELED"
    ]
