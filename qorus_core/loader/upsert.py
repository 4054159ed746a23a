"""Insert-or-update of one object and its child rows, keeping its id, reporting what changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.engine import Connection

from qorus_core.db.refdata import now

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"


@dataclass
class Children:
    """The child rows of an object in one table (``parent`` = the column holding its id)."""

    table: Table
    parent: str
    rows: list[dict[str, Any]]


def _norm(v: Any) -> Any:
    if isinstance(v, bool):
        return int(v)
    return v


def _rowset(rows: list[dict[str, Any]], cols: list[str]) -> list[tuple[Any, ...]]:
    return sorted((tuple(_norm(r.get(c)) for c in cols) for r in rows), key=repr)


def _stamp(table: Table, row: dict[str, Any], ts: Any) -> dict[str, Any]:
    if "created" in table.c and "created" not in row:
        return {**row, "created": ts}
    return row


def upsert(
    conn: Connection,
    table: Table,
    idcol: str,
    key: dict[str, Any],
    row: dict[str, Any],
    children: list[Children] = (),  # type: ignore[assignment]
    insert_only: dict[str, Any] | None = None,
) -> tuple[int, str]:
    """Store ``row`` under ``key``; returns (id, new|updated|unchanged).

    ``insert_only`` columns are set on creation and never changed afterwards (operator state
    such as ``enabled``)."""
    ts = now()
    cols = list(row)
    where = [table.c[k] == v for k, v in key.items()]
    found = conn.execute(select(table.c[idcol], *(table.c[c] for c in cols)).where(*where)).first()
    if found is None:
        values = {**key, **row, **(insert_only or {}), "created": ts}
        pk = conn.execute(insert(table).values(**values)).inserted_primary_key
        assert pk is not None
        oid = pk[0]
        for ch in children:
            if ch.rows:
                conn.execute(
                    insert(ch.table),
                    [_stamp(ch.table, {**r, ch.parent: oid}, ts) for r in ch.rows],
                )
        return int(oid), NEW
    oid = int(found[0])
    same = all(_norm(found[i + 1]) == _norm(row[c]) for i, c in enumerate(cols))
    for ch in children:
        if not same:
            break
        ccols = sorted({c for r in ch.rows for c in r})
        if not ccols:
            ccols = [c.name for c in ch.table.c if c.name not in (ch.parent, "created", "modified")]
        stored = conn.execute(
            select(*(ch.table.c[c] for c in ccols)).where(ch.table.c[ch.parent] == oid)
        ).all()
        same = _rowset([dict(zip(ccols, s, strict=True)) for s in stored], ccols) == _rowset(
            ch.rows, ccols
        )
    if same:
        return oid, UNCHANGED
    conn.execute(update(table).where(table.c[idcol] == oid).values(**row, modified=ts))
    for ch in children:
        conn.execute(delete(ch.table).where(ch.table.c[ch.parent] == oid))
        if ch.rows:
            conn.execute(
                insert(ch.table), [_stamp(ch.table, {**r, ch.parent: oid}, ts) for r in ch.rows]
            )
    return oid, UPDATED
