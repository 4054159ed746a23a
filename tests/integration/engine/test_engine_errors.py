"""Errors: RETRY then success, max-retries then ERROR, warnings, undefined and business
errors, retry delays, validation() after a retry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.orders import create_order
from qorus_core.db.orders_query import get_order_info
from qorus_core.db.refdata import now
from qorus_server.engine.manager import WorkflowManager
from tests.helpers.definitions import add_step, add_workflow, noop_step
from tests.helpers.engine import Logs, error_rows, step_rows, wait_orders

pytestmark = pytest.mark.integration

FLAKY = """
class Flaky(wf.QorusNormalStep):
    def primary(self):
        n = (wfapi.getDynamicData("n") or 0) + 1
        wfapi.updateDynamicData({"n": n})
        if n <= wfapi.getStaticData("fail_times"):
            wfapi.stepError("TEMP-ERR", "attempt %d failed" % n)

    def validation(self):
        UserApi.logInfo("validation after attempt %d", wfapi.getDynamicData("n"))
        return OMQ.StatRetry
"""


def run(manager: WorkflowManager, engine: Engine, name: str, wfid: int, static: dict) -> int:
    manager.start_workflow(name)
    wfiid = create_order(engine, wfid, static)
    manager.notify(wfid)
    return wfiid


def test_retry_then_success_runs_validation(
    engine: Engine, manager: WorkflowManager, logs: Logs
) -> None:
    add_step(engine, "Flaky", FLAKY)
    noop_step(engine, "After")
    wfid = add_workflow(
        engine,
        "FLAKY",
        ["Flaky", "After"],
        options={"recover_delay": 0},
        errors={"TEMP-ERR": {"status": "RETRY"}},
    )
    wfiid = run(manager, engine, "FLAKY", wfid, {"fail_times": 2})
    assert wait_orders(engine, [wfiid])[wfiid] == "C"
    info = get_order_info(engine, wfiid)
    assert info["dynamicdata"] == {"n": 3}
    flaky = next(s for s in info["StepInstances"] if s["stepname"] == "Flaky")
    assert flaky["stepstatus"] == "COMPLETE" and flaky["retries"] == 2
    errs = info["ErrorInstances"]
    assert [e["error"] for e in errs] == ["TEMP-ERR", "TEMP-ERR"]
    assert all(e["retry"] and e["severity"] == "MAJOR" for e in errs)
    assert info["retries"] == 2
    msgs = logs.messages("FLAKY")
    assert "validation after attempt 1" in msgs and "validation after attempt 2" in msgs


def test_max_retries_then_error(engine: Engine, manager: WorkflowManager) -> None:
    add_step(engine, "Flaky", FLAKY)
    wfid = add_workflow(
        engine,
        "HOPELESS",
        ["Flaky"],
        options={"max-retries": 2, "recover_delay": 0},
        errors={"TEMP-ERR": {"status": "RETRY"}},
    )
    wfiid = run(manager, engine, "HOPELESS", wfid, {"fail_times": 100})
    assert wait_orders(engine, [wfiid], final="E")[wfiid] == "E"
    rows = step_rows(engine, wfiid)
    assert rows[0]["stepstatus"] == "E" and rows[0]["retries"] == 2
    assert len(error_rows(engine, wfiid)) == 3
    assert get_order_info(engine, wfiid)["dynamicdata"] == {"n": 3}


def test_warnings_do_not_change_status(engine: Engine, manager: WorkflowManager) -> None:
    add_step(
        engine,
        "Warner",
        """
        class MINOR_THING(Exception):
            pass

        class Warner(wf.QorusNormalStep):
            def primary(self):
                wfapi.stepWarning("HEADS-UP", "just so you know")
                raise MINOR_THING("a minor problem")
        """,
    )
    wfid = add_workflow(engine, "WARNER", ["Warner"], errors={"MINOR_THING": {"severity": "MINOR"}})
    wfiid = run(manager, engine, "WARNER", wfid, {})
    assert wait_orders(engine, [wfiid])[wfiid] == "C"
    info = get_order_info(engine, wfiid)
    assert [(e["error"], e["severity"]) for e in info["ErrorInstances"]] == [
        ("HEADS-UP", "WARNING"),
        ("MINOR_THING", "MINOR"),
    ]
    assert info["warning_count"] == 2 and info["error_count"] == 0


def test_undefined_error_is_major_error(engine: Engine, manager: WorkflowManager) -> None:
    noop_step(engine, "Boom", 'raise ValueError("bad value")')
    noop_step(engine, "Never")
    wfid = add_workflow(engine, "BOOM", ["Boom", "Never"])
    wfiid = run(manager, engine, "BOOM", wfid, {})
    assert wait_orders(engine, [wfiid])[wfiid] == "E"
    info = get_order_info(engine, wfiid)
    (err,) = info["ErrorInstances"]
    assert (err["error"], err["severity"], err["retry"]) == ("ValueError", "MAJOR", False)
    assert err["description"] == "bad value" and "Traceback" in err["info"]
    assert [s["stepname"] for s in info["StepInstances"]] == ["Boom"]


def test_business_error_flags_order(engine: Engine, manager: WorkflowManager) -> None:
    noop_step(engine, "Biz", 'wfapi.stepError("CREDIT-REFUSED", "no credit")')
    wfid = add_workflow(engine, "BIZ", ["Biz"], errors={"CREDIT-REFUSED": {"business": True}})
    wfiid = run(manager, engine, "BIZ", wfid, {})
    assert wait_orders(engine, [wfiid])[wfiid] == "E"
    info = get_order_info(engine, wfiid)
    assert info["business_error"] is True
    assert info["ErrorInstances"][0]["business_error"] is True


def test_global_retry_error_and_retry_delay(engine: Engine, manager: WorkflowManager) -> None:
    # SOCKET-TIMEOUT is a built-in global RETRY error; stepError's delay wins
    noop_step(engine, "Slow", 'wfapi.stepError("SOCKET-TIMEOUT", "timed out", 3600)')
    wfid = add_workflow(engine, "SLOW", ["Slow"])
    wfiid = run(manager, engine, "SLOW", wfid, {})
    assert wait_orders(engine, [wfiid], final="R")[wfiid] == "R"
    with engine.connect() as conn:
        trig = conn.execute(
            select(t.workflow_instance.c.retry_trigger).where(
                t.workflow_instance.c.workflow_instanceid == wfiid
            )
        ).scalar()
    assert trig is not None and trig > now() + timedelta(seconds=3000)
    assert step_rows(engine, wfiid)[0]["stepstatus"] == "R"


def test_validation_complete_skips_primary(
    engine: Engine, manager: WorkflowManager, logs: Logs
) -> None:
    add_step(
        engine,
        "Once",
        """
        class Once(wf.QorusNormalStep):
            def primary(self):
                UserApi.logInfo("primary ran")
                wfapi.stepError("TEMP-ERR", "effects happened but the answer was lost")

            def validation(self):
                return OMQ.StatComplete
        """,
    )
    wfid = add_workflow(
        engine,
        "ONCE",
        ["Once"],
        options={"recover_delay": 0},
        errors={"TEMP-ERR": {"status": "RETRY"}},
    )
    wfiid = run(manager, engine, "ONCE", wfid, {})
    assert wait_orders(engine, [wfiid])[wfiid] == "C"
    assert logs.messages("ONCE").count("primary ran") == 1


def test_validation_error_sets_error(engine: Engine, manager: WorkflowManager) -> None:
    add_step(
        engine,
        "ValErr",
        """
        class ValErr(wf.QorusNormalStep):
            def primary(self):
                wfapi.stepError("TEMP-ERR", "first run")

            def validation(self):
                return OMQ.StatError
        """,
    )
    wfid = add_workflow(
        engine,
        "VALERR",
        ["ValErr"],
        options={"recover_delay": 0},
        errors={"TEMP-ERR": {"status": "RETRY"}},
    )
    wfiid = run(manager, engine, "VALERR", wfid, {})
    assert wait_orders(engine, [wfiid], final="E")[wfiid] == "E"
    assert [e["error"] for e in error_rows(engine, wfiid)] == ["TEMP-ERR", "VALIDATION-ERROR"]
