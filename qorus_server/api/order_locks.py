"""Operator locks over the API: ``PUT orders/{id}?action=lock|unlock|breakLock``, and the guard
every order-changing operation runs through (:func:`guarded`).

The operator is the RBAC user; with RBAC off every REST caller is the anonymous operator
``-`` (locks then only document intent), and in-process callers (step code, ``callRestApi``)
are the system, ``%SYS%``.
"""

from __future__ import annotations

from collections.abc import Callable

from qorus_core.db import order_locks as locks
from qorus_core.db.unit import after_commit
from qorus_core.model import args as a
from qorus_core.model.errors import QorusError
from qorus_server.api.registry import CallContext, operation
from qorus_server.api.wfcommon import bad_data_is_400, order_workflow

ANONYMOUS = "-"
SYSTEM = "%SYS%"
#: the longest note (its column holds 4000 characters)
MAX_NOTE = 4000


def note_arg(value: object, code: str | None = None) -> str | None:
    """An optional ``note``: text of at most 4000 characters, without NUL."""
    return None if value is None else a.arg_text(value, "note", max_len=MAX_NOTE, code=code)


def operator(ctx: CallContext) -> str:
    """The name an operator lock is taken and checked under."""
    if ctx.username:
        return ctx.username
    return SYSTEM if ctx.transport == "internal" else ANONYMOUS


def guarded(
    ctx: CallContext,
    wfiid: int,
    fn: Callable[..., dict[str, object]],
    *args: object,
    **kwargs: object,
) -> dict[str, object]:
    """Run the order operation ``fn`` in one transaction that first checks the operator lock
    (409 WORKFLOW-ORDER-LOCKED when another operator holds it); events after the commit."""
    with after_commit(ctx.server.engine, ctx.server.events) as (conn, later):
        locks.check_lock(conn, wfiid, operator(ctx))
        result = fn(conn, wfiid, *args, events=later, **kwargs)
    return result


def guarded_bulk(
    ctx: CallContext, wfiid: int, fn: Callable[..., dict[str, object]]
) -> dict[str, object]:
    """:func:`guarded` for one order of a bulk form: its result or ``{error: {err, desc}}``."""
    try:
        return guarded(ctx, wfiid, fn)
    except QorusError as exc:
        return {"workflow_instanceid": wfiid, "error": exc.to_dict()}


@operation(
    "orders.lock",
    rest=[("PUT", "orders/{id}", "lock")],
    permissions=("LOCK-WORKFLOW-ORDER",),
    audit=True,
)
def lock(ctx: CallContext, id: object, note: object = None) -> str:
    """Lock the order so that only the caller can change it (``note`` required); "OK"."""
    text = note_arg(note)
    wfiid = a.arg_id(id, "id")
    order_workflow(ctx, wfiid)
    with bad_data_is_400():
        return locks.lock_order(
            ctx.server.engine, wfiid, operator(ctx), text, events=ctx.server.events
        )


@operation(
    "orders.unlock",
    rest=[("PUT", "orders/{id}", "unlock")],
    permissions=("LOCK-WORKFLOW-ORDER",),
    audit=True,
)
def unlock(ctx: CallContext, id: object, note: object = None) -> str:
    """Remove the caller's lock (only the holder can; ``note`` optional); "OK"."""
    text = note_arg(note)
    wfiid = a.arg_id(id, "id")
    order_workflow(ctx, wfiid)
    return locks.unlock_order(
        ctx.server.engine, wfiid, operator(ctx), text, events=ctx.server.events
    )


@operation(
    "orders.break-lock",
    rest=[("PUT", "orders/{id}", "breakLock")],
    permissions=("BREAK-WORKFLOW-ORDER-LOCK",),
    audit=True,
)
def break_lock(ctx: CallContext, id: object, note: object = None) -> str:
    """Remove any operator's lock (``note`` required); "OK"."""
    text = note_arg(note)
    wfiid = a.arg_id(id, "id")
    order_workflow(ctx, wfiid)
    with bad_data_is_400():
        return locks.break_lock(
            ctx.server.engine, wfiid, operator(ctx), text, events=ctx.server.events
        )
