"""``oload --delete-id TYPE:ID``: name an object to delete by its id instead of its name.

The id is looked up and turned into the ``TYPE:NAME[:VERSION]`` spec of ``-X``, so both paths
share every check of :mod:`qorus_core.loader.delete` (orders, users, the DEFAULT group).
"""

from __future__ import annotations

import re

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from qorus_core.loader import kinds
from qorus_core.loader.delete import DeleteSpec
from qorus_core.model.errors import NotFoundError, ValidationError

#: the largest id a column of the schema can hold (64-bit signed)
MAX_ID = 2**63 - 1


def types() -> tuple[str, ...]:
    """The kinds ``--delete-id`` accepts."""
    return tuple(_tables())


def _tables() -> dict[str, tuple[Table, str, bool]]:
    """Kinds whose objects have an id: name -> (table, id column, versioned)."""
    return {
        k.name: (k.table, k.idcol, k.versioned)
        for k in kinds.all_kinds()
        if k.table is not None and k.idcol is not None
    }


_DIGITS = re.compile(r"[0-9]{1,20}")


def parse_id_spec(text: str) -> tuple[str, int]:
    """``TYPE:ID`` -> (type, id); the id a whole number from 0 to 2**63-1."""
    kind, sep, raw = text.partition(":")
    kind = kind.strip().lower()
    if not sep:
        raise ValidationError(f"--delete-id {text[:80]!r}: expected TYPE:ID")
    tables = _tables()
    if kind not in tables:
        raise ValidationError(
            f"--delete-id: cannot delete {kind[:40]!r} by id: types are {', '.join(tables)}"
        )
    raw = raw.strip()
    if not _DIGITS.fullmatch(raw) or int(raw) > MAX_ID:
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        raise ValidationError(
            f"--delete-id {kind}:{shown}: the id must be a whole number from 0 to {MAX_ID}"
        )
    return kind, int(raw)


def resolve(conn: Connection, kind: str, oid: int) -> DeleteSpec:
    """The ``-X`` spec of the object with this id; NOT-FOUND when there is none."""
    table, idcol, versioned = _tables()[kind]
    cols = [table.c.name, table.c.version] if versioned else [table.c.name]
    row = conn.execute(select(*cols).where(table.c[idcol] == oid)).first()
    if row is None:
        raise NotFoundError(f"{kind} id {oid} does not exist")
    return DeleteSpec(kind, row[0], row[1] if versioned else None)
