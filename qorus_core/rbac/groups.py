"""Interface groups: a name, a description, an enabled flag and member workflows, services and
jobs. The DEFAULT group (id 0) stands for every interface and cannot be changed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.db.refdata import DEFAULT_GROUP, now
from qorus_core.db.versions import find_version
from qorus_core.model.refs import split_ref
from qorus_core.model.versions import version_key
from qorus_core.rbac._util import check_name, check_text, missing
from qorus_core.rbac.changes import ListChange
from qorus_core.rbac.errors import FORBIDDEN, UNKNOWN, RbacError

KINDS = ("workflow", "service", "job")
#: the longest description of a group (its column)
DESCRIPTION_MAX = 4000


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class GroupInfo:
    groupid: int
    name: str
    description: str
    enabled: bool
    workflows: tuple[Member, ...]
    services: tuple[Member, ...]
    jobs: tuple[Member, ...]
    roles: tuple[str, ...]
    created: datetime | None
    modified: datetime | None


def _iface(kind: str) -> tuple[Table, Any]:
    table: Table = {"workflow": t.workflows, "service": t.services, "job": t.jobs}[kind]
    return table, table.c[f"{kind}id"]


def member_table(kind: str) -> Table:
    return {"workflow": t.group_workflows, "service": t.group_services, "job": t.group_jobs}[kind]


def resolve_member(conn: Connection, kind: str, spec: str) -> Member:
    """``name:version``, or ``name`` for its latest version (highest in natural version order),
    or a numeric id when no interface has that name. Only user services may be members."""
    table, idcol = _iface(kind)
    spec = spec.strip()
    name, version = split_ref(spec)
    user_only = [t.services.c.service_type == "USER"] if kind == "service" else []
    found = find_version(conn, table, name, version or None, *user_only)
    if found is not None:
        return Member(found[0], name, found[1])
    if not version and name.isascii() and name.isdigit() and int(name) < 2**63:
        row = conn.execute(
            select(idcol, table.c.name, table.c.version).where(idcol == int(name), *user_only)
        ).first()
        if row is not None:
            return Member(int(row[0]), row[1], row[2])
    what = "user service" if kind == "service" else kind
    raise RbacError(f"{what} {spec!r} does not exist", code=f"{kind.upper()}-ERROR", status=UNKNOWN)


def _resolve_all(conn: Connection, kind: str, specs: Iterable[str]) -> list[int]:
    return list(dict.fromkeys(resolve_member(conn, kind, s).id for s in specs if s.strip()))


def group_id(conn: Connection, name: str, code: str = "GROUP-ERROR") -> int:
    gid = conn.execute(select(t.groups.c.groupid).where(t.groups.c.name == name)).scalar()
    if gid is None:
        raise RbacError(f"group {name!r} does not exist", code=code, status=UNKNOWN)
    return int(gid)


def check_known(conn: Connection, names: Iterable[str], code: str) -> None:
    unknown = missing(conn, t.groups.c.name, list(names))
    if unknown:
        s = "s" if len(unknown) > 1 else ""
        raise RbacError(f"unknown group{s}: " + ", ".join(unknown), code=code, status=UNKNOWN)


def _not_default(name: str, code: str, verb: str) -> None:
    if name == DEFAULT_GROUP:
        raise RbacError(
            f"group {DEFAULT_GROUP!r} (every interface) cannot be {verb}",
            code=code,
            status=FORBIDDEN,
        )


def add_group(
    conn: Connection,
    name: str,
    description: str,
    *,
    enabled: bool = True,
    workflows: Iterable[str] = (),
    services: Iterable[str] = (),
    jobs: Iterable[str] = (),
) -> int:
    """Create a group with its members; returns the new group id."""
    code = "ADD-GROUP-ERROR"
    name = check_name("group", name, 80, code)
    check_text("the group's description", description, DESCRIPTION_MAX, code)
    if conn.execute(select(t.groups.c.groupid).where(t.groups.c.name == name)).first():
        raise RbacError(f"group {name!r} already exists", code=code)
    members = {
        "workflow": _resolve_all(conn, "workflow", workflows),
        "service": _resolve_all(conn, "service", services),
        "job": _resolve_all(conn, "job", jobs),
    }
    res = conn.execute(
        insert(t.groups).values(name=name, description=description, enabled=enabled, created=now())
    )
    pk = res.inserted_primary_key
    assert pk is not None
    gid = int(pk[0])
    for kind, ids in members.items():
        if ids:
            conn.execute(
                insert(member_table(kind)), [{"groupid": gid, f"{kind}id": i} for i in ids]
            )
    return gid


def update_group(
    conn: Connection,
    name: str,
    *,
    description: str | None = None,
    enabled: bool | None = None,
    workflows: ListChange | None = None,
    services: ListChange | None = None,
    jobs: ListChange | None = None,
) -> None:
    """Change a group's description, status or members (replaced, or ``+``/``-`` edited)."""
    code = "UPDATE-GROUP-ERROR"
    _not_default(name, code, "changed")
    gid = group_id(conn, name, code)
    values: dict[str, Any] = {"modified": now()}
    if description is not None:
        values["description"] = check_text(
            "the group's description", description, DESCRIPTION_MAX, code
        )
    if enabled is not None:
        values["enabled"] = enabled
    for kind, change in (("workflow", workflows), ("service", services), ("job", jobs)):
        if change is None:
            continue
        mt = member_table(kind)
        col = mt.c[f"{kind}id"]
        current = [str(i) for i in conn.execute(select(col).where(mt.c.groupid == gid)).scalars()]
        resolved = ListChange(
            replace=None
            if change.replace is None
            else tuple(str(i) for i in _resolve_all(conn, kind, change.replace)),
            add=tuple(str(i) for i in _resolve_all(conn, kind, change.add)),
            remove=tuple(str(i) for i in _resolve_all(conn, kind, change.remove)),
        )
        new = resolved.apply(current)
        conn.execute(delete(mt).where(mt.c.groupid == gid))
        if new:
            conn.execute(insert(mt), [{"groupid": gid, f"{kind}id": int(i)} for i in new])
    conn.execute(update(t.groups).where(t.groups.c.groupid == gid).values(**values))


def set_group_enabled(conn: Connection, name: str, enabled: bool) -> None:
    code = "ENABLE-GROUP-ERROR" if enabled else "DISABLE-GROUP-ERROR"
    _not_default(name, code, "enabled or disabled")
    gid = group_id(conn, name, code)
    conn.execute(
        update(t.groups).where(t.groups.c.groupid == gid).values(enabled=enabled, modified=now())
    )


def delete_group(conn: Connection, name: str, cascade: bool = False) -> int:
    """Delete a group and its member list; a group that roles hold needs ``cascade`` (then the
    roles lose it). Returns how many roles lost it."""
    code = "DELETE-GROUP-ERROR"
    _not_default(name, code, "deleted")
    gid = group_id(conn, name, code)
    rg = t.role_groups
    roles = list(conn.execute(select(rg.c.role).where(rg.c.groupid == gid)).scalars())
    if roles and not cascade:
        raise RbacError(
            f"group {name!r} is held by role{'s' if len(roles) > 1 else ''} "
            f"{', '.join(sorted(roles))}; use -c (cascade) to remove it from them too",
            code=code,
        )
    conn.execute(delete(rg).where(rg.c.groupid == gid))
    for kind in KINDS:
        mt = member_table(kind)
        conn.execute(delete(mt).where(mt.c.groupid == gid))
    conn.execute(delete(t.groups).where(t.groups.c.groupid == gid))
    return len(roles)


def _members(conn: Connection, kind: str) -> dict[int, list[Member]]:
    table, idcol = _iface(kind)
    mt = member_table(kind)
    out: dict[int, list[Member]] = {}
    q = select(mt.c.groupid, idcol, table.c.name, table.c.version).join(
        table, idcol == mt.c[f"{kind}id"]
    )
    rows = sorted(conn.execute(q), key=lambda r: (r[2], version_key(r[3])))
    for gid, iid, name, version in rows:
        out.setdefault(int(gid), []).append(Member(int(iid), name, version))
    return out


def list_groups(conn: Connection, name: str | None = None) -> list[GroupInfo]:
    """Every group (or the one named), with its members and the roles that hold it."""
    g = t.groups
    q = select(g).order_by(g.c.groupid)
    if name is not None:
        q = q.where(g.c.name == name)
    rows = list(conn.execute(q).mappings())
    if name is not None and not rows:
        raise RbacError(f"group {name!r} does not exist", code="GROUP-ERROR", status=UNKNOWN)
    members = {k: _members(conn, k) for k in KINDS}
    held: dict[int, list[str]] = {}
    for role, gid in conn.execute(select(t.role_groups.c.role, t.role_groups.c.groupid)):
        held.setdefault(int(gid), []).append(role)
    return [
        GroupInfo(
            groupid=int(r["groupid"]),
            name=r["name"],
            description=r["description"] or "",
            enabled=bool(r["enabled"]),
            workflows=tuple(members["workflow"].get(int(r["groupid"]), ())),
            services=tuple(members["service"].get(int(r["groupid"]), ())),
            jobs=tuple(members["job"].get(int(r["groupid"]), ())),
            roles=tuple(sorted(held.get(int(r["groupid"]), ()))),
            created=r["created"],
            modified=r["modified"],
        )
        for r in rows
    ]
