"""Asynchronous queue entries: the keys ASYNC steps wait on and the data that ends the wait."""

from __future__ import annotations

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
from qorus_core.db.waits.common import (
    _QUEUES,
    QS_RECEIVED,
    QS_USED,
    QS_WAITING,
    QUEUE_STATUS_NAMES,
    _data,
    _find_named,
    _list_named,
    wake_order,
)
from qorus_core.model.errors import NotFoundError, QorusError, ValidationError

wi = t.workflow_instance
qd = t.queue_data


@dataclass(frozen=True)
class QueueEntry:
    queueid: int
    queuekey: str
    status: str
    data: Any
    modified: datetime


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
