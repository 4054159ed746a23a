"""Workflow synchronization events over the system API: ``sync-events``,
``sync-events/{eventtype}`` and ``sync-events/{eventtype}/{eventkey}``.

An EVENT step waits on a key of its event type; posting the event (``action=post``) wakes
every order with a step bound to it. An event may be posted before any step binds to it: it is
remembered, and a later bind completes the step at once. Posting answers True when this call
posted the event, False when it had been posted before. Reads need LOGIN only; posting needs
POST-WORKFLOW-EVENT. An event type is named by its name or its id. The SQL is
:mod:`qorus_core.db.waits`.
"""

from __future__ import annotations

from typing import Any

from qorus_core.db import waits
from qorus_core.db.orders_query import MAX_LIMIT
from qorus_core.model import args as a
from qorus_core.model.errors import NotFoundError
from qorus_server.api.registry import CallContext, operation
from qorus_server.api.wfcommon import key_arg, readonly, ref_arg, wake


@operation("sync-events.list", rest=[("GET", "sync-events", None)])
def list_types(ctx: CallContext) -> list[dict[str, Any]]:
    """Every event type: ``{id, name, desc}``."""
    with readonly(ctx) as conn:
        return waits.list_event_types(conn)


@operation("sync-events.info", rest=[("GET", "sync-events/{eventtype}", None)])
def info(ctx: CallContext, eventtype: object) -> dict[str, Any]:
    """One event type by name or id: ``{id, name, desc}``; 404 UNKNOWN-EVENT."""
    ref = ref_arg(eventtype, "eventtype")
    with readonly(ctx) as conn:
        return waits.find_event_type(conn, ref)


@operation(
    "sync-events.events",
    rest=[("GET", "sync-events", "events"), ("GET", "sync-events/{eventtype}", "events")],
)
def events(
    ctx: CallContext,
    eventtype: object = None,
    eventkey: object = None,
    posted: object = None,
    limit: object = None,
    offset: object = None,
) -> list[dict[str, Any]]:
    """Events (posted, or only waited on), of one ``eventtype`` or all: ``eventkey``,
    ``posted`` (true or false), ``limit`` (100), ``offset``; each ``{id, name, eventkey,
    posted, created, modified}``."""
    ref = None if a.absent(eventtype) else ref_arg(eventtype, "eventtype")
    key = None if a.absent(eventkey) else key_arg(eventkey, "eventkey")
    done = None if a.absent(posted) else a.arg_bool(posted, "posted")
    count = a.arg_limit(limit, "limit", default=100, maximum=MAX_LIMIT)
    skip = a.arg_offset(offset, "offset")
    assert count is not None
    with readonly(ctx) as conn:
        typeid = None if ref is None else waits.find_event_type(conn, ref)["id"]
        return waits.search_events(conn, typeid, key, done, count, skip)


@operation("sync-events.event", rest=[("GET", "sync-events/{eventtype}/{eventkey}", None)])
def event(ctx: CallContext, eventtype: object, eventkey: object) -> dict[str, Any]:
    """One event: ``{id, name, eventkey, posted, created, modified}``; 404 UNKNOWN-EVENT for
    an unknown type, UNKNOWN-EVENT-KEY when the key was never posted nor waited on."""
    ref, key = ref_arg(eventtype, "eventtype"), key_arg(eventkey, "eventkey")
    with readonly(ctx) as conn:
        et = waits.find_event_type(conn, ref)
        found = waits.search_events(conn, et["id"], key, None, 1, 0)
    if not found:
        raise NotFoundError(
            f"event type {et['name']!r} has no event with key {a.shown(key)}",
            code="UNKNOWN-EVENT-KEY",
        )
    return found[0]


@operation(
    "sync-events.post",
    rest=[
        ("PUT", "sync-events/{eventtype}", "post"),
        ("PUT", "sync-events/{eventtype}/{eventkey}", "post"),
    ],
    rpc="omq.system.post-event",
    permissions=("POST-WORKFLOW-EVENT",),
    audit=True,
)
def post(ctx: CallContext, eventtype: object, eventkey: object = None) -> bool:
    """Post event ``eventkey`` of ``eventtype``: the orders waiting on it wake at once. True
    when this call posted it, False when it had been posted before."""
    ref, key = ref_arg(eventtype, "eventtype"), key_arg(eventkey, "eventkey")
    with ctx.server.engine.begin() as conn:
        et = waits.find_event_type(conn, ref)
        first, woken = waits.post_event(conn, et["id"], key)
    wake(ctx, woken)
    return first
