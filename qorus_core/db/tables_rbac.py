"""The system schema, part 3: users, roles, permissions and interface groups.

Imported by :mod:`qorus_core.db.tables`, which is where every table is used from.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    String,
    Table,
)

from qorus_core.db.meta import created as _created
from qorus_core.db.meta import metadata
from qorus_core.db.meta import modified as _modified
from qorus_core.db.types import ID, Text4000, identity

# --------------------------------------------------------------------------- RBAC

permissions = Table(
    "permissions",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("permission_type", String(10), nullable=False),  # SYSTEM USER
    Column("description", String(240)),
    _created(),
    _modified(),
)

permission_includes = Table(
    "permission_includes",
    metadata,
    # an umbrella permission and one permission it includes
    Column("name", ForeignKey("permissions.name"), primary_key=True),
    Column("includes", ForeignKey("permissions.name"), primary_key=True),
)

roles = Table(
    "roles",
    metadata,
    Column("role", String(80), primary_key=True),
    Column("provider", String(40), nullable=False, default="db"),
    Column("description", String(240)),
    _created(),
    _modified(),
)

role_permissions = Table(
    "role_permissions",
    metadata,
    Column("role", ForeignKey("roles.role"), primary_key=True),
    Column("permission", ForeignKey("permissions.name"), primary_key=True),
)

users = Table(
    "users",
    metadata,
    Column("username", String(160), primary_key=True),
    Column("name", String(240)),  # the description shown for the user
    Column("password", String(400)),  # a slow hash, never clear text; NULL for external users
    Column("provider", String(40), nullable=False, default="db"),
    _created(),
    _modified(),
)

user_roles = Table(
    "user_roles",
    metadata,
    Column("username", ForeignKey("users.username"), primary_key=True),
    Column("role", ForeignKey("roles.role"), primary_key=True),
)

groups = Table(
    "groups",
    metadata,
    Column("groupid", ID, identity(), primary_key=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("description", Text4000),
    Column("enabled", Boolean, nullable=False, default=True),
    _created(),
    _modified(),
)

role_groups = Table(
    "role_groups",
    metadata,
    Column("role", ForeignKey("roles.role"), primary_key=True),
    Column("groupid", ForeignKey("groups.groupid"), primary_key=True),
)


def _group_members(kind: str, ref: str) -> Table:
    return Table(
        f"group_{kind}s",
        metadata,
        Column("groupid", ForeignKey("groups.groupid"), primary_key=True),
        Column(f"{kind}id", ForeignKey(ref), primary_key=True),
    )


group_workflows = _group_members("workflow", "workflows.workflowid")
group_services = _group_members("service", "services.serviceid")
group_jobs = _group_members("job", "jobs.jobid")
