"""The one row-lock query of an order: ``SELECT ... FOR UPDATE`` of its ``workflow_instance``
row (with its workflow's name), taken first in the transaction of every operator change so
that a concurrent change waits instead of acting on a stale status or lock."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from qorus_core.db import tables as t
from qorus_core.db.dialects import dialect_for
from qorus_core.model.errors import NotFoundError, ValidationError

wi = t.workflow_instance


def lock_order_row(
    conn: Connection,
    wfiid: Any,
    columns: list[Any],
    *,
    code: str | None = None,
    missing_code: str | None = None,
) -> dict[str, Any]:
    """The order's row (``columns`` of workflow_instance joined with workflows), locked until
    the commit. A malformed id raises ``code`` (INVALID-ARGUMENT by default); an unknown order
    raises ``missing_code`` (``code``, else NOT-FOUND). SQLite has no row locks: its single
    writer serialises the change instead."""
    try:
        ident = int(wfiid)
    except (TypeError, ValueError):
        raise ValidationError(f"invalid workflow_instanceid {wfiid!r}", code=code) from None
    key: ColumnElement[bool] = wi.c.workflow_instanceid == ident
    q = (
        select(*columns)
        .select_from(wi)
        .join(t.workflows, t.workflows.c.workflowid == wi.c.workflowid)
        .where(key)
    )
    row = conn.execute(dialect_for(conn).lock_rows(q, of=wi)).first()
    if row is None:
        raise NotFoundError(f"workflow order {ident} does not exist", code=missing_code or code)
    return dict(row._mapping)
