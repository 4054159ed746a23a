"""What the workflow, order and execution operations share: finding a workflow by id, name or
``name:version``, RBAC interface-group visibility, read-only connections, argument parsing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.engine import Connection

from qorus_core.bounded import DEFAULT_LIMITS, LimitError, load_yaml
from qorus_core.db import tables as t
from qorus_core.db.engine import READONLY
from qorus_core.db.wfdefs import find_workflow
from qorus_core.model.errors import AuthorizationError, NotFoundError, QorusError, ValidationError
from qorus_server.api.registry import CallContext
from qorus_server.engine.manager import WorkflowManager

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


def split_ref(ref: Any, version: Any = None) -> tuple[str, str | None]:
    """``NAME``, ``NAME:VERSION`` or an id, plus an optional separate version."""
    text = str(ref).strip()
    if not text:
        raise ValidationError("a workflow name or id is required")
    if version is None and ":" in text:
        text, _, ver = text.partition(":")
        return text, ver or None
    return text, None if version in (None, "") else str(version)


def sees(ctx: CallContext) -> Callable[[int], bool] | None:
    """The caller's workflow visibility test, or None when every workflow is visible."""
    user = ctx.user
    fn = getattr(user, "sees_workflow", None) if user is not None else None
    if fn is None or getattr(user, "all_interfaces", False):
        return None
    return fn  # type: ignore[no-any-return]


def check_visible(ctx: CallContext, workflowid: int, label: Any) -> None:
    test = sees(ctx)
    if test is not None and not test(workflowid):
        raise AuthorizationError(
            f"user {ctx.username!r} has no access to workflow {label} (interface groups)",
            info={"workflowid": workflowid},
        )


def resolve(ctx: CallContext, ref: Any, version: Any = None) -> int:
    """The workflowid of ``ref`` (id, name = latest version, ``name:version``), visible to
    the caller; 404 WORKFLOW-ERROR when unknown, 403 when its groups hide it."""
    name, ver = split_ref(ref, version)
    with readonly(ctx) as conn:
        wfid = find_workflow(conn, name, ver)
    check_visible(ctx, wfid, str(ref))
    return wfid


def order_workflow(ctx: CallContext, wfiid: Any) -> int:
    """The workflowid of an order visible to the caller (404 ORDER-NOT-FOUND when unknown)."""
    ident = as_int(wfiid, "workflow_instanceid")
    wi = t.workflow_instance
    with readonly(ctx) as conn:
        row = conn.execute(select(wi.c.workflowid).where(wi.c.workflow_instanceid == ident)).first()
    if row is None:
        raise NotFoundError(f"workflow order {ident} does not exist", code="ORDER-NOT-FOUND")
    check_visible(ctx, int(row[0]), f"id {row[0]}")
    return int(row[0])


def as_int(value: Any, name: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool):
        raise ValidationError(f"{name} must be an integer, got {value!r}")
    try:
        out = int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be an integer, got {value!r}") from None
    if minimum is not None and out < minimum:
        raise ValidationError(f"{name} must be {minimum} or more, got {out}")
    return out


def as_bool(value: Any, name: str) -> bool:
    """A boolean argument: a bool, a number (non-zero is true) or true/false, yes/no, on/off."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValidationError(f"{name} must be true or false, got {value!r}")


def as_list(value: Any, name: str) -> list[Any]:
    """A list argument: a list, or a comma-separated string."""
    if value is None or value == "":
        raise ValidationError(f"missing argument {name!r}")
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def as_hash(
    value: Any, name: str, error: Callable[[str], QorusError] = ValidationError
) -> dict[str, Any]:
    """A hash argument; a string is parsed as YAML (``{a: 1}``), as qrest sends it. Errors
    name the argument but never echo its value (it may be sensitive)."""
    if isinstance(value, str):
        try:
            value = load_yaml(value, DEFAULT_LIMITS)
        except LimitError as exc:
            raise error(f"{name} is refused: {exc.desc}") from None
        except yaml.YAMLError:
            raise error(f"{name} must be a hash; its text is not valid YAML") from None
    if not isinstance(value, dict):
        raise error(f"{name} must be a hash, got {type(value).__name__}")
    return value


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


def search_args(args: dict[str, Any]) -> dict[str, Any]:
    """The search arguments, an unknown one refused (400)."""
    unknown = sorted(set(args) - set(SEARCH_ARGS))
    if unknown:
        raise ValidationError(
            f"unknown orders search argument(s): {', '.join(unknown)} "
            f"(use {', '.join(SEARCH_ARGS)})",
            code="ORDER-SEARCH-ERROR",
        )
    return args
