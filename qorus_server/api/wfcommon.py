"""What the workflow, order, execution and wait operations share: finding a workflow by id,
name or ``name:version``, RBAC interface-group visibility, read-only connections, the orders
search arguments, queue and event references and keys, waking the local instances. Single
arguments are parsed by :mod:`qorus_core.model.args`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Connection

from qorus_core.db.engine import READONLY
from qorus_core.db.orders_query import MAX_LIMIT, order_workflowid
from qorus_core.db.wfdefs import find_workflow
from qorus_core.model import args as a
from qorus_core.model.errors import NotFoundError, QorusError, ValidationError
from qorus_core.model.status import order_code
from qorus_server.api import access
from qorus_server.api.registry import CallContext
from qorus_server.engine.manager import WorkflowManager

#: the widest workflow name and version (their columns)
MAX_NAME, MAX_VERSION = 160, 80

# the parsers' earlier names, for callers written before qorus_core.model.args
as_int, as_bool, as_list, as_hash = a.arg_int, a.arg_bool, a.arg_list, a.arg_hash

#: engine error codes that mean "the caller's data is malformed": answered with HTTP 400
BAD_DATA_CODES = frozenset({"ORDER-DATA-ERROR"})


@contextmanager
def readonly(ctx: CallContext) -> Iterator[Connection]:
    """A connection for queries (no write lock on SQLite)."""
    with ctx.server.engine.connect().execution_options(**{READONLY: True}) as conn:
        yield conn


@contextmanager
def bad_data_is_400() -> Iterator[None]:
    """Malformed data found by the data layer (ORDER-DATA-ERROR) is a bad request, not 409."""
    try:
        yield
    except QorusError as exc:
        if exc.code in BAD_DATA_CODES and exc.http_status == 409:
            exc.http_status = 400
        raise


def manager(ctx: CallContext) -> WorkflowManager:
    wm: WorkflowManager = ctx.server.workflows
    return wm


def workflow_ref(value: object, name: str = "id") -> str:
    """A workflow named by id (0 .. 2**63-1), name or ``name:version``, as text; 400 when it is
    none of them (a list, a number beyond 64 bits, a NUL character, a huge string)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(a.arg_id(value, name))
    text = a.arg_text(value, name, max_len=MAX_NAME + 1 + MAX_VERSION).strip()
    if not text:
        raise ValidationError(f"argument {name!r}: a workflow name or id is required")
    if text.isascii() and text.isdigit():
        return str(a.arg_id(text, name))
    return text


def workflow_version(value: object, name: str = "version") -> str | None:
    """An optional workflow version (text of at most 80 characters)."""
    return None if a.absent(value) else a.arg_text(value, name, max_len=MAX_VERSION).strip()


def split_ref(ref: object, version: object = None, name: str = "id") -> tuple[str, str | None]:
    """``NAME``, ``NAME:VERSION`` or an id, plus an optional separate version."""
    text = workflow_ref(ref, name)
    ver = workflow_version(version)
    if ver is None and ":" in text:
        text, _, after = text.partition(":")
        return text, after or None
    return text, ver


def sees(ctx: CallContext) -> Callable[[int], bool] | None:
    """The caller's workflow visibility test, or None when every workflow is visible
    (:func:`qorus_server.api.access.sees`)."""
    return access.sees(ctx, "workflow")


def check_visible(ctx: CallContext, workflowid: int, label: object) -> None:
    """403 when the caller's interface groups hide the workflow."""
    access.check_visible(ctx, "workflow", workflowid, label)


def resolve(
    ctx: CallContext,
    ref: object,
    version: object = None,
    arg: str = "id",
    conn: Connection | None = None,
) -> int:
    """The workflowid of ``ref`` (id, name = latest version, ``name:version``), visible to
    the caller; 400 when malformed, 404 WORKFLOW-ERROR when unknown, 403 when its groups
    hide it. Looked up on ``conn`` when given (the caller's transaction)."""
    name, ver = split_ref(ref, version, arg)
    if conn is not None:
        wfid = find_workflow(conn, name, ver)
    else:
        with readonly(ctx) as ro:
            wfid = find_workflow(ro, name, ver)
    check_visible(ctx, wfid, str(ref))
    return wfid


def order_workflow(ctx: CallContext, wfiid: object, name: str = "id") -> int:
    """The workflowid of an order visible to the caller (404 ORDER-NOT-FOUND when unknown)."""
    ident = a.arg_id(wfiid, name)
    with readonly(ctx) as conn:
        wfid = order_workflowid(conn, ident)
    if wfid is None:
        raise NotFoundError(f"workflow order {ident} does not exist", code="ORDER-NOT-FOUND")
    check_visible(ctx, wfid, f"id {wfid}")
    return wfid


#: the filters and paging arguments of the orders search (``GET orders``)
SEARCH_ARGS = (
    "workflowid",
    "ids",
    "status",
    "statuses",
    "keyname",
    "keyvalue",
    "modified",
    "date",
    "maxmodified",
    "minstarted",
    "maxstarted",
    "limit",
    "offset",
    "sort",
    "desc",
)


def _statuses(value: object, name: str) -> list[str]:
    """Order status names (or their one-letter codes), each known."""
    out = a.arg_texts(value, name, max_len=40, code="ORDER-SEARCH-ERROR")
    for text in out:
        try:
            order_code(text)
        except ValueError:
            raise ValidationError(
                f"argument {name!r}: unknown order status {a.shown(text)}",
                code="ORDER-SEARCH-ERROR",
            ) from None
    return out


_DATES = ("modified", "date", "maxmodified", "minstarted", "maxstarted")


def search_args(args: dict[str, object]) -> dict[str, Any]:
    """The search arguments parsed (ids, dates, limit, ...); an unknown or malformed one is
    refused (400 ORDER-SEARCH-ERROR naming it). Absent ones are left out."""
    unknown = sorted(set(args) - set(SEARCH_ARGS))
    if unknown:
        raise ValidationError(
            f"unknown orders search argument(s): {', '.join(unknown)} "
            f"(use {', '.join(SEARCH_ARGS)})",
            code="ORDER-SEARCH-ERROR",
        )
    code = "ORDER-SEARCH-ERROR"
    out: dict[str, object] = {}
    for name, value in args.items():
        if a.absent(value):
            continue
        if name in ("workflowid", "ids"):
            out[name] = a.arg_ids(value, name, code=code)
        elif name in ("status", "statuses"):
            out[name] = _statuses(value, name)
        elif name == "sort":
            out[name] = a.arg_texts(value, name, max_len=40, code=code)
        elif name == "keyname":
            out[name] = a.arg_text(value, name, max_len=160, code=code)
        elif name == "keyvalue":
            out[name] = a.arg_texts(value, name, max_len=400, code=code)
        elif name in _DATES:
            out[name] = a.arg_date(value, name, code=code)
        elif name == "limit":
            out[name] = a.arg_limit(value, name, default=100, maximum=MAX_LIMIT, code=code)
        elif name == "offset":
            out[name] = a.arg_offset(value, name, code=code)
        else:  # desc
            out[name] = a.arg_bool(value, name, code=code)
    return out


# ---------------------------------------------------------------------- waits

#: the widest queue key and event key (their columns); names are as wide as a workflow's
MAX_KEY = 240


def ref_arg(value: object, name: str) -> str:
    """A queue or event type named by id (0 .. 2**63-1) or name, as text; 400 when it is
    neither (empty, a list, NUL, too long, a number beyond 64 bits)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(a.arg_id(value, name))
    if a.absent(value):
        raise ValidationError(f"missing argument {name!r} (a name or an id)")
    text = a.arg_text(value, name, max_len=MAX_NAME).strip()
    if text.isascii() and text.isdigit():
        return str(a.arg_id(text, name))
    return text


def key_arg(value: object, name: str = "key") -> str:
    """A queue key or event key: a non-empty text of at most 240 characters."""
    if a.absent(value):
        raise ValidationError(f"missing argument {name!r} (a key)")
    return a.arg_text(value, name, max_len=MAX_KEY)


def wake(ctx: CallContext, workflowids: Iterable[int | None]) -> None:
    """Wake the local execution instances of the workflows whose orders a change made due
    (already committed). Without a running engine there is nothing local to wake: the orders
    are due in the database and other nodes poll for them."""
    ids = {w for w in workflowids if w is not None}
    if not ids:
        return
    try:
        wm = manager(ctx)
    except QorusError:
        return
    for wfid in sorted(ids):
        wm.notify(wfid)
