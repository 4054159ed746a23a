"""Operations on orders with the real product's allowed-status rules and error codes.

Each function takes an Engine (it runs its own transaction and posts its events after the
commit) or a Connection (the caller's transaction), locks the order row, checks the status,
changes it and records a system event. An order that is IN-PROGRESS belongs to the engine and
is refused. The ``*_orders`` bulk forms run one transaction per order and report per order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from qorus_core.db import audit, sensitive, waits
from qorus_core.db import tables as t
from qorus_core.db.order_row import lock_order_row
from qorus_core.db.orders import (
    check_priority,
    normalize_keys,
    parse_timestamp,
    workflow_brief,
)
from qorus_core.db.refdata import now
from qorus_core.db.unit import ConnOrEngine, EventSink, PendingEvents, dumps, unit
from qorus_core.db.wake import notify_due
from qorus_core.model.errors import NotFoundError, QorusError, ValidationError
from qorus_core.model.status import ORDER_STATUS_NAMES, OrderStatus

wi = t.workflow_instance
si = t.step_instance

#: statuses in which an order is (or may be) due: READY, RETRY, SCHEDULED
_DUE = frozenset({OrderStatus.READY, OrderStatus.RETRY, OrderStatus.SCHEDULED})


def _name(code: str | None) -> str | None:
    return ORDER_STATUS_NAMES.get(code or "", code)


def _lock_order(conn: Connection, wfiid: Any, code: str) -> dict[str, Any]:
    return lock_order_row(conn, wfiid, [wi, t.workflows.c.name, t.workflows.c.version], code=code)


def _refuse_in_progress(order: dict[str, Any], code: str, what: str) -> None:
    if order["workflowstatus"] == OrderStatus.IN_PROGRESS:
        raise QorusError(
            f"cannot {what} order {order['workflow_instanceid']}: it is IN-PROGRESS "
            f"(owned by session {order['status_sessionid']})",
            code=code,
        )


def _status_event(
    conn: Connection, pending: PendingEvents, order: dict[str, Any], new: str
) -> None:
    """Record the status change: its audit row (under the trail in force) in the same
    transaction, its event after the commit; an order made due also wakes the other nodes at
    commit."""
    if new in _DUE:
        notify_due(conn, [int(order["workflowid"])])
    audit.status_change(conn, order, new)
    pending.append(("WORKFLOW_STATUS_CHANGED", status_info(order, order["workflowstatus"], new)))


def status_info(order: Mapping[str, Any], old: str | None, new: str) -> dict[str, Any]:
    """The info of WORKFLOW_STATUS_CHANGED: the order and ``info: {old, new}`` (names)."""
    return {
        "name": order["name"],
        "version": order["version"],
        "workflowid": order["workflowid"],
        "workflow_instanceid": order["workflow_instanceid"],
        "info": {"old": _name(old), "new": _name(new)},
    }


def _set(conn: Connection, order: dict[str, Any], **values: Any) -> None:
    values.setdefault("modified", now())
    conn.execute(
        update(wi).where(wi.c.workflow_instanceid == order["workflow_instanceid"]).values(**values)
    )


def _result(order: dict[str, Any], new: str, **extra: Any) -> dict[str, Any]:
    return {
        "workflow_instanceid": order["workflow_instanceid"],
        "old_status": _name(order["workflowstatus"]),
        "workflow_status": _name(new),
        **extra,
    }


# ---------------------------------------------------------------------- status operations


def retry_order(
    target: ConnOrEngine, wfiid: int, *, events: EventSink | None = None
) -> dict[str, Any]:
    """ERROR, ASYNC-WAITING or RETRY -> RETRY, due now; failed steps become RETRY."""
    with unit(target, events) as (conn, pending):
        order = _lock_order(conn, wfiid, "RETRY-ERROR")
        if order["workflowstatus"] not in (
            OrderStatus.ERROR,
            OrderStatus.ASYNC_WAITING,
            OrderStatus.RETRY,
        ):
            raise QorusError(
                f"order {order['workflow_instanceid']} has status "
                f"{_name(order['workflowstatus'])}; only ERROR, ASYNC-WAITING or RETRY orders "
                "can be retried",
                code="STATUS-ERROR",
            )
        if order["status_sessionid"]:
            raise QorusError(
                f"order {order['workflow_instanceid']} is managed by session "
                f"{order['status_sessionid']}",
                code="SESSION-ERROR",
            )
        steps = conn.execute(
            update(si)
            .where(
                si.c.workflow_instanceid == order["workflow_instanceid"],
                si.c.stepstatus.in_((OrderStatus.ERROR, OrderStatus.RETRY)),
            )
            .values(stepstatus=OrderStatus.RETRY)
        ).rowcount
        ts = now()
        _set(conn, order, workflowstatus=OrderStatus.RETRY, retry_trigger=ts, modified=ts)
        _status_event(conn, pending, order, OrderStatus.RETRY)
        return _result(order, OrderStatus.RETRY, steps_updated=steps, workflow_updated=True)


def cancel_order(
    target: ConnOrEngine,
    wfiid: int,
    *,
    events: EventSink | None = None,
    purge_sensitive: bool = False,
) -> dict[str, Any]:
    """Any status but IN-PROGRESS, COMPLETE and CANCELED -> CANCELED (the old one kept);
    with ``purge_sensitive`` (option purge-sensitive-data-canceled) its sensitive data go."""
    with unit(target, events) as (conn, pending):
        order = _lock_order(conn, wfiid, "CANCEL-WORKFLOW-ERROR")
        status = order["workflowstatus"]
        if status in (OrderStatus.IN_PROGRESS, OrderStatus.COMPLETE, OrderStatus.CANCELED):
            raise QorusError(
                f"order {order['workflow_instanceid']} has status {_name(status)} and cannot be "
                "canceled",
                code="CANCEL-WORKFLOW-ERROR",
            )
        orig = order["workflowstatus_orig"] if status == OrderStatus.BLOCKED else status
        _set(conn, order, workflowstatus=OrderStatus.CANCELED, workflowstatus_orig=orig)
        if purge_sensitive:
            sensitive.purge(conn, [order["workflow_instanceid"]])
        if order["subworkflow"]:
            # the parent's SUBWORKFLOW step sees its child CANCELED (an error) when it wakes
            waits.wake_parent(conn, order["workflow_instanceid"], OrderStatus.CANCELED)
        _status_event(conn, pending, order, OrderStatus.CANCELED)
        return _result(order, OrderStatus.CANCELED)


def uncancel_order(
    target: ConnOrEngine, wfiid: int, *, events: EventSink | None = None
) -> dict[str, Any]:
    """CANCELED -> the status the order had before it was canceled."""
    return _restore(
        target, wfiid, OrderStatus.CANCELED, "CANCEL-WORKFLOW-ERROR", "uncancel", events
    )


def block_order(
    target: ConnOrEngine, wfiid: int, *, events: EventSink | None = None
) -> dict[str, Any]:
    """Any status but IN-PROGRESS, COMPLETE, CANCELED and BLOCKED -> BLOCKED."""
    with unit(target, events) as (conn, pending):
        order = _lock_order(conn, wfiid, "BLOCK-WORKFLOW-ERROR")
        status = order["workflowstatus"]
        if status in (
            OrderStatus.IN_PROGRESS,
            OrderStatus.COMPLETE,
            OrderStatus.CANCELED,
            OrderStatus.BLOCKED,
        ):
            raise QorusError(
                f"order {order['workflow_instanceid']} has status {_name(status)} and cannot be "
                "blocked",
                code="BLOCK-WORKFLOW-ERROR",
            )
        _set(conn, order, workflowstatus=OrderStatus.BLOCKED, workflowstatus_orig=status)
        _status_event(conn, pending, order, OrderStatus.BLOCKED)
        return _result(order, OrderStatus.BLOCKED)


def unblock_order(
    target: ConnOrEngine, wfiid: int, *, events: EventSink | None = None
) -> dict[str, Any]:
    """BLOCKED -> the status the order had before it was blocked."""
    return _restore(target, wfiid, OrderStatus.BLOCKED, "BLOCK-WORKFLOW-ERROR", "unblock", events)


def _restore(
    target: ConnOrEngine, wfiid: int, expect: str, code: str, what: str, events: EventSink | None
) -> dict[str, Any]:
    with unit(target, events) as (conn, pending):
        order = _lock_order(conn, wfiid, code)
        if order["workflowstatus"] != expect:
            raise QorusError(
                f"order {order['workflow_instanceid']} has status "
                f"{_name(order['workflowstatus'])}; only {_name(expect)} orders can be {what}ed",
                code=code,
            )
        orig = order["workflowstatus_orig"]
        if not orig:
            raise QorusError(
                f"order {order['workflow_instanceid']} has no original status to restore", code=code
            )
        ts = now()
        values: dict[str, Any] = {"workflowstatus": orig, "workflowstatus_orig": None}
        if orig == OrderStatus.RETRY:
            values["retry_trigger"] = ts
        _set(conn, order, **values)
        _status_event(conn, pending, order, orig)
        return _result(order, orig)


def set_error(
    target: ConnOrEngine, wfiid: int, *, events: EventSink | None = None
) -> dict[str, Any]:
    """RETRY, CANCELED, BLOCKED or ASYNC-WAITING -> ERROR; RETRY steps become ERROR."""
    with unit(target, events) as (conn, pending):
        order = _lock_order(conn, wfiid, "WORKFLOW-STATUS-ERROR")
        if order["workflowstatus"] not in (
            OrderStatus.RETRY,
            OrderStatus.CANCELED,
            OrderStatus.BLOCKED,
            OrderStatus.ASYNC_WAITING,
        ):
            raise QorusError(
                f"order {order['workflow_instanceid']} has status "
                f"{_name(order['workflowstatus'])}; only RETRY, CANCELED, BLOCKED or ASYNC-WAITING "
                "orders can be set to ERROR",
                code="WORKFLOW-STATUS-ERROR",
            )
        steps = conn.execute(
            update(si)
            .where(
                si.c.workflow_instanceid == order["workflow_instanceid"],
                si.c.stepstatus.in_((OrderStatus.RETRY, OrderStatus.ASYNC_WAITING)),
            )
            .values(stepstatus=OrderStatus.ERROR)
        ).rowcount
        _set(
            conn,
            order,
            workflowstatus=OrderStatus.ERROR,
            workflowstatus_orig=None,
            retry_trigger=None,
        )
        _status_event(conn, pending, order, OrderStatus.ERROR)
        return _result(order, OrderStatus.ERROR, steps_updated=steps)


def reschedule_order(
    target: ConnOrEngine, wfiid: int, scheduled: Any, *, events: EventSink | None = None
) -> dict[str, Any]:
    """READY or SCHEDULED (or BLOCKED / CANCELED from one of them): a new scheduled date."""
    with unit(target, events) as (conn, pending):
        order = _lock_order(conn, wfiid, "WORKFLOW-STATUS-ERROR")
        status, orig = order["workflowstatus"], order["workflowstatus_orig"]
        held = status in (OrderStatus.BLOCKED, OrderStatus.CANCELED)
        if (status not in (OrderStatus.READY, OrderStatus.SCHEDULED)) and not (
            held and orig in (OrderStatus.READY, OrderStatus.SCHEDULED)
        ):
            raise QorusError(
                f"order {order['workflow_instanceid']} has status {_name(status)}; only READY or "
                "SCHEDULED orders (or BLOCKED / CANCELED ones that were) can be rescheduled",
                code="WORKFLOW-STATUS-ERROR",
            )
        when = parse_timestamp(scheduled, "scheduled")
        new = OrderStatus.SCHEDULED if when is not None and when > now() else OrderStatus.READY
        if held:
            _set(conn, order, scheduled=when, workflowstatus_orig=new)
            return _result(order, status, scheduled=when)
        _set(conn, order, scheduled=when, workflowstatus=new)
        if new != status:
            _status_event(conn, pending, order, new)
        return _result(order, new, scheduled=when)


def set_priority(
    target: ConnOrEngine, wfiid: int, priority: Any, *, events: EventSink | None = None
) -> dict[str, Any]:
    """Any status but COMPLETE: a new priority 0..999 (0 is the highest)."""
    prio = check_priority(priority)
    with unit(target, events) as (conn, pending):
        order = _lock_order(conn, wfiid, "WORKFLOW-STATUS-ERROR")
        if order["workflowstatus"] == OrderStatus.COMPLETE:
            raise QorusError(
                f"order {order['workflow_instanceid']} is COMPLETE; its priority cannot change",
                code="WORKFLOW-STATUS-ERROR",
            )
        _set(conn, order, priority=prio)
        pending.append(("WORKFLOW_INFO_CHANGED", _info(order, priority=prio)))
        return {"workflow_instanceid": order["workflow_instanceid"], "priority": prio}


def skip_step(
    target: ConnOrEngine,
    wfiid: int,
    stepid: int,
    ind: int = 0,
    *,
    noretry: bool = False,
    events: EventSink | None = None,
) -> dict[str, Any]:
    """Mark an ERROR / RETRY / ASYNC-WAITING / EVENT-WAITING step COMPLETE (skipped); the order
    is then retried so that the rest of the workflow runs (unless ``noretry``)."""
    with unit(target, events) as (conn, pending):
        order = _lock_order(conn, wfiid, "SKIP-STEP-ERROR")
        _refuse_in_progress(order, "SESSION-ERROR", "skip a step of")
        step = conn.execute(
            select(t.steps.c.steptype)
            .join(t.workflow_steps, t.workflow_steps.c.stepid == t.steps.c.stepid)
            .where(
                t.workflow_steps.c.workflowid == order["workflowid"],
                t.steps.c.stepid == int(stepid),
            )
        ).first()
        if step is None:
            raise QorusError(
                f"step id {stepid} is not a step of workflow {order['name']}",
                code="SKIP-STEP-ERROR",
            )
        if step[0] == "SUBWORKFLOW":
            raise QorusError("a SUBWORKFLOW step cannot be skipped", code="SKIP-STEP-ERROR")
        key = and_(
            si.c.workflow_instanceid == order["workflow_instanceid"],
            si.c.stepid == int(stepid),
            si.c.ind == int(ind),
        )
        row = conn.execute(select(si.c.stepstatus).where(key)).first()
        if row is None:
            raise QorusError(
                f"step id {stepid} (ind {ind}) has not run in order {order['workflow_instanceid']}",
                code="SKIP-STEP-ERROR",
            )
        if row[0] not in (
            OrderStatus.ERROR,
            OrderStatus.RETRY,
            OrderStatus.EVENT_WAITING,
            OrderStatus.ASYNC_WAITING,
        ):
            raise QorusError(
                f"step id {stepid} has status {_name(row[0])} and cannot be skipped",
                code="STEP-STATUS-ERROR",
            )
        ts = now()
        conn.execute(
            update(si).where(key).values(stepstatus=OrderStatus.COMPLETE, skip=True, completed=ts)
        )
        # an async step's key no longer waits
        waits.close_waiting(conn, order["workflow_instanceid"], int(stepid), int(ind), ts)
        new = order["workflowstatus"]
        if not noretry and new in (
            OrderStatus.ERROR,
            OrderStatus.RETRY,
            OrderStatus.ASYNC_WAITING,
            OrderStatus.EVENT_WAITING,
        ):
            new = OrderStatus.RETRY
            _set(conn, order, workflowstatus=OrderStatus.RETRY, retry_trigger=ts)
            _status_event(conn, pending, order, OrderStatus.RETRY)
        return _result(order, new, stepid=int(stepid), ind=int(ind))


# ---------------------------------------------------------------------- data


def _info(order: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": order["name"],
        "version": order["version"],
        "workflowid": order["workflowid"],
        "workflow_instanceid": order["workflow_instanceid"],
        **extra,
    }


def _update_data(
    target: ConnOrEngine, wfiid: int, data: Any, column: str, events: EventSink | None
) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise QorusError(f"{column} must be a hash", code="ORDER-DATA-ERROR")
    with unit(target, events) as (conn, pending):
        order = _lock_order(conn, wfiid, "WORKFLOW-ORDER-ERROR")
        _refuse_in_progress(order, "SESSION-ERROR", f"update the {column} of")
        ts = now()
        conn.execute(
            update(t.order_instance)
            .where(t.order_instance.c.workflow_instanceid == order["workflow_instanceid"])
            .values({column: dumps(dict(data)), "modified": ts})
        )
        _set(conn, order, modified=ts)
        pending.append(("WORKFLOW_DATA_UPDATED", _info(order, datatype=column)))
        return {"workflow_instanceid": order["workflow_instanceid"], column: dict(data)}


def update_static_data(
    target: ConnOrEngine, wfiid: int, data: Mapping[str, Any], *, events: EventSink | None = None
) -> dict[str, Any]:
    """Replace an order's static data (not while it is IN-PROGRESS)."""
    return _update_data(target, wfiid, data, "staticdata", events)


def update_dynamic_data(
    target: ConnOrEngine, wfiid: int, data: Mapping[str, Any], *, events: EventSink | None = None
) -> dict[str, Any]:
    """Replace an order's dynamic data (not while it is IN-PROGRESS)."""
    return _update_data(target, wfiid, data, "dynamicdata", events)


def update_keys(
    target: ConnOrEngine, wfiid: int, keys: Mapping[str, Any], *, events: EventSink | None = None
) -> dict[str, Any]:
    """Replace the values of the given order keys (checked against the keylist)."""
    with unit(target, events) as (conn, pending):
        order = _lock_order(conn, wfiid, "WORKFLOW-ORDER-ERROR")
        _refuse_in_progress(order, "SESSION-ERROR", "update the keys of")
        norm = normalize_keys(workflow_brief(conn, order["workflowid"]), keys)
        k = t.order_instance_keys
        ts = now()
        for name, values in norm.items():
            conn.execute(
                delete(k).where(
                    k.c.workflow_instanceid == order["workflow_instanceid"], k.c.keyname == name
                )
            )
            if values:
                conn.execute(
                    insert(k),
                    [
                        {
                            "workflow_instanceid": order["workflow_instanceid"],
                            "keyname": name,
                            "value": v,
                            "workflowid": order["workflowid"],
                            "created": ts,
                        }
                        for v in values
                    ],
                )
        _set(conn, order, modified=ts)
        pending.append(("WORKFLOW_DATA_UPDATED", _info(order, datatype="keys")))
        return {"workflow_instanceid": order["workflow_instanceid"], "keys": norm}


# ---------------------------------------------------------------------- notes


def add_note(
    target: ConnOrEngine,
    wfiid: int,
    note: str,
    *,
    username: str | None = None,
    events: EventSink | None = None,
) -> dict[str, Any]:
    if not isinstance(note, str) or not note.strip():
        raise ValidationError("a note needs some text", code="ORDER-NOTE-ERROR")
    with unit(target, events) as (conn, pending):
        order = _lock_order(conn, wfiid, "ORDER-NOTE-ERROR")
        ts = now()
        res = conn.execute(
            insert(t.order_instance_notes).values(
                workflow_instanceid=order["workflow_instanceid"],
                username=username,
                note=note[:4000],
                created=ts,
                modified=ts,
            )
        )
        conn.execute(
            update(wi)
            .where(wi.c.workflow_instanceid == order["workflow_instanceid"])
            .values(note_count=wi.c.note_count + 1)
        )
        pk = res.inserted_primary_key
        pending.append(("WORKFLOW_INFO_CHANGED", _info(order, note_added=True)))
        return {
            "noteid": int(pk[0]) if pk else None,
            "workflow_instanceid": order["workflow_instanceid"],
            "username": username,
            "note": note,
            "created": ts,
        }


def get_notes(target: ConnOrEngine, wfiid: int, count: int | None = None) -> list[dict[str, Any]]:
    n = t.order_instance_notes
    q = select(n).where(n.c.workflow_instanceid == int(wfiid)).order_by(n.c.noteid.desc())
    if count:
        q = q.limit(int(count))
    with unit(target, None) as (conn, _):
        exists = conn.execute(
            select(func.count()).select_from(wi).where(wi.c.workflow_instanceid == int(wfiid))
        ).scalar()
        if not exists:
            raise NotFoundError(f"workflow order {wfiid} does not exist", code="ORDER-NOTE-ERROR")
        return [dict(r._mapping) for r in conn.execute(q)]


# ---------------------------------------------------------------------- bulk forms

Op = Callable[..., dict[str, Any]]


def bulk(
    op: Op,
    target: ConnOrEngine,
    ids: Iterable[Any],
    *,
    events: EventSink | None = None,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """Apply ``op`` to each order in its own transaction; per order a result or its error."""
    out: list[dict[str, Any]] = []
    for wfiid in ids:
        try:
            out.append(op(target, wfiid, events=events, **kwargs))
        except QorusError as exc:
            out.append({"workflow_instanceid": wfiid, "error": exc.to_dict()})
    return out


def retry_orders(
    target: ConnOrEngine, ids: Iterable[Any], *, events: EventSink | None = None
) -> list[dict[str, Any]]:
    return bulk(retry_order, target, ids, events=events)


def cancel_orders(
    target: ConnOrEngine, ids: Iterable[Any], *, events: EventSink | None = None
) -> list[dict[str, Any]]:
    return bulk(cancel_order, target, ids, events=events)


def uncancel_orders(
    target: ConnOrEngine, ids: Iterable[Any], *, events: EventSink | None = None
) -> list[dict[str, Any]]:
    return bulk(uncancel_order, target, ids, events=events)


def block_orders(
    target: ConnOrEngine, ids: Iterable[Any], *, events: EventSink | None = None
) -> list[dict[str, Any]]:
    return bulk(block_order, target, ids, events=events)


def unblock_orders(
    target: ConnOrEngine, ids: Iterable[Any], *, events: EventSink | None = None
) -> list[dict[str, Any]]:
    return bulk(unblock_order, target, ids, events=events)
