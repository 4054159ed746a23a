"""Orders run with shared step commits (``workflow-commit-slots``, issue 17): four workers,
one slot, so the step commits of the other workers share transactions. Every order ends as
it would alone: data, keys, segments, errors and statuses, with fewer transactions than
steps; a step that fails sends only its own order to ERROR."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.orders import create_orders
from qorus_server.engine.manager import WorkflowManager
from tests.helpers.definitions import add_workflow, noop_step
from tests.helpers.engine import step_rows, wait_orders

pytestmark = pytest.mark.integration

N = 60


def test_shared_step_commits_give_every_order_its_own_end(
    engine: Engine, manager: WorkflowManager
) -> None:
    noop_step(
        engine,
        "GcFirst",
        'wfapi.updateDynamicData({"first": wfapi.getStaticData("n")})\n'
        'wfapi.setOrderKey("gcref", str(wfapi.getStaticData("n")))',
    )
    noop_step(
        engine,
        "GcSecond",
        'if wfapi.getStaticData("n") % 10 == 7:\n'
        '    wfapi.stepError("GC-FAIL", "the seventh of ten fails")\n'
        "else:\n"
        '    wfapi.updateDynamicData({"second": True})',
    )
    noop_step(engine, "GcThird", 'wfapi.updateDynamicData({"third": True})')
    wfid = add_workflow(
        engine,
        "GROUPCOMMIT",
        ["GcFirst", "GcSecond", "GcThird"],
        keys=["gcref"],
        options={"workflow-workers": 4, "workflow-commit-slots": 1},
        errors={"GC-FAIL": {"severity": "MAJOR", "status": "ERROR"}},
    )
    with engine.begin() as conn:
        ids = create_orders(conn, wfid, [{"staticdata": {"n": i}} for i in range(N)])
    manager.start_workflow("GROUPCOMMIT")
    manager.notify(wfid)
    final = wait_orders(engine, ids, final="CE", timeout=60)
    [inst] = [i for i in manager._instances.values() if i.wdef.workflowid == wfid]
    group = inst.group
    assert group.slots == 1
    assert group.units >= 2 * N  # every plain step commit went through the group ...
    assert group.transactions < group.units  # ... and some shared a transaction
    wi, oi, k = t.workflow_instance, t.order_instance, t.order_instance_keys
    with engine.connect() as conn:
        dyn = dict(
            conn.execute(
                select(oi.c.workflow_instanceid, oi.c.dynamicdata).where(
                    oi.c.workflow_instanceid.in_(ids)
                )
            ).all()
        )
        keys = dict(
            conn.execute(
                select(k.c.workflow_instanceid, k.c.value).where(
                    k.c.workflow_instanceid.in_(ids), k.c.keyname == "gcref"
                )
            ).all()
        )
        owners = set(
            conn.execute(
                select(wi.c.status_sessionid).where(wi.c.workflow_instanceid.in_(ids))
            ).scalars()
        )
        segments = set(
            conn.execute(
                select(
                    t.segment_instance.c.workflow_instanceid, t.segment_instance.c.segmentstatus
                ).where(t.segment_instance.c.workflow_instanceid.in_(ids))
            ).all()
        )
    assert owners == {0}
    for n, wfiid in enumerate(ids):
        data = json.loads(dyn[wfiid])
        assert keys[wfiid] == str(n) and data["first"] == n
        statuses = {r["name"]: r["stepstatus"] for r in step_rows(engine, wfiid)}
        if n % 10 == 7:
            assert final[wfiid] == "E"
            assert statuses == {"GcFirst": "C", "GcSecond": "E"}
            assert "second" not in data and (wfiid, "E") in segments
        else:
            assert final[wfiid] == "C"
            assert statuses == {"GcFirst": "C", "GcSecond": "C", "GcThird": "C"}
            assert data["second"] and data["third"] and (wfiid, "C") in segments
