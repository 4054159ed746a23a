"""From a REST request to an operation call: the path under ``/api`` (version prefix), the
arguments (query, body, path captures) and the action. Shared by the HTTP layer
(:mod:`qorus_server.http.app`) and in-process callers (``UserApi.callRestApi``), so a REST
path means the same operation wherever it is called from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool

from qorus_core.model.errors import NotFoundError, ValidationError
from qorus_core.model.excerpt import excerpt
from qorus_server.api.registry import DECLINED, CallContext, Operation
from qorus_server.contract import ServerContract
from qorus_server.http.routes import RestRouter

API_VERSION = 7
VERSION_RE = re.compile(r"v([1-9])")


def query_args(query: str) -> dict[str, object]:
    """Query arguments, separated by ``&`` or ``;``; a repeated name gives a list."""
    out: dict[str, object] = {}
    for k, v in parse_qsl(query.replace(";", "&"), keep_blank_values=True):
        if k in out:
            prev = out[k]
            out[k] = [*prev, v] if isinstance(prev, list) else [prev, v]
        else:
            out[k] = v
    return out


def is_versioned(segs: Sequence[str]) -> bool:
    return bool(segs) and (segs[0] == "latest" or VERSION_RE.fullmatch(segs[0]) is not None)


def api_segments(segs: Sequence[str]) -> list[str]:
    """The resource segments of a path under ``/api/``: ``latest/...`` and ``vN/...`` lose their
    prefix, ``public/...`` is kept; anything else is 404."""
    if not segs or segs[0] == "public":
        return list(segs)
    if is_versioned(segs):
        return list(segs[1:])
    raise NotFoundError(
        f"unknown REST API path {excerpt('/api/' + '/'.join(segs))}: use /api/latest/... or "
        f"/api/v{API_VERSION}/..."
    )


def resolve_call(
    router: RestRouter,
    method: str,
    segs: Sequence[str],
    args: dict[str, object],
    action: object = None,
) -> tuple[Operation, dict[str, object]]:
    """The operation a request names and its arguments (``args`` plus the path captures).

    ``action`` is the query's; an ``action`` among the (body) arguments is used too, as
    ``qrest put X action=Y`` sends it. Both given must agree; one action only, and a string."""
    if isinstance(action, list):
        raise ValidationError(f"the action is given {len(action)} times: give one")
    if action is not None and not isinstance(action, str):
        raise ValidationError(f"the action must be a string, not {type(action).__name__}")
    if "action" in args:
        other = args.pop("action")
        if not isinstance(other, str):
            raise ValidationError(
                f"the action argument must be a string, not {type(other).__name__}"
            )
        if action is None:
            action = other
        elif other != action:
            raise ValidationError(
                f"the query names action {excerpt(action)} but the arguments name action "
                f"{excerpt(other)}: give one"
            )
    match = router.resolve(method, segs, action)
    args.update(match.params)
    return match.op, args


def split_internal_path(path: str) -> tuple[list[str], dict[str, object]]:
    """An in-process REST path: ``system/ping``, ``/api/latest/system/ping`` or
    ``api/v7/orders/1?action=retry``; its resource segments and query arguments."""
    text, _, query = path.partition("?")
    segs = [s for s in text.split("/") if s]
    if segs and segs[0] == "api":
        segs = api_segments(segs[1:])
    elif is_versioned(segs):
        segs = segs[1:]
    if not segs:
        raise NotFoundError(f"no REST resource in path {excerpt(path)}")
    return segs, query_args(query)


async def call_operation(
    server: ServerContract, op: Operation, ctx: CallContext, args: dict[str, object]
) -> Any:
    """Run an operation for a request (REST or RPC): its shortcut on the event loop when it
    has one that takes the call, else the handler, in a worker thread when it blocks."""
    pending = server.registry.try_fast(op, ctx, args)
    if pending is not None:
        result = await pending
        if result is not DECLINED:
            return result
    if op.blocking:
        return await run_in_threadpool(server.registry.call, op, ctx, args)
    return server.registry.call(op, ctx, args)
