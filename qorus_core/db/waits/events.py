"""Workflow synchronization events: binding EVENT steps and posting events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from qorus_core.db import tables as t
from qorus_core.db.dialects import dialect_for
from qorus_core.db.refdata import now
from qorus_core.db.waits.common import (
    _EVENT_TYPES,
    _find_named,
    _list_named,
    wake_order,
)

ev = t.workflow_events
sie = t.step_instance_events


def find_event_type(conn: Connection, ref: object) -> dict[str, Any]:
    """An event type by name or id: ``{id, name, desc}``; 404 UNKNOWN-EVENT otherwise."""
    return _find_named(conn, _EVENT_TYPES, ref, "event type", "UNKNOWN-EVENT")


def list_event_types(conn: Connection) -> list[dict[str, Any]]:
    return _list_named(conn, _EVENT_TYPES)


def _lock_event(conn: Connection, typeid: int, key: str, ts: datetime) -> bool:
    """Lock the event's row, creating it unposted if need be; whether it is posted.

    Binding and posting both lock this row first, so a post never misses a binding that
    commits at the same time, nor a binding a post."""
    q = select(ev.c.posted).where(ev.c.workflow_event_typeid == typeid, ev.c.eventkey == key)
    row = conn.execute(dialect_for(conn).lock_rows(q)).first()
    if row is not None:
        return bool(row[0])
    try:
        with conn.begin_nested():
            conn.execute(
                insert(ev).values(
                    workflow_event_typeid=typeid,
                    eventkey=key,
                    posted=False,
                    created=ts,
                    modified=ts,
                )
            )
        return False
    except IntegrityError:  # created at the same moment by another transaction
        row = conn.execute(dialect_for(conn).lock_rows(q)).first()
        return bool(row[0]) if row is not None else False


def event_posted(conn: Connection, typeid: int, key: str) -> bool:
    row = conn.execute(
        select(ev.c.posted).where(ev.c.workflow_event_typeid == typeid, ev.c.eventkey == key)
    ).first()
    return row is not None and bool(row[0])


def post_event(conn: Connection, typeid: int, key: str) -> tuple[bool, set[int]]:
    """Post an event: whether this was its first post, and the workflowids of the orders
    woken (those with a step bound to it)."""
    ts = now()
    if _lock_event(conn, typeid, key, ts):
        return False, set()
    conn.execute(
        update(ev)
        .where(ev.c.workflow_event_typeid == typeid, ev.c.eventkey == key)
        .values(posted=True, modified=ts)
    )
    woken: set[int] = set()
    for (wfiid,) in conn.execute(
        select(sie.c.workflow_instanceid)
        .where(sie.c.workflow_event_typeid == typeid, sie.c.eventkey == key)
        .distinct()
    ):
        wf = wake_order(conn, int(wfiid), ts)
        if wf is not None:
            woken.add(wf)
    return True, woken


def bind_event(
    conn: Connection, typeid: int, key: str, wfiid: int, stepid: int, ind: int, ts: datetime
) -> bool:
    """Bind a step instance to an event (with the step's commit); whether it is posted."""
    posted = _lock_event(conn, typeid, key, ts)
    conn.execute(
        delete(sie).where(
            sie.c.workflow_instanceid == wfiid, sie.c.stepid == stepid, sie.c.ind == ind
        )
    )
    conn.execute(
        insert(sie).values(
            workflow_instanceid=wfiid,
            stepid=stepid,
            ind=ind,
            workflow_event_typeid=typeid,
            eventkey=key,
            created=ts,
        )
    )
    return posted


def step_event(conn: Connection, wfiid: int, stepid: int, ind: int) -> tuple[int, str, bool] | None:
    """The event a step instance is bound to: ``(typeid, key, posted)``, or None."""
    row = conn.execute(
        select(sie.c.workflow_event_typeid, sie.c.eventkey, ev.c.posted)
        .select_from(sie)
        .outerjoin(
            ev,
            and_(
                ev.c.workflow_event_typeid == sie.c.workflow_event_typeid,
                ev.c.eventkey == sie.c.eventkey,
            ),
        )
        .where(sie.c.workflow_instanceid == wfiid, sie.c.stepid == stepid, sie.c.ind == ind)
    ).first()
    if row is None:
        return None
    return int(row[0]), row[1], bool(row[2])


def search_events(
    conn: Connection,
    typeid: int | None = None,
    key: str | None = None,
    posted: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    et = t.workflow_event_types
    q = select(
        ev.c.workflow_event_typeid,
        et.c.name,
        ev.c.eventkey,
        ev.c.posted,
        ev.c.created,
        ev.c.modified,
    ).join(et, et.c.workflow_event_typeid == ev.c.workflow_event_typeid)
    if typeid is not None:
        q = q.where(ev.c.workflow_event_typeid == typeid)
    if key is not None:
        q = q.where(ev.c.eventkey == key)
    if posted is not None:
        q = q.where(ev.c.posted.is_(posted))
    q = q.order_by(ev.c.workflow_event_typeid, ev.c.eventkey).limit(limit).offset(offset)
    return [
        {
            "id": int(r[0]),
            "name": r[1],
            "eventkey": r[2],
            "posted": bool(r[3]),
            "created": r[4],
            "modified": r[5],
        }
        for r in conn.execute(q)
    ]
