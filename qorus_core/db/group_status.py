"""Which interfaces their interface groups stop: a workflow, service or job that is a member of
a **disabled** group does not run (no execution instance, not loaded, not scheduled), whatever
its other groups, as in the real product ("not a member of any other disabled group"). The
DEFAULT group (id 0) holds every interface and can never be disabled, so it stops nothing.

The engine, the service manager and the job scheduler ask here before they start something;
the interface-group enforcement of the server compares :func:`stopped` before and after a
change of groups to know what to stop and what to start again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, and_, exists, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from qorus_core.db import tables as t

#: the interface kinds groups hold
KINDS = ("workflow", "service", "job")


def _members(kind: str) -> Table:
    return {"workflow": t.group_workflows, "service": t.group_services, "job": t.group_jobs}[kind]


def not_stopped(kind: str, idcol: Any) -> ColumnElement[bool]:
    """A WHERE clause: the interface of ``idcol`` is in no disabled group."""
    mt, g = _members(kind), t.groups
    return ~exists(
        select(mt.c.groupid)
        .join(g, g.c.groupid == mt.c.groupid)
        .where(and_(mt.c[f"{kind}id"] == idcol, g.c.enabled.is_(False)))
    )


def stopped(conn: Connection, kind: str) -> dict[int, str]:
    """Every interface of ``kind`` that a disabled group stops: its id -> the name of one such
    group (the first by name)."""
    mt, g = _members(kind), t.groups
    rows = conn.execute(
        select(mt.c[f"{kind}id"], g.c.name)
        .join(g, g.c.groupid == mt.c.groupid)
        .where(g.c.enabled.is_(False))
        .order_by(g.c.name)
    )
    out: dict[int, str] = {}
    for iid, name in rows:
        out.setdefault(int(iid), str(name))
    return out


def stopping_group(conn: Connection, kind: str, iid: int) -> str | None:
    """The name of a disabled group ``kind`` ``iid`` is a member of (None: it may run)."""
    mt, g = _members(kind), t.groups
    found = conn.execute(
        select(g.c.name)
        .join(mt, mt.c.groupid == g.c.groupid)
        .where(mt.c[f"{kind}id"] == iid, g.c.enabled.is_(False))
        .order_by(g.c.name)
        .limit(1)
    ).scalar()
    return None if found is None else str(found)


def statuses(conn: Connection) -> dict[str, tuple[int, bool]]:
    """Every group: its name -> (groupid, enabled)."""
    g = t.groups
    return {
        str(name): (int(gid), bool(enabled))
        for gid, name, enabled in conn.execute(select(g.c.groupid, g.c.name, g.c.enabled))
    }
