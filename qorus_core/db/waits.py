"""What waiting steps wait on: asynchronous queue entries, synchronization events and child
orders, and the wake-up of the orders whose wait is over.

An order whose steps wait (ASYNC-WAITING, EVENT-WAITING, WAITING) is owned by no session and
becomes due when its ``retry_trigger`` passes. Whatever ends a wait (queue data received, an
event posted, a child order finished) sets that trigger to now in the same transaction, so an
order is never left waiting for something that already happened, even when the order is being
processed at that moment: the engine keeps a trigger set while it ran (see
:func:`qorus_core.db.steps.finish_owned`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from qorus_core.db import tables as t
from qorus_core.db.dialects import dialect_for
from qorus_core.db.refdata import now
from qorus_core.db.unit import dumps
from qorus_core.db.wake import notify_due
from qorus_core.model.errors import NotFoundError, QorusError, ValidationError
from qorus_core.model.status import ORDER_STATUS_NAMES
from qorus_core.model.status import OrderStatus as S

wi = t.workflow_instance
qd = t.queue_data
ev = t.workflow_events
sie = t.step_instance_events
swi = t.subworkflow_instance

# queue entry statuses: the database code -> the API name
QS_WAITING, QS_RECEIVED, QS_ERROR, QS_USED = "W", "R", "E", "X"
QUEUE_STATUS_NAMES = {"W": "WAITING", "R": "RECEIVED", "E": "ERROR", "X": "USED"}
QUEUE_STATUS_CODES = {v: k for k, v in QUEUE_STATUS_NAMES.items()}

#: order statuses a finished wait makes due (an IN-PROGRESS order keeps the trigger for later)
_WAKEABLE = (S.ASYNC_WAITING, S.EVENT_WAITING, S.WAITING, S.IN_PROGRESS, S.RETRY)


def _data(text: str | None) -> Any:
    return None if text is None else json.loads(text)


#: the ``{<id>, name, desc}`` tables: (table, its id column, the id's key in a result)
_Named = tuple[Any, Any, str]
_QUEUES: _Named = (t.queues, t.queues.c.queueid, "queueid")
_EVENT_TYPES: _Named = (
    t.workflow_event_types,
    t.workflow_event_types.c.workflow_event_typeid,
    "id",
)


def wake_order(conn: Connection, wfiid: int, ts: datetime | None = None) -> int | None:
    """Make a waiting order due now; its workflowid when it was woken, else None."""
    ts = ts or now()
    row = conn.execute(
        select(wi.c.workflowid, wi.c.workflowstatus).where(wi.c.workflow_instanceid == wfiid)
    ).first()
    if row is None or row[1] not in _WAKEABLE:
        return None
    conn.execute(
        update(wi)
        .where(wi.c.workflow_instanceid == wfiid, wi.c.workflowstatus.in_(_WAKEABLE))
        .values(retry_trigger=ts)
    )
    workflowid = int(row[0])
    if row[1] != S.IN_PROGRESS:
        notify_due(conn, [workflowid])
    return workflowid


# --------------------------------------------------------------------------- queues


@dataclass(frozen=True)
class QueueEntry:
    queueid: int
    queuekey: str
    status: str
    data: Any
    modified: datetime


def _find_named(
    conn: Connection, named: _Named, ref: object, what: str, code: str
) -> dict[str, Any]:
    """The row of ``named`` by name or id: ``{<id>, name, desc}``; 404 ``code`` otherwise."""
    table, ident, key = named
    text = str(ref)
    cond = table.c.name == text
    if text.isascii() and text.isdigit():
        cond = cond | (ident == int(text))
    row = conn.execute(select(ident, table.c.name, table.c.description).where(cond)).first()
    if row is None:
        raise NotFoundError(f"{what} {text!r} does not exist", code=code)
    return {key: int(row[0]), "name": row[1], "desc": row[2]}


def _list_named(conn: Connection, named: _Named) -> list[dict[str, Any]]:
    """Every row of ``named`` by name: ``{<id>, name, desc}``."""
    table, ident, key = named
    return [
        {key: int(r[0]), "name": r[1], "desc": r[2]}
        for r in conn.execute(
            select(ident, table.c.name, table.c.description).order_by(table.c.name)
        )
    ]


def find_queue(conn: Connection, ref: object) -> dict[str, Any]:
    """A queue by name or id: ``{queueid, name, desc}``; 404 UNKNOWN-QUEUE otherwise."""
    return _find_named(conn, _QUEUES, ref, "async queue", "UNKNOWN-QUEUE")


def list_queues(conn: Connection) -> list[dict[str, Any]]:
    return _list_named(conn, _QUEUES)


def queue_entry(conn: Connection, wfiid: int, stepid: int, ind: int) -> QueueEntry | None:
    """The queue entry of a step instance (its latest), or None."""
    row = conn.execute(
        select(qd.c.queueid, qd.c.queuekey, qd.c.queue_data_status, qd.c.data, qd.c.modified)
        .where(qd.c.workflow_instanceid == wfiid, qd.c.stepid == stepid, qd.c.ind == ind)
        .order_by(qd.c.queue_dataid.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return QueueEntry(int(row[0]), row[1], row[2], _data(row[3]), row[4])


def key_taken(conn: Connection, queueid: int, key: str) -> bool:
    return (
        conn.execute(
            select(qd.c.queue_dataid).where(qd.c.queueid == queueid, qd.c.queuekey == key)
        ).first()
        is not None
    )


def discard_entries(conn: Connection, wfiid: int, stepid: int, ind: int) -> int:
    """Drop a step instance's queue entries (the step runs ``primary()`` again)."""
    return int(
        conn.execute(
            delete(qd).where(
                qd.c.workflow_instanceid == wfiid, qd.c.stepid == stepid, qd.c.ind == ind
            )
        ).rowcount
    )


def submit_key(
    conn: Connection, queueid: int, wfiid: int, stepid: int, ind: int, key: str, ts: datetime
) -> None:
    """Record the key a step waits on (with the step's commit); a key already used on the
    queue is refused with DUPLICATE-KEY."""
    discard_entries(conn, wfiid, stepid, ind)
    try:
        with conn.begin_nested():
            conn.execute(
                insert(qd).values(
                    queueid=queueid,
                    workflow_instanceid=wfiid,
                    stepid=stepid,
                    ind=ind,
                    queuekey=key,
                    queue_data_status=QS_WAITING,
                    data=None,
                    created=ts,
                    modified=ts,
                )
            )
    except IntegrityError:
        raise QorusError(
            f"key {key!r} is already in use on async queue id {queueid}", code="DUPLICATE-KEY"
        ) from None


def _waiting_entry(wfiid: int, stepid: int, ind: int) -> Any:
    return and_(
        qd.c.workflow_instanceid == wfiid,
        qd.c.stepid == stepid,
        qd.c.ind == ind,
        qd.c.queue_data_status == QS_WAITING,
    )


def rewait(conn: Connection, wfiid: int, stepid: int, ind: int, ts: datetime) -> None:
    """The step waits on its entry again: its ``async_delay`` starts over from ``ts``."""
    conn.execute(update(qd).where(_waiting_entry(wfiid, stepid, ind)).values(modified=ts))


def close_waiting(conn: Connection, wfiid: int, stepid: int, ind: int, ts: datetime) -> None:
    """The step no longer waits (completed or skipped): its WAITING entry becomes USED."""
    conn.execute(
        update(qd)
        .where(_waiting_entry(wfiid, stepid, ind))
        .values(queue_data_status=QS_USED, modified=ts)
    )


def _locked_entry(conn: Connection, queueid: int, key: str) -> Any:
    q = select(qd.c.queue_dataid, qd.c.workflow_instanceid, qd.c.queue_data_status).where(
        qd.c.queueid == queueid, qd.c.queuekey == key
    )
    row = conn.execute(dialect_for(conn).lock_rows(q)).first()
    if row is None:
        raise NotFoundError(f"no entry with key {key!r} on the async queue", code="INVALID-KEY")
    if row[2] != QS_WAITING:
        raise ValidationError(
            f"the entry with key {key!r} has status {QUEUE_STATUS_NAMES.get(row[2], row[2])}; "
            "only a WAITING entry can be updated or canceled",
            code="INVALID-STATUS",
        )
    return row


def update_data(conn: Connection, queueid: int, key: str, data: Any) -> int | None:
    """Give a WAITING entry its data (RECEIVED) and wake its order; the order's workflowid
    when it was woken."""
    row = _locked_entry(conn, queueid, key)
    ts = now()
    try:
        text = dumps(data)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"the queue data cannot be stored: {exc}") from None
    conn.execute(
        update(qd)
        .where(qd.c.queue_dataid == row[0])
        .values(queue_data_status=QS_RECEIVED, data=text, modified=ts)
    )
    return wake_order(conn, int(row[1]), ts)


def cancel_key(conn: Connection, queueid: int, key: str) -> int | None:
    """Cancel a WAITING entry (USED): its step runs ``validation()`` at once, as when
    ``async_delay`` passes; the order's workflowid when it was woken."""
    row = _locked_entry(conn, queueid, key)
    ts = now()
    conn.execute(
        update(qd).where(qd.c.queue_dataid == row[0]).values(queue_data_status=QS_USED, modified=ts)
    )
    return wake_order(conn, int(row[1]), ts)


def update_key(conn: Connection, queueid: int, old: str, new: str) -> None:
    """Give a WAITING entry a new key (the step waits on ``new`` from now on); 404
    INVALID-KEY for an unknown ``old``, 400 INVALID-STATUS when the entry is not WAITING, 409
    DUPLICATE-KEY when ``new`` is taken on the queue. The wait's time (``modified``, from
    which ``async_delay`` counts) is kept."""
    row = _locked_entry(conn, queueid, old)
    if new == old:
        return
    taken = conn.execute(
        select(qd.c.queue_dataid).where(
            qd.c.queueid == queueid, qd.c.queuekey == new, qd.c.queue_dataid != row[0]
        )
    ).first()
    duplicate = QorusError(
        f"key {new!r} is already in use on async queue id {queueid}", code="DUPLICATE-KEY"
    )
    if taken is not None:
        raise duplicate
    try:
        with conn.begin_nested():
            conn.execute(update(qd).where(qd.c.queue_dataid == row[0]).values(queuekey=new))
    except IntegrityError:  # taken at the same moment by another transaction
        raise duplicate from None


def _entry_dict(r: Any) -> dict[str, Any]:
    m = r._mapping
    out = {
        "queuekey": m["queuekey"],
        "queue_data_status": QUEUE_STATUS_NAMES.get(m["queue_data_status"], m["queue_data_status"]),
        "workflow_instanceid": int(m["workflow_instanceid"]),
        "stepid": int(m["stepid"]),
        "ind": int(m["ind"]),
        "created": m["created"],
        "modified": m["modified"],
    }
    if m["queue_data_status"] == QS_RECEIVED:
        out["data"] = _data(m["data"])
    return out


def key_info(conn: Connection, queueid: int, key: str) -> dict[str, Any] | None:
    row = conn.execute(select(qd).where(qd.c.queueid == queueid, qd.c.queuekey == key)).first()
    return None if row is None else _entry_dict(row)


def entries(
    conn: Connection, queueid: int, status: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """A queue's entries, oldest first; all but USED ones unless ``status`` says otherwise."""
    q = select(qd).where(qd.c.queueid == queueid)
    if status is None:
        q = q.where(qd.c.queue_data_status != QS_USED)
    else:
        q = q.where(qd.c.queue_data_status == status)
    q = q.order_by(qd.c.queue_dataid).limit(limit).offset(offset)
    return [_entry_dict(r) for r in conn.execute(q)]


def summary(conn: Connection, queueid: int) -> dict[str, dict[str, int]]:
    """``{"NAME/VERSION": {STATUS: count}}`` over the queue's entries."""
    wf = t.workflows
    out: dict[str, dict[str, int]] = {}
    for name, version, status, count in conn.execute(
        select(wf.c.name, wf.c.version, qd.c.queue_data_status, func.count())
        .select_from(qd)
        .join(wi, wi.c.workflow_instanceid == qd.c.workflow_instanceid)
        .join(wf, wf.c.workflowid == wi.c.workflowid)
        .where(qd.c.queueid == queueid)
        .group_by(wf.c.name, wf.c.version, qd.c.queue_data_status)
    ):
        out.setdefault(f"{name}/{version}", {})[QUEUE_STATUS_NAMES.get(status, status)] = int(count)
    return out


# --------------------------------------------------------------------------- events


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


# --------------------------------------------------------------------------- child orders


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


# --------------------------------------------------------------------------- order details


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
