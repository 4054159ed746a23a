"""The test helper tests/helpers/definitions.py: what engine tests rely on arrives through the
real loader (errors file, option values, library classes, ASYNC queues), and what the loader
refuses fails the test with the loader's own message."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.wfdefs import load_workflow
from tests.helpers.definitions import add_class, add_step, add_workflow, noop_step

pytestmark = pytest.mark.integration


def test_workflow_with_errors_file_options_and_keys(engine: Engine) -> None:
    noop_step(engine, "H1")
    noop_step(engine, "H2")
    noop_step(engine, "H3")
    wfid = add_workflow(
        engine,
        "HELPED",
        ["H1", ["H2", "H3"]],
        keys=["k"],
        options={"workflow-workers": 1, "own-flag": "yes"},
        errors={"SOFT": {"status": "RETRY", "retry-delay": 5}, "BIZ": {"business": True}},
    )
    with engine.connect() as conn:
        wdef = load_workflow(conn, wfid)
        row = conn.execute(
            select(t.workflows.c.errors_name, t.workflows.c.autostart).where(
                t.workflows.c.workflowid == wfid
            )
        ).one()
    assert tuple(row) == ("HELPED-errors", 0)
    assert wdef.keys == ("k",)
    assert wdef.option("workflow-workers") == 1 and wdef.option("own-flag") == "yes"
    soft, biz = wdef.errors["SOFT"], wdef.errors["BIZ"]
    assert (soft.status, soft.retry_delay, biz.business) == ("RETRY", 5, True)
    first = {s.name for s in wdef.steps.values() if not s.depends_on}
    assert first == {"H1"} and len(wdef.steps) == 3


def test_library_class_and_async_queue(engine: Engine) -> None:
    add_class(engine, "Lib", "class Lib:\n    pass\n")
    sid = add_step(
        engine,
        "Wait",
        "class Wait(wf.QorusAsyncStep):\n    def primary(self):\n        pass\n",
        steptype="ASYNC",
        queue="WaitQ",
        classes=["Lib"],
    )
    with engine.connect() as conn:
        step = conn.execute(select(t.steps).where(t.steps.c.stepid == sid)).one()
        queue = conn.execute(select(t.queues.c.name).where(t.queues.c.queueid == step.queueid))
        assert queue.scalar_one() == "WaitQ"
    assert (step.steptype, step.classes) == ("ASYNC", '["Lib"]')


def test_what_the_loader_refuses_fails_with_its_message(engine: Engine) -> None:
    noop_step(engine, "R1")
    with pytest.raises(AssertionError) as info:
        add_workflow(engine, "REFUSED", ["R1"], errors={"E": {"status": "ERROR", "retry-delay": 3}})
    assert "retry-delay is only allowed with status: RETRY" in str(info.value)
    with engine.connect() as conn:
        assert conn.execute(select(t.workflows.c.workflowid)).first() is None
