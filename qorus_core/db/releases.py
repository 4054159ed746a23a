"""Releases loaded by oload: recorded in the load transaction, read by ``oload -s``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.db.refdata import now


@dataclass(frozen=True)
class Component:
    component_type: str  # a definition type, "release", "sql" or "file" (code)
    name: str
    version: str | None = None
    objectid: int | None = None
    filename: str | None = None


@dataclass
class Release:
    releaseid: int
    name: str
    source: str | None
    loaded_by: str | None
    hostname: str | None
    created: datetime
    count: int = 0
    components: list[Component] = field(default_factory=list)


def _cut(value: str | None, size: int) -> str | None:
    return None if value is None else value[:size]


def record(
    conn: Connection,
    name: str,
    source: str,
    components: list[Component],
    loaded_by: str | None,
    hostname: str | None,
) -> int:
    """One loaded release and its components; returns its id."""
    r = t.releases
    pk = conn.execute(
        insert(r).values(
            name=_cut(name, 240),
            source=_cut(source, 4000),
            loaded_by=_cut(loaded_by, 160),
            hostname=_cut(hostname, 160),
            created=now(),
        )
    ).inserted_primary_key
    assert pk is not None
    rid = int(pk[0])
    if components:
        conn.execute(
            insert(t.release_components),
            [
                {
                    "releaseid": rid,
                    "seq": n,
                    "component_type": c.component_type,
                    "name": _cut(c.name, 240),
                    "version": _cut(c.version, 80),
                    "objectid": c.objectid,
                    "filename": _cut(c.filename, 4000),
                }
                for n, c in enumerate(components, 1)
            ],
        )
    return rid


def list_releases(conn: Connection, name: str | None = None) -> list[Release]:
    """Releases loaded, oldest first, with their component counts (``name``: only those)."""
    r, rc = t.releases, t.release_components
    counts = (
        select(rc.c.releaseid, func.count().label("n")).group_by(rc.c.releaseid).subquery("counts")
    )
    q = (
        select(r, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.releaseid == r.c.releaseid)
        .order_by(r.c.releaseid)
    )
    if name is not None:
        q = q.where(r.c.name == name)
    return [
        Release(
            row.releaseid, row.name, row.source, row.loaded_by, row.hostname, row.created, row[-1]
        )
        for row in conn.execute(q)
    ]


def get_release(conn: Connection, releaseid: int) -> Release | None:
    """One release with its components, in the order the release brought them."""
    r, rc = t.releases, t.release_components
    row = conn.execute(select(r).where(r.c.releaseid == releaseid)).first()
    if row is None:
        return None
    comps = [
        Component(c.component_type, c.name, c.version, c.objectid, c.filename)
        for c in conn.execute(select(rc).where(rc.c.releaseid == releaseid).order_by(rc.c.seq))
    ]
    return Release(
        row.releaseid,
        row.name,
        row.source,
        row.loaded_by,
        row.hostname,
        row.created,
        len(comps),
        comps,
    )
