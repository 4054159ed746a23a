"""Operator locks on orders (``PUT orders/{id}?action=lock|unlock|breakLock``).

A locked order (``workflow_instance.operator_lock`` holds the user name) can only be changed by
the operator holding the lock: every order operation of the API runs :func:`check_lock` in its
own transaction, after locking the order row, so a lock taken meanwhile cannot slip through.
Locking, unlocking and breaking a lock each add an order note (``ORDER LOCK: ...``, ``ORDER
UNLOCK: ...``, ``BREAK ORDER LOCK: ...``) in the same transaction, as Qorus does. The engine
itself is not stopped by an operator lock: it only keeps other operators' hands off the order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.db.order_row import lock_order_row
from qorus_core.db.refdata import now
from qorus_core.db.unit import ConnOrEngine, EventSink, PendingEvents, unit
from qorus_core.model.errors import NotFoundError, QorusError, ValidationError

wi = t.workflow_instance

#: the code of a change refused because another operator holds the order's lock
ORDER_LOCKED = "WORKFLOW-ORDER-LOCKED"
#: the code of a refused lock, unlock or break
LOCK_ERROR = "LOCK-ERROR"
#: the default note of an unlock without one (as in Qorus)
DEFAULT_UNLOCK_NOTE = "<unlocked order without note>"


def _lock_row(conn: Connection, wfiid: Any) -> dict[str, Any]:
    cols = [wi.c.workflow_instanceid, wi.c.workflowid, wi.c.operator_lock, t.workflows.c.name]
    return lock_order_row(conn, wfiid, cols, missing_code="ORDER-NOT-FOUND")


def check_lock(conn: Connection, wfiid: Any, user: str) -> None:
    """Refuse (409 WORKFLOW-ORDER-LOCKED) a change of an order locked by another operator.

    Run it first in the transaction of the change: it locks the order row until the commit.
    An unknown order raises 404 ORDER-NOT-FOUND."""
    order = _lock_row(conn, wfiid)
    holder = order["operator_lock"]
    if holder and holder != user:
        raise QorusError(
            f"workflow order {order['workflow_instanceid']} is locked by operator {holder!r}; "
            f"only {holder!r} can change it (or unlock it), or a user with "
            "BREAK-WORKFLOW-ORDER-LOCK can break the lock",
            code=ORDER_LOCKED,
            info={"workflow_instanceid": order["workflow_instanceid"], "operator_lock": holder},
        )


def _note(conn: Connection, wfiid: int, user: str, text: str) -> None:
    ts = now()
    conn.execute(
        insert(t.order_instance_notes).values(
            workflow_instanceid=wfiid, username=user, note=text[:4000], created=ts, modified=ts
        )
    )


def _set_lock(
    conn: Connection,
    pending: PendingEvents,
    order: dict[str, Any],
    holder: str | None,
    user: str,
    note: str,
    event: str,
) -> None:
    wfiid = order["workflow_instanceid"]
    _note(conn, wfiid, user, note)
    conn.execute(
        update(wi)
        .where(wi.c.workflow_instanceid == wfiid)
        .values(operator_lock=holder, note_count=wi.c.note_count + 1, modified=now())
    )
    pending.append(
        (
            event,
            {
                "name": order["name"],
                "workflowid": order["workflowid"],
                "workflow_instanceid": wfiid,
                "operator_lock": holder,
                "user": user,
                "note": note,
            },
        )
    )


def _required_note(note: Any, what: str, wfiid: Any) -> str:
    if not isinstance(note, str) or not note.strip():
        raise ValidationError(
            f"missing string 'note' argument in the {what} request for workflow_instanceid {wfiid}",
            code="ORDER-ERROR",
        )
    return note


def lock_order(
    target: ConnOrEngine, wfiid: Any, user: str, note: Any, *, events: EventSink | None = None
) -> str:
    """Lock the order for ``user`` with a ``note`` (required); "OK". Refused (LOCK-ERROR) when
    another operator holds the lock; locking again by the holder adds the note."""
    text = _required_note(note, "lock", wfiid)
    with unit(target, events) as (conn, pending):
        order = _lock_row(conn, wfiid)
        holder = order["operator_lock"]
        if holder and holder != user:
            raise QorusError(
                f"workflow order {order['workflow_instanceid']} is already locked by operator "
                f"{holder!r}",
                code=LOCK_ERROR,
                info={"operator_lock": holder},
            )
        _set_lock(conn, pending, order, user, user, f"ORDER LOCK: {text}", "WORKFLOW_DATA_LOCKED")
    return "OK"


def unlock_order(
    target: ConnOrEngine,
    wfiid: Any,
    user: str,
    note: Any = None,
    *,
    events: EventSink | None = None,
) -> str:
    """Remove the lock ``user`` holds; "OK". Only the holder may unlock (LOCK-ERROR otherwise);
    an order that is not locked is left as it is."""
    text = note if isinstance(note, str) and note.strip() else DEFAULT_UNLOCK_NOTE
    with unit(target, events) as (conn, pending):
        order = _lock_row(conn, wfiid)
        holder = order["operator_lock"]
        if not holder:
            return "OK"
        if holder != user:
            raise QorusError(
                f"workflow order {order['workflow_instanceid']} is locked by operator "
                f"{holder!r}; only {holder!r} can unlock it (breakLock needs "
                "BREAK-WORKFLOW-ORDER-LOCK)",
                code=LOCK_ERROR,
                info={"operator_lock": holder},
            )
        _set_lock(
            conn, pending, order, None, user, f"ORDER UNLOCK: {text}", "WORKFLOW_DATA_UNLOCKED"
        )
    return "OK"


def break_lock(
    target: ConnOrEngine, wfiid: Any, user: str, note: Any, *, events: EventSink | None = None
) -> str:
    """Remove any operator's lock with a ``note`` (required); "OK". The caller checks the
    BREAK-WORKFLOW-ORDER-LOCK permission."""
    text = _required_note(note, "break lock", wfiid)
    with unit(target, events) as (conn, pending):
        order = _lock_row(conn, wfiid)
        if not order["operator_lock"]:
            return "OK"
        _set_lock(
            conn, pending, order, None, user, f"BREAK ORDER LOCK: {text}", "WORKFLOW_DATA_UNLOCKED"
        )
    return "OK"


def get_lock(target: ConnOrEngine, wfiid: Any) -> str | None:
    """The operator holding the order's lock, or None."""
    with unit(target, None) as (conn, _):
        row = conn.execute(
            select(wi.c.operator_lock).where(wi.c.workflow_instanceid == int(wfiid))
        ).first()
    if row is None:
        raise NotFoundError(f"workflow order {wfiid} does not exist", code="ORDER-NOT-FOUND")
    return str(row[0]) if row[0] else None
