"""Name (and optional version) -> row id for the versioned interface tables.

Every caller that takes a name without a version (the API, the engine, RBAC groups, oload,
the code cache) resolves it here, so all of them take the same row: the latest version in
natural version order (:mod:`qorus_core.model.versions`), never the most recently loaded one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from qorus_core.model.versions import latest_by, sorted_by


def _id_column(table: Table) -> Any:
    (col,) = table.primary_key.columns
    return col


def versions_of(
    conn: Connection, table: Table, name: str, *where: ColumnElement[bool]
) -> list[tuple[int, str]]:
    """(id, version) of every version of ``name`` in ``table``, oldest version first."""
    idcol = _id_column(table)
    rows = conn.execute(select(idcol, table.c.version).where(table.c.name == name, *where))
    return sorted_by(((int(i), str(v)) for i, v in rows), lambda r: r[1])


def find_version(
    conn: Connection,
    table: Table,
    name: str,
    version: str | None = None,
    *where: ColumnElement[bool],
) -> tuple[int, str] | None:
    """(id, version) of ``name:version``, or of the latest version of ``name`` when
    ``version`` is None; None when there is no such row."""
    if version is not None:
        idcol = _id_column(table)
        row = conn.execute(
            select(idcol).where(table.c.name == name, table.c.version == version, *where)
        ).first()
        return (int(row[0]), version) if row is not None else None
    return latest_by(versions_of(conn, table, name, *where), lambda r: r[1])
