"""The server's small, self-contained RBAC queries: the start-up check and HTTP Basic logins.

They read the ``users`` / ``user_roles`` / ``role_permissions`` / ``permission_includes`` tables
directly so that the server needs nothing else; the RBAC module may replace
:func:`user_with_permissions` and :func:`login` without touching their callers.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.model.errors import AuthenticationError
from qorus_server.api.registry import Principal


def _includes(conn: Connection) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for name, inc in conn.execute(
        select(t.permission_includes.c.name, t.permission_includes.c.includes)
    ):
        out.setdefault(str(name), set()).add(str(inc))
    return out


def expand(perms: Iterable[str], includes: dict[str, set[str]]) -> frozenset[str]:
    """The permissions held, umbrella permissions expanded to everything they include."""
    seen: set[str] = set()
    todo = list(perms)
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo.extend(includes.get(p, ()))
    return frozenset(seen)


def _user_permissions(conn: Connection, username: str | None = None) -> dict[str, set[str]]:
    q = select(t.user_roles.c.username, t.role_permissions.c.permission).join(
        t.role_permissions, t.role_permissions.c.role == t.user_roles.c.role
    )
    if username is not None:
        q = q.where(t.user_roles.c.username == username)
    out: dict[str, set[str]] = {}
    for user, perm in conn.execute(q):
        out.setdefault(str(user), set()).add(str(perm))
    return out


def user_with_permissions(
    conn: Connection, needed: Iterable[str] = ("LOGIN", "SHUTDOWN")
) -> str | None:
    """A user holding every permission in ``needed`` (start-up step 4), or None."""
    includes = _includes(conn)
    want = set(needed)
    for user, perms in sorted(_user_permissions(conn).items()):
        if want <= expand(perms, includes):
            return user
    return None


def principal(conn: Connection, username: str) -> Principal:
    includes = _includes(conn)
    perms = _user_permissions(conn, username).get(username, set())
    return Principal(username, expand(perms, includes))


def verify_password(stored: str | None, password: str) -> bool:
    """Check a password against the stored argon2 hash; users without a hash cannot log in."""
    if not stored:
        return False
    if stored.startswith("$argon2"):
        from argon2 import PasswordHasher
        from argon2.exceptions import Argon2Error, InvalidHashError

        try:
            return bool(PasswordHasher().verify(stored, password))
        except (Argon2Error, InvalidHashError):
            return False
    return False


def login(conn: Connection, username: str, password: str) -> Principal:
    row = conn.execute(select(t.users.c.password).where(t.users.c.username == username)).first()
    if row is None or not verify_password(row[0], password):
        raise AuthenticationError(f"authentication failed for user {username!r}")
    return principal(conn, username)
