"""Asynchronous queues over the system API: ``async-queues`` and ``async-queues/{queue}``.

An ASYNC step waits on a key of its queue (an entry WAITING); data for the key (``update``)
or a cancel end the wait and wake the order at once. Reads need LOGIN only; ``update``,
``cancel`` and ``key`` change an entry and need SUBMIT-ORDER. A queue is named by its name or
its id. The SQL is :mod:`qorus_core.db.waits`.
"""

from __future__ import annotations

from typing import Any

from qorus_core.db import waits
from qorus_core.db.orders_query import MAX_LIMIT
from qorus_core.model import args as a
from qorus_core.model.errors import NotFoundError, ValidationError
from qorus_server.api.registry import CallContext, operation
from qorus_server.api.wfcommon import key_arg, order_workflow, readonly, ref_arg, sees, wake


def _visible_entry(ctx: CallContext, queue: str, key: str) -> None:
    """403 when the caller's interface groups hide the workflow of the order that waits on
    ``key`` (an unknown key is left to the operation)."""
    if sees(ctx) is None:
        return
    with readonly(ctx) as conn:
        q = waits.find_queue(conn, queue)
        entry = waits.key_info(conn, q["queueid"], key)
    if entry is not None:
        order_workflow(ctx, entry["workflow_instanceid"])


def _status_arg(value: object) -> str | None:
    """``status``: WAITING, RECEIVED, ERROR, USED or their one-letter codes; None for all
    but USED."""
    if a.absent(value):
        return None
    text = a.arg_text(value, "status", max_len=20).strip().upper()
    if text in waits.QUEUE_STATUS_CODES:
        return waits.QUEUE_STATUS_CODES[text]
    if text in waits.QUEUE_STATUS_NAMES:
        return text
    names = ", ".join(waits.QUEUE_STATUS_NAMES.values())
    raise ValidationError(f"argument 'status' must be one of {names}, got {a.shown(value)}")


# ---------------------------------------------------------------------- queries


@operation("async-queues.list", rest=[("GET", "async-queues", None)])
def list_queues(ctx: CallContext) -> list[dict[str, Any]]:
    """Every asynchronous queue: ``{queueid, name, desc}``."""
    with readonly(ctx) as conn:
        return waits.list_queues(conn)


@operation("async-queues.info", rest=[("GET", "async-queues/{queue}", None)])
def info(ctx: CallContext, queue: object) -> dict[str, Any]:
    """One queue by name or id: ``{queueid, name, desc}``; 404 UNKNOWN-QUEUE."""
    ref = ref_arg(queue, "queue")
    with readonly(ctx) as conn:
        return waits.find_queue(conn, ref)


@operation("async-queues.key-info", rest=[("GET", "async-queues/{queue}", "info")])
def key_info(ctx: CallContext, queue: object, key: object = None) -> dict[str, Any]:
    """The entry of ``key``: ``queuekey``, ``queue_data_status``, the order and step, and the
    data once RECEIVED; 404 INVALID-KEY when the key is unknown."""
    ref, text = ref_arg(queue, "queue"), key_arg(key)
    with readonly(ctx) as conn:
        q = waits.find_queue(conn, ref)
        entry = waits.key_info(conn, q["queueid"], text)
    if entry is None:
        raise NotFoundError(
            f"async queue {q['name']!r} has no entry with key {a.shown(text)}", code="INVALID-KEY"
        )
    order_workflow(ctx, entry["workflow_instanceid"])
    return entry


@operation("async-queues.entries", rest=[("GET", "async-queues/{queue}", "qinfo")])
def qinfo(
    ctx: CallContext,
    queue: object,
    status: object = None,
    limit: object = None,
    offset: object = None,
) -> list[dict[str, Any]]:
    """The queue's entries, oldest first: those of ``status`` (WAITING, RECEIVED, ERROR,
    USED or W, R, E, X; by default all but USED), ``limit`` (100), ``offset``."""
    ref = ref_arg(queue, "queue")
    code = _status_arg(status)
    count = a.arg_limit(limit, "limit", default=100, maximum=MAX_LIMIT)
    skip = a.arg_offset(offset, "offset")
    assert count is not None
    with readonly(ctx) as conn:
        q = waits.find_queue(conn, ref)
        return waits.entries(conn, q["queueid"], code, count, skip)


@operation("async-queues.status", rest=[("GET", "async-queues/{queue}", "status")])
def status(ctx: CallContext, queue: object) -> dict[str, dict[str, int]]:
    """How many entries of each status per workflow: ``{"NAME/VERSION": {STATUS: n}}``."""
    ref = ref_arg(queue, "queue")
    with readonly(ctx) as conn:
        q = waits.find_queue(conn, ref)
        return waits.summary(conn, q["queueid"])


# ---------------------------------------------------------------------- changes


def _data_arg(value: object) -> Any:
    if value is None:
        raise ValidationError("missing argument 'data' (the data for the key)")
    a.check_data(value, "argument 'data'")
    return value


@operation(
    "async-queues.update",
    rest=[("POST", "async-queues/{queue}", "update")],
    rpc="omq.system.update-async-queue",
    permissions=("SUBMIT-ORDER",),
    audit=True,
)
def update(ctx: CallContext, queue: object, key: object = None, data: object = None) -> str:
    """Give the WAITING entry of ``key`` its ``data`` (any value): the step's ``end()`` runs
    at once. 404 INVALID-KEY for an unknown key, 400 INVALID-STATUS when not WAITING."""
    ref, text, value = ref_arg(queue, "queue"), key_arg(key), _data_arg(data)
    _visible_entry(ctx, ref, text)
    with ctx.server.engine.begin() as conn:
        q = waits.find_queue(conn, ref)
        woken = waits.update_data(conn, q["queueid"], text, value)
    wake(ctx, [woken])
    return "OK"


@operation(
    "async-queues.cancel",
    rest=[("POST", "async-queues/{queue}", "cancel")],
    rpc="omq.system.cancel-async-queue",
    permissions=("SUBMIT-ORDER",),
    audit=True,
)
def cancel(ctx: CallContext, queue: object, key: object = None) -> str:
    """Cancel the WAITING entry of ``key``: the step's ``validation()`` runs at once."""
    ref, text = ref_arg(queue, "queue"), key_arg(key)
    _visible_entry(ctx, ref, text)
    with ctx.server.engine.begin() as conn:
        q = waits.find_queue(conn, ref)
        woken = waits.cancel_key(conn, q["queueid"], text)
    wake(ctx, [woken])
    return "OK"


@operation(
    "async-queues.key",
    rest=[("PUT", "async-queues/{queue}", "key")],
    permissions=("SUBMIT-ORDER",),
    audit=True,
)
def change_key(
    ctx: CallContext, queue: object, oldkey: object = None, newkey: object = None
) -> str:
    """Change the key of a WAITING entry from ``oldkey`` to ``newkey``; 409 DUPLICATE-KEY
    when ``newkey`` is taken on the queue."""
    ref = ref_arg(queue, "queue")
    old, new = key_arg(oldkey, "oldkey"), key_arg(newkey, "newkey")
    _visible_entry(ctx, ref, old)
    with ctx.server.engine.begin() as conn:
        q = waits.find_queue(conn, ref)
        waits.update_key(conn, q["queueid"], old, new)
    return "OK"
