"""Users: a login name, a description, an argon2 password hash and roles."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.db.refdata import now
from qorus_core.rbac import roles as rl
from qorus_core.rbac._util import check_name, check_text, exists
from qorus_core.rbac.changes import ListChange
from qorus_core.rbac.errors import BAD_ARGUMENT, UNKNOWN, RbacError
from qorus_core.rbac.passwords import PasswordPolicy, hash_password

#: the longest description of a user (its column)
DESCRIPTION_MAX = 240


@dataclass(frozen=True)
class UserInfo:
    username: str
    description: str
    provider: str
    roles: tuple[str, ...]
    created: datetime | None
    modified: datetime | None


def _set_roles(conn: Connection, username: str, names: list[str]) -> None:
    ur = t.user_roles
    conn.execute(delete(ur).where(ur.c.username == username))
    if names:
        conn.execute(insert(ur), [{"username": username, "role": r} for r in names])


def add_user(
    conn: Connection,
    username: str,
    password: str,
    roles: Iterable[str],
    description: str = "",
    *,
    policy: PasswordPolicy,
) -> None:
    """A new local user; the password must satisfy ``policy`` and is stored as a hash only."""
    code = "ADD-USER-ERROR"
    username = check_name("user", username, 160, code)
    if exists(conn, t.users.c.username, username):
        raise RbacError(f"user {username!r} already exists", code=code)
    rlist = list(dict.fromkeys(r.strip() for r in roles if r.strip()))
    if not rlist:
        raise RbacError(
            f"user {username!r} needs at least one role", code=code, status=BAD_ARGUMENT
        )
    check_text("the user's description", description, DESCRIPTION_MAX, code)
    rl.check_known(conn, rlist, code)
    policy.check(password, username)
    conn.execute(
        insert(t.users).values(
            username=username,
            name=description,
            password=hash_password(password),
            provider="db",
            created=now(),
        )
    )
    _set_roles(conn, username, rlist)


def update_user(
    conn: Connection,
    username: str,
    *,
    password: str | None = None,
    description: str | None = None,
    roles: ListChange | None = None,
    policy: PasswordPolicy,
) -> None:
    """Change a user's password, description or roles (replaced, or ``+``/``-`` edited)."""
    code = "UPDATE-USER-ERROR"
    if not exists(conn, t.users.c.username, username):
        raise RbacError(f"user {username!r} does not exist", code=code, status=UNKNOWN)
    values: dict[str, object] = {"modified": now()}
    if description is not None:
        values["name"] = check_text("the user's description", description, DESCRIPTION_MAX, code)
    if roles is not None:
        rl.check_known(conn, roles.names(), code)
        ur = t.user_roles
        current = conn.execute(select(ur.c.role).where(ur.c.username == username)).scalars()
        new = roles.apply(current)
        if not new:
            raise RbacError(
                f"user {username!r} would have no role left", code=code, status=BAD_ARGUMENT
            )
        _set_roles(conn, username, new)
    if password is not None:
        policy.check(password, username)
        values["password"] = hash_password(password)
    conn.execute(update(t.users).where(t.users.c.username == username).values(**values))


def delete_user(conn: Connection, username: str) -> None:
    if not exists(conn, t.users.c.username, username):
        raise RbacError(
            f"user {username!r} does not exist", code="DELETE-USER-ERROR", status=UNKNOWN
        )
    conn.execute(delete(t.user_roles).where(t.user_roles.c.username == username))
    conn.execute(delete(t.users).where(t.users.c.username == username))


def list_users(
    conn: Connection, username: str | None = None, role: str | None = None
) -> list[UserInfo]:
    """Every user (or the one named, or those holding ``role``), with their roles."""
    u = t.users
    q = select(u.c.username, u.c.name, u.c.provider, u.c.created, u.c.modified).order_by(
        u.c.username
    )
    if username is not None:
        q = q.where(u.c.username == username)
    rows = list(conn.execute(q))
    if username is not None and not rows:
        raise RbacError(f"user {username!r} does not exist", code="USER-ERROR", status=UNKNOWN)
    held: dict[str, list[str]] = {}
    for name, r in conn.execute(select(t.user_roles.c.username, t.user_roles.c.role)):
        held.setdefault(name, []).append(r)
    out = [
        UserInfo(
            username=name,
            description=desc or "",
            provider=pv,
            roles=tuple(sorted(held.get(name, ()))),
            created=cr,
            modified=md,
        )
        for name, desc, pv, cr, md in rows
    ]
    if role is not None:
        rl.check_known(conn, [role], "ROLE-ERROR")
        out = [x for x in out if role in x.roles]
    return out
