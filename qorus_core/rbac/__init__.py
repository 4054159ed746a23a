"""Role-based access control: users, roles, permissions and interface groups in the system
schema, and the principal (effective permissions, visible interfaces) the server enforces.

Every function takes a ``Connection`` inside the caller's transaction: one command, one
transaction, so a refused change leaves the database as it was.
"""

from __future__ import annotations

from qorus_core.rbac.changes import ListChange
from qorus_core.rbac.errors import RbacError
from qorus_core.rbac.groups import (
    GroupInfo,
    Member,
    add_group,
    delete_group,
    list_groups,
    resolve_member,
    set_group_enabled,
    update_group,
)
from qorus_core.rbac.passwords import PasswordPolicy, hash_password, verify_password
from qorus_core.rbac.perms import (
    PermissionInfo,
    add_permission,
    delete_permission,
    expand,
    includes_map,
    list_permissions,
    update_permission,
)
from qorus_core.rbac.principal import (
    Principal,
    authenticate,
    credential_fingerprint,
    external_principal,
    load_principal,
    refused_desc,
)
from qorus_core.rbac.roles import RoleInfo, add_role, delete_role, list_roles, update_role
from qorus_core.rbac.users import UserInfo, add_user, delete_user, list_users, update_user

__all__ = [
    "GroupInfo",
    "ListChange",
    "Member",
    "PasswordPolicy",
    "PermissionInfo",
    "Principal",
    "RbacError",
    "RoleInfo",
    "UserInfo",
    "add_group",
    "add_permission",
    "add_role",
    "add_user",
    "authenticate",
    "credential_fingerprint",
    "delete_group",
    "delete_permission",
    "delete_role",
    "delete_user",
    "expand",
    "external_principal",
    "hash_password",
    "includes_map",
    "list_groups",
    "list_permissions",
    "list_roles",
    "list_users",
    "load_principal",
    "refused_desc",
    "resolve_member",
    "set_group_enabled",
    "update_group",
    "update_permission",
    "update_role",
    "update_user",
    "verify_password",
]
