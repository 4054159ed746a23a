"""Names the HTTP gateways match against: interface group names by id (a WebDAV user's
directories) and an interface's id and name from what a caller wrote (a log stream's path).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.db.versions import find_version
from qorus_core.model.errors import NotFoundError
from qorus_core.model.refs import split_ref

#: interface kind -> (table, error code of an unknown one)
_KINDS: dict[str, tuple[Table, str]] = {
    "workflow": (t.workflows, "WORKFLOW-ERROR"),
    "service": (t.services, "SERVICE-ERROR"),
    "job": (t.jobs, "JOB-ERROR"),
}


def group_names(conn: Connection, groupids: Iterable[int]) -> frozenset[str]:
    """The names of the interface groups with these ids."""
    ids = sorted({int(i) for i in groupids})
    if not ids:
        return frozenset()
    g = t.groups
    return frozenset(
        str(n) for n in conn.execute(select(g.c.name).where(g.c.groupid.in_(ids))).scalars()
    )


def interface_ref(conn: Connection, kind: str, ref: str) -> tuple[int, str]:
    """(id, name) of the workflow, service or job written as an id, ``name`` (its latest
    version) or ``name:version``; NotFoundError (404, WORKFLOW-ERROR, SERVICE-ERROR or
    JOB-ERROR) when there is none."""
    table, code = _KINDS[kind]
    (idcol,) = table.primary_key.columns
    if ref.isascii() and ref.isdigit() and len(ref) <= 19:
        row = conn.execute(select(idcol, table.c.name).where(idcol == int(ref))).first()
        if row is not None:
            return int(row[0]), str(row[1])
    name, version = split_ref(ref)
    found = find_version(conn, table, name, version) if name else None
    if found is None:
        raise NotFoundError(f"there is no {kind} {ref!r}", code=code, info={kind: ref})
    return found[0], name
