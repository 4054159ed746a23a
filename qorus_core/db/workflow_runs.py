"""Workflow and order rows the engine's manager and synchronous runs read and write outside
the per-step hot path (that one is :mod:`qorus_core.db.steps`): which workflows autostart, a
workflow's enabled/autostart columns, a synchronous order's flag, due state and result."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.db.group_status import not_stopped
from qorus_core.db.refdata import now
from qorus_core.db.versions import find_version
from qorus_core.model.status import OrderStatus as S

wi = t.workflow_instance
wf = t.workflows


def autostart_workflows(conn: Connection) -> list[tuple[int, int]]:
    """``(workflowid, autostart)`` of every enabled, not deprecated workflow that autostarts
    and that no disabled interface group stops."""
    rows = conn.execute(
        select(wf.c.workflowid, wf.c.autostart).where(
            wf.c.enabled.is_(True),
            wf.c.deprecated.is_(False),
            wf.c.autostart > 0,
            not_stopped("workflow", wf.c.workflowid),
        )
    ).all()
    return [(int(r[0]), int(r[1])) for r in rows]


def update_workflow(conn: Connection, workflowid: int, **values: Any) -> None:
    """Set columns of a workflow's row (and its modified time)."""
    conn.execute(update(wf).where(wf.c.workflowid == workflowid).values(modified=now(), **values))


def set_synchronous(conn: Connection, wfiid: int, flag: bool) -> None:
    """Mark an order as run by a synchronous execution (never claimed by normal instances)."""
    conn.execute(update(wi).where(wi.c.workflow_instanceid == wfiid).values(synchronous=flag))


def due_state(conn: Connection, wfiid: int) -> tuple[str, datetime | None]:
    """An order's status code and retry trigger."""
    row = conn.execute(
        select(wi.c.workflowstatus, wi.c.retry_trigger).where(wi.c.workflow_instanceid == wfiid)
    ).one()
    return str(row[0]), row[1]


def order_outcome(conn: Connection, wfiid: int) -> tuple[str, str | None, Any]:
    """An order's status code, its dynamic data as stored, and its last FATAL or MAJOR error
    row ``(error, description, info)`` when it is in ERROR (else None)."""
    ei = t.error_instance
    status = conn.execute(
        select(wi.c.workflowstatus).where(wi.c.workflow_instanceid == wfiid)
    ).scalar_one()
    dynamic = conn.execute(
        select(t.order_instance.c.dynamicdata).where(
            t.order_instance.c.workflow_instanceid == wfiid
        )
    ).scalar_one_or_none()
    err = None
    if status == S.ERROR:
        err = conn.execute(
            select(ei.c.error, ei.c.description, ei.c.info)
            .where(ei.c.workflow_instanceid == wfiid, ei.c.severity.in_(("FATAL", "MAJOR")))
            .order_by(ei.c.error_instanceid.desc())
            .limit(1)
        ).first()
    return str(status), dynamic, err


def library_class(
    conn: Connection, name: str, version: str | None
) -> tuple[str, str | None, str | None] | None:
    """A library class's ``(version, code, language)``: ``version`` or, without one, its
    latest version; None when it is not loaded."""
    c = t.classes
    found = find_version(conn, c, name, version)
    if found is None:
        return None
    row = conn.execute(
        select(c.c.version, c.c.code, c.c.language).where(c.c.classid == found[0])
    ).one()
    return row[0], row[1], row[2]
