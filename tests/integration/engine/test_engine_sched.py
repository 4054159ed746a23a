"""Claim order: priority then id; scheduled orders wait for their date; crash recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.claims import claim_batch
from qorus_core.db.orders import create_order
from qorus_core.db.refdata import now
from qorus_core.db.sessions import recover_session
from qorus_server.engine.manager import WorkflowManager
from tests.helpers.definitions import add_workflow, noop_step
from tests.helpers.engine import Logs, make_server, statuses, step_rows, wait_orders

pytestmark = pytest.mark.integration


def test_priority_order(engine: Engine, manager: WorkflowManager, logs: Logs) -> None:
    noop_step(engine, "Prio", 'UserApi.logInfo("run %d", wfapi.getStaticData("p"))')
    wfid = add_workflow(engine, "PRIO", ["Prio"], options={"workflow-workers": 1})
    prios = [900, 10, 500, 10, 0, 999]
    ids = [create_order(engine, wfid, {"p": p}, priority=p) for p in prios]
    manager.start_workflow("PRIO")
    wait_orders(engine, ids)
    ran = [int(m.split()[1]) for m in logs.messages("PRIO") if m.startswith("run ")]
    assert ran == sorted(prios)


def test_scheduled_orders_wait(engine: Engine, manager: WorkflowManager) -> None:
    noop_step(engine, "Sched")
    wfid = add_workflow(engine, "SCHED", ["Sched"])
    later = create_order(engine, wfid, {}, scheduled=now() + timedelta(seconds=1.5))
    past = create_order(engine, wfid, {}, scheduled=now() - timedelta(hours=1))
    assert statuses(engine, [later, past]) == {later: "S", past: "Y"}
    manager.start_workflow("SCHED")
    wait_orders(engine, [past])
    assert statuses(engine, [later])[later] == "S"
    assert wait_orders(engine, [later], timeout=30)[later] == "C"


def test_blocked_orders_are_not_claimed(engine: Engine, manager: WorkflowManager) -> None:
    noop_step(engine, "Blk")
    wfid = add_workflow(engine, "BLK", ["Blk"])
    blocked = create_order(engine, wfid, {}, status="BLOCKED")
    ready = create_order(engine, wfid, {})
    manager.start_workflow("BLK")
    wait_orders(engine, [ready])
    assert statuses(engine, [blocked])[blocked] == "B"


def test_crash_recovery_finishes_each_step_once(engine: Engine, logs: Logs) -> None:
    """Session A claims orders and dies mid-way; after recovery session B finishes them."""
    names = ["R1", "R2", "R3"]
    sids = {
        n: noop_step(engine, n, f'UserApi.logInfo("{n} primary %d", wfapi.getWfiid())')
        for n in names
    }
    wfid = add_workflow(engine, "RECOVER", names)
    ids = [create_order(engine, wfid, {"i": i}) for i in range(20)]
    crashed = make_server(engine)
    with engine.begin() as conn:
        claimed = claim_batch(conn, wfid, crashed.sessionid, 100)
    assert len(claimed) == 20
    # order 0 had finished R1 when the session died
    with engine.begin() as conn:
        conn.execute(
            insert(t.step_instance).values(
                workflow_instanceid=ids[0],
                stepid=sids["R1"],
                ind=0,
                stepstatus="C",
                retries=0,
                skip=False,
                started=now(),
                completed=now(),
            )
        )
    assert set(statuses(engine, ids).values()) == {"I"}
    with engine.begin() as conn:
        res = recover_session(conn, crashed.sessionid)
    assert res.orders == 20
    assert set(statuses(engine, ids).values()) == {"R"}

    survivor = make_server(engine)
    m = WorkflowManager(logger_factory=logs, poll_interval=0.2)
    m.start(survivor)
    try:
        m.start_workflow("RECOVER")
        assert set(wait_orders(engine, ids).values()) == {"C"}
    finally:
        m.stop()
    msgs = logs.messages("RECOVER")
    for wfiid in ids:
        rows = step_rows(engine, wfiid)
        assert sorted(r["name"] for r in rows) == names
        assert {r["stepstatus"] for r in rows} == {"C"}
    assert f"R1 primary {ids[0]}" not in msgs
    assert f"R2 primary {ids[0]}" in msgs
    # the step that may have been running at the crash was validated first
    assert any("validation() returned RETRY" in msg for msg in msgs)
    assert sum(1 for msg in msgs if msg.startswith("R3 primary")) == 20
