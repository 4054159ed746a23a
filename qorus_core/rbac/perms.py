"""Permissions: SYSTEM ones (reference rows, immutable) and USER ones; umbrella expansion."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.db.refdata import now
from qorus_core.rbac._util import check_name, check_text, missing
from qorus_core.rbac.errors import UNKNOWN, RbacError

SYSTEM = "SYSTEM"
USER = "USER"
#: the longest description of a permission (its column)
DESCRIPTION_MAX = 240


@dataclass(frozen=True)
class PermissionInfo:
    name: str
    permission_type: str
    description: str
    includes: tuple[str, ...]
    roles: tuple[str, ...]


def includes_map(conn: Connection) -> dict[str, set[str]]:
    """Umbrella permission -> the permissions it names directly."""
    out: dict[str, set[str]] = {}
    for name, inc in conn.execute(
        select(t.permission_includes.c.name, t.permission_includes.c.includes)
    ):
        out.setdefault(name, set()).add(inc)
    return out


def expand(names: Iterable[str], includes: dict[str, set[str]]) -> frozenset[str]:
    """``names`` plus everything their umbrellas include, transitively."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(includes.get(name, ()))
    return frozenset(seen)


def _get(conn: Connection, name: str) -> tuple[str, str | None] | None:
    row = conn.execute(
        select(t.permissions.c.permission_type, t.permissions.c.description).where(
            t.permissions.c.name == name
        )
    ).first()
    return None if row is None else (row[0], row[1])


def check_known(conn: Connection, names: Iterable[str], code: str) -> None:
    unknown = missing(conn, t.permissions.c.name, list(names))
    if unknown:
        raise RbacError(
            f"unknown permission{'s' if len(unknown) > 1 else ''}: " + ", ".join(unknown),
            code=code,
            status=UNKNOWN,
        )


def add_permission(conn: Connection, name: str, description: str) -> None:
    """A new USER permission; its name may not be that of any other permission (any case)."""
    code = "ADD-PERMISSION-ERROR"
    name = check_name("permission", name, 80, code)
    check_text("the permission's description", description, DESCRIPTION_MAX, code)
    for other, ptype in conn.execute(select(t.permissions.c.name, t.permissions.c.permission_type)):
        if other.upper() == name.upper():
            if ptype == SYSTEM:
                msg = f"{name!r} is the name of the system permission {other!r}"
            else:
                msg = f"permission {other!r} already exists"
            raise RbacError(msg, code=code)
    conn.execute(
        insert(t.permissions).values(
            name=name, permission_type=USER, description=description, created=now()
        )
    )


def _user_permission(conn: Connection, name: str, code: str, verb: str) -> None:
    got = _get(conn, name)
    if got is None:
        raise RbacError(f"permission {name!r} does not exist", code=code, status=UNKNOWN)
    if got[0] == SYSTEM:
        raise RbacError(f"{name!r} is a system permission: it cannot be {verb}", code=code)


def update_permission(conn: Connection, name: str, description: str) -> None:
    """Change the description of a USER permission (system ones are immutable)."""
    code = "UPDATE-PERMISSION-ERROR"
    check_text("the permission's description", description, DESCRIPTION_MAX, code)
    _user_permission(conn, name, code, "changed")
    conn.execute(
        update(t.permissions)
        .where(t.permissions.c.name == name)
        .values(description=description, modified=now())
    )


def delete_permission(conn: Connection, name: str, cascade: bool = False) -> int:
    """Delete a USER permission; held by roles it needs ``cascade`` (then the roles lose it).
    Returns how many roles lost it."""
    code = "DELETE-PERMISSION-ERROR"
    _user_permission(conn, name, code, "deleted")
    rp = t.role_permissions
    roles = list(conn.execute(select(rp.c.role).where(rp.c.permission == name)).scalars())
    if roles and not cascade:
        raise RbacError(
            f"permission {name!r} is held by role{'s' if len(roles) > 1 else ''} "
            f"{', '.join(sorted(roles))}; use -c (cascade) to remove it from them too",
            code=code,
        )
    conn.execute(delete(rp).where(rp.c.permission == name))
    pi = t.permission_includes
    conn.execute(delete(pi).where((pi.c.name == name) | (pi.c.includes == name)))
    conn.execute(delete(t.permissions).where(t.permissions.c.name == name))
    return len(roles)


def list_permissions(conn: Connection) -> list[PermissionInfo]:
    inc = includes_map(conn)
    held: dict[str, list[str]] = {}
    for role, perm in conn.execute(
        select(t.role_permissions.c.role, t.role_permissions.c.permission)
    ):
        held.setdefault(perm, []).append(role)
    rows = conn.execute(
        select(
            t.permissions.c.name, t.permissions.c.permission_type, t.permissions.c.description
        ).order_by(t.permissions.c.permission_type, t.permissions.c.name)
    )
    return [
        PermissionInfo(
            name=n,
            permission_type=pt,
            description=d or "",
            includes=tuple(sorted(inc.get(n, ()))),
            roles=tuple(sorted(held.get(n, ()))),
        )
        for n, pt, d in rows
    ]
