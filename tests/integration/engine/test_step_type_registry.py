"""The step-type registry is the one place a step type is declared: a test-only type
registered here runs through the engine with nothing else changed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.orders import create_order
from qorus_server.engine import steptypes
from qorus_server.engine.manager import WorkflowManager
from qorus_server.userapi.wf import QorusNormalStep
from tests.helpers.definitions import add_workflow, noop_step
from tests.helpers.engine import step_rows, wait_orders

pytestmark = pytest.mark.integration

RAN: list[tuple[int, str]] = []


def _run(obj: Any, call: steptypes.StepCall) -> None:
    RAN.append((call.ctx.workflow_instanceid, call.step.name))
    obj.primary()


def _recover(obj: Any, call: steptypes.StepCall) -> bool:
    return True


@pytest.fixture
def test_type() -> Iterator[steptypes.StepType]:
    kind = steptypes.register(steptypes.StepType("TESTKIND", QorusNormalStep, _run, _recover))
    RAN.clear()
    yield kind
    steptypes.unregister("TESTKIND")


def test_registered_type_runs_through_the_engine(
    engine: Engine, manager: WorkflowManager, test_type: steptypes.StepType
) -> None:
    sid = noop_step(engine, "TK1", 'wfapi.updateDynamicData({"tk": True})')
    with engine.begin() as conn:
        conn.execute(update(t.steps).where(t.steps.c.stepid == sid).values(steptype="TESTKIND"))
    wfid = add_workflow(engine, "TESTKINDWF", ["TK1"])
    manager.start_workflow("TESTKINDWF")
    ids = [create_order(engine, wfid, {"n": i}) for i in range(2)]
    manager.notify(wfid)
    assert set(wait_orders(engine, ids).values()) == {"C"}
    assert sorted(RAN) == sorted((i, "TK1") for i in ids)
    assert {r["stepstatus"] for i in ids for r in step_rows(engine, i)} == {"C"}


def test_unregistered_type_is_refused_at_start(engine: Engine, manager: WorkflowManager) -> None:
    sid = noop_step(engine, "TK2")
    with engine.begin() as conn:
        conn.execute(update(t.steps).where(t.steps.c.stepid == sid).values(steptype="TESTKIND2"))
    add_workflow(engine, "TESTKINDWF2", ["TK2"])
    with pytest.raises(
        Exception, match="TESTKIND2 step; this version runs ASYNC, EVENT, NORMAL, SUBWORKFLOW"
    ):
        manager.start_workflow("TESTKINDWF2")
