"""Roles: a name, a description, permissions and interface groups."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.db.refdata import now
from qorus_core.rbac import groups as grp
from qorus_core.rbac import perms
from qorus_core.rbac._util import check_name, check_text, exists, missing
from qorus_core.rbac.changes import ListChange
from qorus_core.rbac.errors import UNKNOWN, RbacError

#: the longest description of a role (its column)
DESCRIPTION_MAX = 240


@dataclass(frozen=True)
class RoleInfo:
    role: str
    description: str
    provider: str
    permissions: tuple[str, ...]
    groups: tuple[str, ...]
    users: tuple[str, ...]


def check_known(conn: Connection, names: Iterable[str], code: str) -> None:
    unknown = missing(conn, t.roles.c.role, list(names))
    if unknown:
        s = "s" if len(unknown) > 1 else ""
        raise RbacError(f"unknown role{s}: " + ", ".join(unknown), code=code, status=UNKNOWN)


def _require(conn: Connection, role: str, code: str) -> None:
    if not exists(conn, t.roles.c.role, role):
        raise RbacError(f"role {role!r} does not exist", code=code, status=UNKNOWN)


def _set_permissions(conn: Connection, role: str, names: list[str]) -> None:
    rp = t.role_permissions
    conn.execute(delete(rp).where(rp.c.role == role))
    if names:
        conn.execute(insert(rp), [{"role": role, "permission": p} for p in names])


def _group_names(conn: Connection, role: str) -> list[str]:
    q = (
        select(t.groups.c.name)
        .join(t.role_groups, t.role_groups.c.groupid == t.groups.c.groupid)
        .where(t.role_groups.c.role == role)
    )
    return list(conn.execute(q).scalars())


def _set_groups(conn: Connection, role: str, names: list[str]) -> None:
    rg = t.role_groups
    conn.execute(delete(rg).where(rg.c.role == role))
    if names:
        conn.execute(insert(rg), [{"role": role, "groupid": grp.group_id(conn, g)} for g in names])


def add_role(
    conn: Connection,
    role: str,
    description: str,
    permissions: Iterable[str] = (),
    groups: Iterable[str] = (),
) -> None:
    """A new role; without groups it sees no interface (give it ``DEFAULT`` to see all)."""
    code = "ADD-ROLE-ERROR"
    role = check_name("role", role, 80, code)
    if exists(conn, t.roles.c.role, role):
        raise RbacError(f"role {role!r} already exists", code=code)
    check_text("the role's description", description, DESCRIPTION_MAX, code)
    plist = list(dict.fromkeys(p.strip() for p in permissions if p.strip()))
    glist = list(dict.fromkeys(g.strip() for g in groups if g.strip()))
    perms.check_known(conn, plist, code)
    grp.check_known(conn, glist, code)
    conn.execute(
        insert(t.roles).values(role=role, provider="db", description=description, created=now())
    )
    _set_permissions(conn, role, plist)
    _set_groups(conn, role, glist)


def update_role(
    conn: Connection,
    role: str,
    *,
    description: str | None = None,
    permissions: ListChange | None = None,
    groups: ListChange | None = None,
) -> None:
    """Change a role's description, permissions or groups (replaced, or ``+``/``-`` edited)."""
    code = "UPDATE-ROLE-ERROR"
    _require(conn, role, code)
    values: dict[str, object] = {"modified": now()}
    if description is not None:
        values["description"] = check_text(
            "the role's description", description, DESCRIPTION_MAX, code
        )
    if permissions is not None:
        perms.check_known(conn, permissions.names(), code)
        rp = t.role_permissions
        current = conn.execute(select(rp.c.permission).where(rp.c.role == role)).scalars()
        _set_permissions(conn, role, permissions.apply(current))
    if groups is not None:
        grp.check_known(conn, groups.names(), code)
        _set_groups(conn, role, groups.apply(_group_names(conn, role)))
    conn.execute(update(t.roles).where(t.roles.c.role == role).values(**values))


def delete_role(conn: Connection, role: str, cascade: bool = False) -> int:
    """Delete a role; one that users hold needs ``cascade`` (then the users lose it).
    Returns how many users lost it."""
    code = "DELETE-ROLE-ERROR"
    _require(conn, role, code)
    ur = t.user_roles
    users = list(conn.execute(select(ur.c.username).where(ur.c.role == role)).scalars())
    if users and not cascade:
        raise RbacError(
            f"role {role!r} is held by user{'s' if len(users) > 1 else ''} "
            f"{', '.join(sorted(users))}; use -c (cascade) to remove it from them too",
            code=code,
        )
    conn.execute(delete(ur).where(ur.c.role == role))
    conn.execute(delete(t.role_permissions).where(t.role_permissions.c.role == role))
    conn.execute(delete(t.role_groups).where(t.role_groups.c.role == role))
    conn.execute(delete(t.roles).where(t.roles.c.role == role))
    return len(users)


def list_roles(conn: Connection, role: str | None = None) -> list[RoleInfo]:
    """Every role (or the one named) with its permissions, groups and users."""
    q = select(t.roles.c.role, t.roles.c.description, t.roles.c.provider).order_by(t.roles.c.role)
    if role is not None:
        q = q.where(t.roles.c.role == role)
    rows = list(conn.execute(q))
    if role is not None and not rows:
        raise RbacError(f"role {role!r} does not exist", code="ROLE-ERROR", status=UNKNOWN)
    held: dict[str, list[str]] = {}
    for r, p in conn.execute(select(t.role_permissions.c.role, t.role_permissions.c.permission)):
        held.setdefault(r, []).append(p)
    groups: dict[str, list[str]] = {}
    for r, g in conn.execute(
        select(t.role_groups.c.role, t.groups.c.name).join(
            t.groups, t.groups.c.groupid == t.role_groups.c.groupid
        )
    ):
        groups.setdefault(r, []).append(g)
    users: dict[str, list[str]] = {}
    for u, r in conn.execute(select(t.user_roles.c.username, t.user_roles.c.role)):
        users.setdefault(r, []).append(u)
    return [
        RoleInfo(
            role=r,
            description=d or "",
            provider=pv,
            permissions=tuple(sorted(held.get(r, ()))),
            groups=tuple(sorted(groups.get(r, ()))),
            users=tuple(sorted(users.get(r, ()))),
        )
        for r, d, pv in rows
    ]
