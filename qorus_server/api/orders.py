"""Order operations: ``orders`` (search and bulk actions) and ``orders/{id}``.

Each operation is a function of :mod:`qorus_core.db.orders_ops` with its allowed-status rules:
a refused change answers 409 with the engine's error code (STATUS-ERROR,
CANCEL-WORKFLOW-ERROR, ...); an unknown order 404; malformed arguments 400. The system events
of each change wake the engine's instances when an order becomes due.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from qorus_core.db import interfaces, orders_query
from qorus_core.db import orders_ops as ops
from qorus_core.db.orders import MAX_PRIORITY
from qorus_core.model import args as a
from qorus_core.model.errors import ValidationError
from qorus_server.api.order_locks import guarded, guarded_bulk, note_arg
from qorus_server.api.registry import CallContext, operation
from qorus_server.api.wfcommon import (
    bad_data_is_400,
    order_workflow,
    readonly,
    search_args,
    sees,
)

#: the most notes ``GET orders/{id}/notes`` answers at once
MAX_NOTES = 10000

# ---------------------------------------------------------------------- queries


@operation("orders.search", rest=[("GET", "orders", None)])
def search(ctx: CallContext, **filters: object) -> list[dict[str, Any]]:
    """Search orders: ``workflowid``, ``ids``, ``status``/``statuses``, ``keyname``,
    ``keyvalue``, ``modified``/``date``, ``maxmodified``, ``minstarted``, ``maxstarted``,
    ``limit`` (100), ``offset``, ``sort``, ``desc``."""
    args = search_args(filters)
    test = sees(ctx)
    with readonly(ctx) as conn, bad_data_is_400():
        if test is not None:
            visible = [w for w in interfaces.workflow_ids(conn) if test(w)]
            if "workflowid" in args:
                wanted = set(args["workflowid"])
                visible = [w for w in visible if w in wanted]
            if not visible:
                return []
            args["workflowid"] = visible
        return orders_query.search_orders(conn, **args)


@operation(
    "orders.info",
    rest=[("GET", "orders/{id}", None)],
    rpc="omq.system.get-order-info",
)
def info(ctx: CallContext, id: object) -> dict[str, Any]:
    """One order with its data, keys, StepInstances, ErrorInstances, notes and audit events."""
    order_workflow(ctx, id)
    with readonly(ctx) as conn:
        return orders_query.get_order_info(conn, a.arg_id(id, "id"))


@operation(
    "orders.notes",
    rest=[("GET", "orders/{id}", "notes")],
    rpc="omq.system.order-notes",
)
def notes(ctx: CallContext, id: object, limit: object = None) -> list[dict[str, Any]]:
    """The notes of an order, newest first (``limit``)."""
    order_workflow(ctx, id)
    count = a.arg_limit(limit, "limit", default=None, minimum=1, maximum=MAX_NOTES)
    with readonly(ctx) as conn:
        return ops.get_notes(conn, a.arg_id(id, "id"), count)


# ---------------------------------------------------------------------- one order


def _purge_canceled(ctx: CallContext) -> bool:
    return bool(ctx.server.options.get("purge-sensitive-data-canceled"))


OrderOp = Callable[..., dict[str, Any]]


def _run(
    ctx: CallContext, id: object, fn: OrderOp, *args: object, **kwargs: object
) -> dict[str, Any]:
    order_workflow(ctx, id)
    with bad_data_is_400():
        # one transaction: the operator lock check, then the change
        return guarded(ctx, a.arg_id(id, "id"), fn, *args, **kwargs)


@operation(
    "orders.retry",
    rest=[("PUT", "orders/{id}", "retry")],
    rpc="omq.system.retry-workflow-instance",
    permissions=("RETRY-WORKFLOW-ORDER",),
    audit=True,
)
def retry(ctx: CallContext, id: object) -> dict[str, Any]:
    """ERROR, ASYNC-WAITING or RETRY -> RETRY, due now."""
    return _run(ctx, id, ops.retry_order)


@operation(
    "orders.cancel",
    rest=[("PUT", "orders/{id}", "cancel")],
    rpc="omq.system.cancel-workflow-instance",
    permissions=("CANCEL-WORKFLOW-ORDER",),
    audit=True,
)
def cancel(ctx: CallContext, id: object) -> dict[str, Any]:
    """-> CANCELED (the status before is kept for uncancel)."""
    return _run(ctx, id, ops.cancel_order, purge_sensitive=_purge_canceled(ctx))


@operation(
    "orders.uncancel",
    rest=[("PUT", "orders/{id}", "uncancel")],
    rpc="omq.system.uncancel-workflow-instance",
    permissions=("CANCEL-WORKFLOW-ORDER",),
    audit=True,
)
def uncancel(ctx: CallContext, id: object) -> dict[str, Any]:
    """CANCELED -> the status it had before."""
    return _run(ctx, id, ops.uncancel_order)


@operation(
    "orders.block",
    rest=[("PUT", "orders/{id}", "block")],
    rpc="omq.system.block-workflow-instance",
    permissions=("BLOCK-WORKFLOW-ORDER",),
    audit=True,
)
def block(ctx: CallContext, id: object) -> dict[str, Any]:
    """-> BLOCKED (the status before is kept for unblock)."""
    return _run(ctx, id, ops.block_order)


@operation(
    "orders.unblock",
    rest=[("PUT", "orders/{id}", "unblock")],
    rpc="omq.system.unblock-workflow-instance",
    permissions=("BLOCK-WORKFLOW-ORDER",),
    audit=True,
)
def unblock(ctx: CallContext, id: object) -> dict[str, Any]:
    """BLOCKED -> the status it had before."""
    return _run(ctx, id, ops.unblock_order)


@operation(
    "orders.reschedule",
    rest=[("PUT", "orders/{id}", "reschedule")],
    rpc="omq.system.reschedule-order",
    permissions=("RESCHEDULE-WORKFLOW-ORDER",),
    audit=True,
)
def reschedule(
    ctx: CallContext, id: object, date: object = None, scheduled: object = None
) -> dict[str, Any]:
    """A new scheduled ``date`` (none: due now) for a READY or SCHEDULED order."""
    a.arg_id(id, "id")
    first, second = _opt_date(date, "date"), _opt_date(scheduled, "scheduled")
    return _run(ctx, id, ops.reschedule_order, first if first is not None else second)


def _opt_date(value: object, name: str) -> datetime | None:
    return None if a.absent(value) else a.arg_date(value, name)


@operation(
    "orders.set-priority",
    rest=[("PUT", "orders/{id}", "setPriority")],
    rpc="omq.system.reprioritize-order",
    permissions=("REPRIORITIZE-WORKFLOW-ORDER",),
    audit=True,
)
def set_priority(ctx: CallContext, id: object, priority: object = None) -> dict[str, Any]:
    """A new ``priority`` 0..999 (0 is the highest)."""
    a.arg_id(id, "id")
    prio = a.arg_int(priority, "priority", minimum=0, maximum=MAX_PRIORITY, code="ORDER-DATA-ERROR")
    return _run(ctx, id, ops.set_priority, prio)


@operation(
    "orders.set-error",
    rest=[("PUT", "orders/{id}", "setError")],
    rpc="omq.system.set-workflow-instance-error",
    permissions=("SET-WORKFLOW-ORDER-ERROR",),
    audit=True,
)
def set_error(ctx: CallContext, id: object) -> dict[str, Any]:
    """RETRY, CANCELED, BLOCKED or ASYNC-WAITING -> ERROR."""
    return _run(ctx, id, ops.set_error)


@operation(
    "orders.skip-step",
    rest=[("PUT", "orders/{id}", "skipStep")],
    rpc="omq.system.skip-step",
    permissions=("SKIP-STEP",),
    audit=True,
)
def skip_step(
    ctx: CallContext, id: object, stepid: object = None, ind: object = 0, noretry: object = False
) -> dict[str, Any]:
    """Mark a failed step COMPLETE (skipped); the order is retried unless ``noretry``."""
    a.arg_id(id, "id")
    step = a.arg_id(stepid, "stepid")
    index = 0 if a.absent(ind) else a.arg_int(ind, "ind", minimum=0, maximum=a.INT32_MAX)
    return _run(ctx, id, ops.skip_step, step, index, noretry=a.arg_bool(noretry, "noretry"))


def _newdata(value: object, name: str, *, required: bool) -> dict[str, Any]:
    if value is None:
        if required:
            raise ValidationError(f"missing argument {name!r} (a hash)")
        return {}
    data = a.arg_hash(value, name)
    if required and not data:
        raise ValidationError(f"{name} must be a non-empty hash")
    return data


@operation(
    "orders.static-data",
    rest=[("PUT", "orders/{id}", "staticData")],
    rpc="omq.system.replace-static-data",
    permissions=("EDIT-WORKFLOW-DATA",),
    audit=True,
)
def static_data(ctx: CallContext, id: object, newdata: object = None) -> dict[str, Any]:
    """Replace the static data with ``newdata`` (a non-empty hash)."""
    return _run(ctx, id, ops.update_static_data, _newdata(newdata, "newdata", required=True))


@operation(
    "orders.dynamic-data",
    rest=[("PUT", "orders/{id}", "dynamicData")],
    rpc="omq.system.replace-dynamic-data",
    permissions=("EDIT-WORKFLOW-DATA",),
    audit=True,
)
def dynamic_data(ctx: CallContext, id: object, newdata: object = None) -> dict[str, Any]:
    """Replace the dynamic data with ``newdata`` (a hash; none clears it)."""
    return _run(ctx, id, ops.update_dynamic_data, _newdata(newdata, "newdata", required=False))


@operation(
    "orders.update-keys",
    rest=[("PUT", "orders/{id}", "updateKeys")],
    permissions=("EDIT-WORKFLOW-DATA",),
    audit=True,
)
def update_keys(ctx: CallContext, id: object, orderkeys: object = None) -> dict[str, Any]:
    """Replace the values of the given ``orderkeys`` (names from the workflow's keylist)."""
    return _run(ctx, id, ops.update_keys, _newdata(orderkeys, "orderkeys", required=True))


@operation(
    "orders.add-note",
    rest=[("POST", "orders/{id}", "notes"), ("PUT", "orders/{id}", "notes")],
    rpc="omq.system.set-order-note",
    permissions=("SET-ORDER-INFO",),
    audit=True,
)
def add_note(ctx: CallContext, id: object, note: object = None) -> dict[str, Any]:
    """Add a ``note`` to the order; the note as stored."""
    wfiid = a.arg_id(id, "id")
    text = note_arg(note, code="ORDER-NOTE-ERROR")
    if text is None or not text.strip():
        raise ValidationError("missing argument 'note' (text)", code="ORDER-NOTE-ERROR")
    order_workflow(ctx, wfiid)  # notes are not changes: an operator lock does not refuse them
    return ops.add_note(
        ctx.server.engine, wfiid, text, username=ctx.username, events=ctx.server.events
    )


# ---------------------------------------------------------------------- bulk forms


def _bulk(ctx: CallContext, ids: object, fn: OrderOp) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    test = sees(ctx)
    for wfiid in a.arg_ids(ids, "ids"):  # every id parsed before the first change
        if test is not None:
            try:
                order_workflow(ctx, wfiid, "ids")
            except Exception as exc:
                err = getattr(exc, "to_dict", None)
                out.append({"workflow_instanceid": wfiid, "error": err() if err else str(exc)})
                continue
        out.append(guarded_bulk(ctx, wfiid, fn))
    return out


@operation(
    "orders.retry-many",
    rest=[("PUT", "orders", "retry")],
    rpc="omq.system.retry-workflow-instances",
    permissions=("RETRY-WORKFLOW-ORDER",),
    audit=True,
)
def retry_many(ctx: CallContext, ids: object = None) -> list[dict[str, Any]]:
    """Retry each order of ``ids``; per order its result or error."""
    return _bulk(ctx, ids, ops.retry_order)


@operation(
    "orders.cancel-many",
    rest=[("PUT", "orders", "cancel")],
    rpc="omq.system.cancel-workflow-instances",
    permissions=("CANCEL-WORKFLOW-ORDER",),
    audit=True,
)
def cancel_many(ctx: CallContext, ids: object = None) -> list[dict[str, Any]]:
    """Cancel each order of ``ids``."""
    return _bulk(ctx, ids, partial(ops.cancel_order, purge_sensitive=_purge_canceled(ctx)))


@operation(
    "orders.uncancel-many",
    rest=[("PUT", "orders", "uncancel")],
    rpc="omq.system.uncancel-workflow-instances",
    permissions=("CANCEL-WORKFLOW-ORDER",),
    audit=True,
)
def uncancel_many(ctx: CallContext, ids: object = None) -> list[dict[str, Any]]:
    """Uncancel each order of ``ids``."""
    return _bulk(ctx, ids, ops.uncancel_order)


@operation(
    "orders.block-many",
    rest=[("PUT", "orders", "block")],
    rpc="omq.system.block-workflow-instances",
    permissions=("BLOCK-WORKFLOW-ORDER",),
    audit=True,
)
def block_many(ctx: CallContext, ids: object = None) -> list[dict[str, Any]]:
    """Block each order of ``ids``."""
    return _bulk(ctx, ids, ops.block_order)


@operation(
    "orders.unblock-many",
    rest=[("PUT", "orders", "unblock")],
    rpc="omq.system.unblock-workflow-instances",
    permissions=("BLOCK-WORKFLOW-ORDER",),
    audit=True,
)
def unblock_many(ctx: CallContext, ids: object = None) -> list[dict[str, Any]]:
    """Unblock each order of ``ids``."""
    return _bulk(ctx, ids, ops.unblock_order)
