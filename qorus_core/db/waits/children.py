"""Child orders of SUBWORKFLOW steps, their wake-up of the parent, and child feedback."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.db.refdata import now
from qorus_core.db.unit import dumps
from qorus_core.db.waits.common import (
    _data,
    wake_order,
)
from qorus_core.db.wake import notify_due
from qorus_core.model.errors import QorusError
from qorus_core.model.status import ORDER_STATUS_NAMES
from qorus_core.model.status import OrderStatus as S

wi = t.workflow_instance
swi = t.subworkflow_instance


def bind_child(conn: Connection, wfiid: int, stepid: int, ind: int, child: int) -> None:
    conn.execute(
        insert(swi).values(
            workflow_instanceid=wfiid,
            stepid=stepid,
            ind=ind,
            subworkflow_instanceid=child,
            created=now(),
        )
    )


def child_of(conn: Connection, wfiid: int, stepid: int, ind: int) -> tuple[int, str] | None:
    """The child order bound to a step instance and its status code, or None."""
    row = conn.execute(
        select(swi.c.subworkflow_instanceid, wi.c.workflowstatus)
        .join(wi, wi.c.workflow_instanceid == swi.c.subworkflow_instanceid)
        .where(swi.c.workflow_instanceid == wfiid, swi.c.stepid == stepid, swi.c.ind == ind)
    ).first()
    return None if row is None else (int(row[0]), row[1])


def retry_child(conn: Connection, child: int) -> int | None:
    """Send a child order in ERROR back to RETRY (its parent was retried); the child's
    workflowid when it was."""
    ts = now()
    res = conn.execute(
        update(wi)
        .where(wi.c.workflow_instanceid == child, wi.c.workflowstatus == S.ERROR)
        .values(workflowstatus=S.RETRY, retry_trigger=ts, modified=ts)
    )
    if res.rowcount != 1:
        return None
    si = t.step_instance
    conn.execute(
        update(si)
        .where(si.c.workflow_instanceid == child, si.c.stepstatus == S.ERROR)
        .values(stepstatus=S.RETRY)
    )
    wf = conn.execute(select(wi.c.workflowid).where(wi.c.workflow_instanceid == child)).scalar()
    if wf is None:
        return None
    notify_due(conn, [int(wf)])
    return int(wf)


def wake_parent(conn: Connection, child: int, status: str) -> int | None:
    """A child order finished with ``status``: wake the parent that waits on it (an ERROR
    parent waiting on this child goes back to WAITING when the child completes); the
    parent's workflowid when it was woken."""
    link = conn.execute(
        select(swi.c.workflow_instanceid, swi.c.stepid, swi.c.ind).where(
            swi.c.subworkflow_instanceid == child
        )
    ).first()
    if link is None:
        return None
    parent, stepid, ind = int(link[0]), int(link[1]), int(link[2])
    if status == S.COMPLETE:
        si = t.step_instance
        back = conn.execute(
            update(si)
            .where(
                si.c.workflow_instanceid == parent,
                si.c.stepid == stepid,
                si.c.ind == ind,
                si.c.stepstatus == S.ERROR,
            )
            .values(stepstatus=S.WAITING)
        ).rowcount
        if back:
            conn.execute(
                update(wi)
                .where(wi.c.workflow_instanceid == parent, wi.c.workflowstatus == S.ERROR)
                .values(workflowstatus=S.WAITING, modified=now())
            )
    return wake_order(conn, parent)


def children(conn: Connection, wfiid: int) -> list[dict[str, Any]]:
    wf = t.workflows
    return [
        {
            "stepid": int(r[0]),
            "ind": int(r[1]),
            "subworkflow_instanceid": int(r[2]),
            "name": r[3],
            "version": r[4],
            "workflowstatus": ORDER_STATUS_NAMES.get(r[5], r[5]),
        }
        for r in conn.execute(
            select(
                swi.c.stepid,
                swi.c.ind,
                swi.c.subworkflow_instanceid,
                wf.c.name,
                wf.c.version,
                wi.c.workflowstatus,
            )
            .join(wi, wi.c.workflow_instanceid == swi.c.subworkflow_instanceid)
            .join(wf, wf.c.workflowid == wi.c.workflowid)
            .where(swi.c.workflow_instanceid == wfiid)
            .order_by(swi.c.stepid, swi.c.ind)
        )
    ]


def leave_feedback(conn: Connection, parent: int, child: int, key: str, value: Any) -> None:
    """Store a child's feedback for its parent (one value per key, the last one wins)."""
    fb = t.order_feedback
    ts = now()
    text = dumps(value)
    row = conn.execute(
        select(wi.c.workflowstatus).where(wi.c.workflow_instanceid == parent)
    ).first()
    if row is None:
        raise QorusError(f"parent order {parent} does not exist", code="FEEDBACK-ERROR")
    if row[0] in (S.COMPLETE, S.CANCELED):
        raise QorusError(
            f"parent order {parent} is already finished and cannot take feedback",
            code="STATUS-ERROR",
        )
    done = conn.execute(
        update(fb)
        .where(fb.c.workflow_instanceid == parent, fb.c.feedback_key == key)
        .values(child_workflow_instanceid=child, value=text, modified=ts)
    ).rowcount
    if not done:
        conn.execute(
            insert(fb).values(
                workflow_instanceid=parent,
                feedback_key=key,
                child_workflow_instanceid=child,
                value=text,
                created=ts,
                modified=ts,
            )
        )


def feedback(conn: Connection, parent: int) -> dict[str, Any]:
    fb = t.order_feedback
    return {
        r[0]: _data(r[1])
        for r in conn.execute(
            select(fb.c.feedback_key, fb.c.value).where(fb.c.workflow_instanceid == parent)
        )
    }
