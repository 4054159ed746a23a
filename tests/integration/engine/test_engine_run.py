"""Orders run: series and parallel steps, dynamic data, keys, workflow class hooks."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.orders import create_order
from qorus_server.engine.manager import WorkflowManager
from tests.helpers.defs import add_workflow, noop_step
from tests.helpers.engine import Logs, step_rows, wait_orders

pytestmark = pytest.mark.integration


def test_series_workflow_completes(engine: Engine, manager: WorkflowManager, logs: Logs) -> None:
    noop_step(engine, "S1", 'wfapi.updateDynamicData({"s1": wfapi.getStaticData("x")})')
    noop_step(engine, "S2", 'UserApi.logInfo("s2 sees %y", wfapi.getDynamicData("s1"))')
    noop_step(engine, "S3", 'wfapi.updateDynamicData({"s3": True})')
    wfid = add_workflow(engine, "SERIES", ["S1", "S2", "S3"])
    manager.start_workflow("SERIES")
    ids = [create_order(engine, wfid, {"x": i}) for i in range(5)]
    manager.notify(wfid)
    st = wait_orders(engine, ids)
    assert set(st.values()) == {"C"}
    for i, wfiid in enumerate(ids):
        rows = step_rows(engine, wfiid)
        assert sorted(r["name"] for r in rows) == ["S1", "S2", "S3"]
        assert {r["stepstatus"] for r in rows} == {"C"}
        with engine.connect() as conn:
            dyn = conn.execute(
                select(t.order_instance.c.dynamicdata).where(
                    t.order_instance.c.workflow_instanceid == wfiid
                )
            ).scalar()
            done = conn.execute(
                select(t.workflow_instance.c.completed).where(
                    t.workflow_instance.c.workflow_instanceid == wfiid
                )
            ).scalar()
        assert dyn is not None and f'"s1":{i}' in dyn and '"s3":true' in dyn
        assert done is not None
    assert "s2 sees 3" in logs.messages("SERIES")
