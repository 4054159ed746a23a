"""Who a caller is and what it may do: the one entry point the server uses for RBAC."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from qorus_core.db import tables as t
from qorus_core.db.engine import READONLY
from qorus_core.db.refdata import DEFAULT_GROUP_ID
from qorus_core.model.args import shown
from qorus_core.model.errors import AuthenticationError
from qorus_core.rbac import perms
from qorus_core.rbac.groups import KINDS, member_table
from qorus_core.rbac.passwords import burn_time, verify_password

#: the longest user name (its column)
MAX_USERNAME = 160


@dataclass(frozen=True)
class Principal:
    """A user's roles, effective permissions (umbrellas expanded) and the interfaces it sees.

    ``all_interfaces`` is true when a role holds the DEFAULT group; otherwise the user sees the
    members of its roles' enabled groups (``group_ids``; ``workflow_ids`` ...)."""

    username: str
    description: str
    roles: frozenset[str]
    permissions: frozenset[str]
    all_interfaces: bool
    group_ids: frozenset[int]
    workflow_ids: frozenset[int]
    service_ids: frozenset[int]
    job_ids: frozenset[int]

    def has(self, permission: str) -> bool:
        return permission in self.permissions

    def has_any(self, *permissions: str) -> bool:
        return any(p in self.permissions for p in permissions)

    def sees_workflow(self, workflowid: int) -> bool:
        return self.all_interfaces or workflowid in self.workflow_ids

    def sees_service(self, serviceid: int) -> bool:
        return self.all_interfaces or serviceid in self.service_ids

    def sees_job(self, jobid: int) -> bool:
        return self.all_interfaces or jobid in self.job_ids


def _principal(conn: Connection, username: str, description: str) -> Principal:
    ur = t.user_roles
    roles = frozenset(conn.execute(select(ur.c.role).where(ur.c.username == username)).scalars())
    return _principal_of_roles(conn, username, description, roles)


def _principal_of_roles(
    conn: Connection, username: str, description: str, roles: frozenset[str]
) -> Principal:
    rp, rg, g = t.role_permissions, t.role_groups, t.groups
    direct = conn.execute(select(rp.c.permission).where(rp.c.role.in_(roles))).scalars()
    effective = perms.expand(direct, perms.includes_map(conn))
    gids = {
        int(gid)
        for gid, enabled in conn.execute(
            select(g.c.groupid, g.c.enabled)
            .join(rg, rg.c.groupid == g.c.groupid)
            .where(rg.c.role.in_(roles))
        )
        if enabled or int(gid) == DEFAULT_GROUP_ID
    }
    all_ifaces = DEFAULT_GROUP_ID in gids
    members: dict[str, frozenset[int]] = {}
    for kind in KINDS:
        mt = member_table(kind)
        ids: list[int] = []
        if gids and not all_ifaces:
            q = select(mt.c[f"{kind}id"]).where(mt.c.groupid.in_(gids))
            ids = [int(i) for i in conn.execute(q).scalars()]
        members[kind] = frozenset(ids)
    return Principal(
        username=username,
        description=description,
        roles=roles,
        permissions=effective,
        all_interfaces=all_ifaces,
        group_ids=frozenset(gids),
        workflow_ids=members["workflow"],
        service_ids=members["service"],
        job_ids=members["job"],
    )


def load_principal(conn: Connection, username: str) -> Principal:
    """The principal of a user of the users table without checking a password (tokens)."""
    row = None
    if _storable(username):
        row = conn.execute(select(t.users.c.name).where(t.users.c.username == username)).first()
    if row is None:
        raise AuthenticationError(f"unknown user {shown(username)}")
    return _principal(conn, username, row[0] or "")


def external_principal(
    conn: Connection, username: str, description: str, roles: Iterable[str]
) -> tuple[Principal, frozenset[str]]:
    """The principal of a user whom an external authenticator (``rbac-external``) vouches for,
    with the roles it names: the roles defined here give their permissions (umbrellas expanded)
    and groups as for a user of the users table. Answers the principal and the names that are
    no role here (ignored)."""
    wanted = frozenset(roles)
    longest = int(getattr(t.roles.c.role.type, "length", None) or 0)
    candidates = sorted(r for r in wanted if 0 < len(r) <= longest and "\x00" not in r)
    defined: frozenset[str] = frozenset()
    if candidates:
        q = select(t.roles.c.role).where(t.roles.c.role.in_(candidates))
        defined = frozenset(conn.execute(q).scalars())
    return _principal_of_roles(conn, username, description, defined), wanted - defined


def refused_desc(username: str) -> str:
    """What a refused password login says: the same for an unknown user and a wrong password,
    whoever checked it, so that the answer tells nothing about which names exist."""
    return f"user {shown(username)}: wrong user name or password"


def _storable(username: str) -> bool:
    """A name the users table can hold: 160 characters at most, no NUL."""
    return len(username) <= MAX_USERNAME and "\x00" not in username


def authenticate(engine_or_conn: Engine | Connection, username: str, password: str) -> Principal:
    """Check a user's password against its argon2 hash and return its principal; a bad user
    name or password raises AUTHENTICATION-ERROR (the same message for both)."""
    if isinstance(engine_or_conn, Engine):
        with engine_or_conn.connect() as conn:
            return authenticate(conn.execution_options(**{READONLY: True}), username, password)
    conn = engine_or_conn
    row = None
    if _storable(username):  # a name no user can have is never looked up
        row = conn.execute(
            select(t.users.c.name, t.users.c.password).where(t.users.c.username == username)
        ).first()
    if row is None:
        burn_time(password)
        raise AuthenticationError(refused_desc(username))
    if not verify_password(row[1], password):
        raise AuthenticationError(refused_desc(username))
    return _principal(conn, username, row[0] or "")


def credential_fingerprint(conn: Connection, username: str) -> str | None:
    """A digest of what a login of ``username`` is checked against (its password hash and
    provider), or None when the user does not exist.

    Remembered with a verified login or a token, it tells whether the password was changed or
    the user deleted and created again since then, without keeping the hash itself around.
    """
    row = conn.execute(
        select(t.users.c.password, t.users.c.provider).where(t.users.c.username == username)
    ).first()
    if row is None:
        return None
    return hashlib.sha256(f"{row[1] or ''}\0{row[0] or ''}".encode()).hexdigest()
