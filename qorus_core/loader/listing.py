"""``oload -L TYPE``: what the schema holds, as rows for a table. Each kind brings its own
lister; these are the shapes the built-in kinds share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.loader import kinds
from qorus_core.model.errors import ValidationError
from qorus_core.model.versions import version_key

Listing = tuple[list[str], list[list[Any]]]


def list_objects(conn: Connection, kind: str) -> Listing:
    """(column titles, rows) for objects of ``kind`` (singular or plural, case-insensitive)."""
    k = _kind_of(kind)
    if k is None:
        raise ValidationError(f"cannot list {kind!r}: types are {', '.join(kinds.names())}")
    return k.list(conn)


def _kind_of(text: str) -> kinds.Kind | None:
    low = text.lower()
    for cand in (low, low.rstrip("s")):
        found = kinds.get(cand)
        if found is not None:
            return found
    for k in kinds.all_kinds():
        if low in k.aliases:
            return k
    return None


def versioned(table: Table, idcol: str, extra: str) -> Callable[[Connection], Listing]:
    """Lister of a versioned kind: id, name, version, one column of its own, when loaded."""

    def lister(conn: Connection) -> Listing:
        objects = conn.execute(
            select(
                table.c[idcol],
                table.c.name,
                table.c.version,
                table.c[extra],
                func.coalesce(table.c.modified, table.c.created),
                table.c.source,
            )
        ).all()
        ordered = sorted(objects, key=lambda r: (r[1], version_key(r[2])))
        return ["id", "name", "version", extra, "loaded", "source"], [list(r) for r in ordered]

    return lister


def named(table: Table, idcol: str) -> Callable[[Connection], Listing]:
    """Lister of a kind keyed by name alone: id, name, description."""

    def lister(conn: Connection) -> Listing:
        rows = conn.execute(
            select(table.c[idcol], table.c.name, table.c.description).order_by(table.c.name)
        ).all()
        return ["id", "name", "description"], [list(r) for r in rows]

    return lister


def errors(conn: Connection) -> Listing:
    """Errors definitions: one row per file with how many errors it holds."""
    e, ef = t.error_definitions, t.error_files
    n = (
        select(func.count())
        .select_from(e)
        .where(e.c.name == ef.c.name)
        .correlate(ef)
        .scalar_subquery()
    )
    files = conn.execute(
        select(ef.c.name, n, ef.c.file_name, ef.c.source).order_by(ef.c.name)
    ).all()
    return ["name", "errors", "file", "source"], [list(r) for r in files]
