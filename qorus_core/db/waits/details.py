"""What each step instance of an order waits on, for the order's details."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.db.waits.common import (
    QUEUE_STATUS_NAMES,
)

qd = t.queue_data
ev = t.workflow_events
sie = t.step_instance_events
swi = t.subworkflow_instance


def step_waits(conn: Connection, wfiid: int) -> dict[tuple[int, int], dict[str, Any]]:
    """What each step instance of an order waits (or waited) on, for the order's details:
    ``queuekey``, ``queue_data_status``, ``queue``; ``eventkey``, ``event``, ``posted``;
    ``subworkflow_instanceid``."""
    out: dict[tuple[int, int], dict[str, Any]] = {}
    q = t.queues
    for stepid, ind, key, status, name in conn.execute(
        select(qd.c.stepid, qd.c.ind, qd.c.queuekey, qd.c.queue_data_status, q.c.name)
        .join(q, q.c.queueid == qd.c.queueid)
        .where(qd.c.workflow_instanceid == wfiid)
        .order_by(qd.c.queue_dataid)
    ):
        out.setdefault((int(stepid), int(ind)), {}).update(
            queuekey=key,
            queue_data_status=QUEUE_STATUS_NAMES.get(status, status),
            queue=name,
        )
    et = t.workflow_event_types
    for stepid, ind, key, name, posted in conn.execute(
        select(sie.c.stepid, sie.c.ind, sie.c.eventkey, et.c.name, ev.c.posted)
        .join(et, et.c.workflow_event_typeid == sie.c.workflow_event_typeid)
        .outerjoin(
            ev,
            and_(
                ev.c.workflow_event_typeid == sie.c.workflow_event_typeid,
                ev.c.eventkey == sie.c.eventkey,
            ),
        )
        .where(sie.c.workflow_instanceid == wfiid)
    ):
        out.setdefault((int(stepid), int(ind)), {}).update(
            eventkey=key, event=name, posted=bool(posted)
        )
    for stepid, ind, child in conn.execute(
        select(swi.c.stepid, swi.c.ind, swi.c.subworkflow_instanceid).where(
            swi.c.workflow_instanceid == wfiid
        )
    ):
        out.setdefault((int(stepid), int(ind)), {})["subworkflow_instanceid"] = int(child)
    return out
