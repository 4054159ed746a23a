"""The manager: autostart, start/stop, setAutostart, enable/disable, events, two nodes."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import orders_ops as ops
from qorus_core.db import tables as t
from qorus_core.db.orders import create_order, create_orders
from qorus_core.model.errors import QorusError
from qorus_server.engine.manager import WorkflowManager
from tests.helpers.definitions import add_workflow, noop_step
from tests.helpers.engine import Logs, make_server, statuses, wait_orders

pytestmark = pytest.mark.integration


def test_autostart_and_instance_control(engine: Engine, logs: Logs) -> None:
    noop_step(engine, "M1")
    auto = add_workflow(engine, "AUTO", ["M1"], autostart=2)
    add_workflow(engine, "MANUAL", ["M1"], autostart=0)
    server = make_server(engine, **{"autostart-interfaces": True})
    m = WorkflowManager(logger_factory=logs, poll_interval=0.2)
    m.start(server)
    try:
        ex = m.list_executions()
        assert [(e["name"], e["mode"]) for e in ex] == [("AUTO", "NORMAL")] * 2
        assert {e["status"] for e in ex} <= {"running", "waiting"}
        wfiid = create_order(engine, auto, {}, events=server.events)  # the event wakes it
        assert wait_orders(engine, [wfiid])[wfiid] == "C"
        assert m.set_autostart("AUTO", 1)["running"] == 1
        assert m.set_autostart("MANUAL", 1)["running"] == 1
        m.disable("MANUAL")
        assert [e["name"] for e in m.list_executions()] == ["AUTO"]
        with pytest.raises(QorusError) as exc:
            m.start_workflow("MANUAL")
        assert exc.value.code == "WORKFLOW-START-ERROR"
        m.enable("MANUAL")
        assert sorted(e["name"] for e in m.list_executions()) == ["AUTO", "MANUAL"]
        assert len(m.stop_workflow("AUTO")) == 1
        with pytest.raises(QorusError):
            m.start_workflow("AUTO", mode="SYNCHRONOUS")
        with pytest.raises(QorusError) as exc:
            m.start_workflow("NOSUCH")
        assert exc.value.code == "WORKFLOW-ERROR"
        names = [e.eventstr for e in server.events.since(0)]
        assert "WORKFLOW_START" in names and "WORKFLOW_STOP" in names
    finally:
        m.stop()
    assert m.list_executions() == []


def test_retry_operation_wakes_the_engine(engine: Engine, manager: WorkflowManager) -> None:
    noop_step(
        engine,
        "Once2",
        'n = (wfapi.getDynamicData("n") or 0) + 1\n'
        'wfapi.updateDynamicData({"n": n})\n'
        'if n == 1:\n    raise RuntimeError("first time")',
    )
    wfid = add_workflow(engine, "WAKE", ["Once2"])
    manager.start_workflow("WAKE")
    wfiid = create_order(engine, wfid, {})
    manager.notify(wfid)
    assert wait_orders(engine, [wfiid])[wfiid] == "E"
    assert manager.runtime is not None
    ops.retry_order(engine, wfiid, events=manager.runtime.events)
    assert wait_orders(engine, [wfiid], final="C")[wfiid] == "C"


def test_two_nodes_share_orders_without_duplicates(engine: Engine, logs: Logs) -> None:
    names = ["N1", "N2", "N3"]
    for n in names:
        noop_step(engine, n, f'UserApi.logInfo("{n} %d", wfapi.getWfiid())')
    wfid = add_workflow(engine, "SHARED", names, options={"workflow-workers": 2})
    ids = create_orders(engine, wfid, [{"staticdata": {"i": i}} for i in range(300)])
    managers = [WorkflowManager(logger_factory=logs, poll_interval=0.2, batch_per_worker=5)]
    managers.append(WorkflowManager(logger_factory=logs, poll_interval=0.2, batch_per_worker=5))
    servers = [make_server(engine), make_server(engine)]
    try:
        for m, s in zip(managers, servers, strict=True):
            m.start(s)
            m.start_workflow("SHARED")
        assert set(wait_orders(engine, ids).values()) == {"C"}
    finally:
        for m in managers:
            m.stop()
    runs = Counter(msg for msg in logs.messages("SHARED") if msg.split()[0] in names)
    assert len(runs) == 900 and set(runs.values()) == {1}
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.step_instance.c.stepstatus).where(
                t.step_instance.c.workflow_instanceid.in_(ids)
            )
        ).all()
    assert len(rows) == 900 and {r[0] for r in rows} == {"C"}
    assert set(statuses(engine, ids).values()) == {"C"}
