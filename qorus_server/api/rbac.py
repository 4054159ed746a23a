"""RBAC over the system API: ``users``, ``users/{name}``, ``users?action=current``, ``roles``,
``roles/{name}``, ``perms`` and ``perms/{name}``, and their RPC methods
(``omq.system.add-user``, ``omq.system.get-all-users``, ``omq.system.add-role``, ...).

The rules are those of ``user-tool``, through the same :mod:`qorus_core.rbac` functions: this
module parses arguments (types and sizes, 400 naming the argument) and answers; names, roles,
permissions, groups, the password policy, duplicates and what is in use are checked by the
model (400 for a bad name or a weak password, 404 for an unknown user, role, permission or
group, 409 for a duplicate or an object in use, 409 for a system permission). Reads need
LOGIN; changes need the narrow permissions of USER-CONTROL (ADD-USER, MODIFY-USER, ...).

Passwords are taken from the request body (never the query string) and never answered, logged
or audited. A user whose password or roles change, or who is deleted, loses its login tokens
and remembered logins at once; a caller cannot delete itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Connection

from qorus_core import rbac
from qorus_core.db.refdata import DEFAULT_GROUP
from qorus_core.model import args as a
from qorus_core.model.errors import QorusError, ValidationError
from qorus_core.rbac import perms as rbac_perms
from qorus_core.rbac import roles as rbac_roles
from qorus_core.rbac import users as rbac_users
from qorus_core.rbac.changes import ListChange
from qorus_server.api.registry import CallContext, operation
from qorus_server.api.wfcommon import readonly
from qorus_server.logins import PASSWORD_MAX, USER_NAME_MAX

#: the longest role, permission and group names (their columns)
NAME_MAX = 80
#: the most names one list argument (roles, permissions, groups, members) may hold
NAMES_MAX = 1000


# ---------------------------------------------------------------------- arguments


def name_arg(value: object, name: str, max_len: int = NAME_MAX) -> str:
    """A required name: a string of at most ``max_len`` characters without NUL."""
    if a.absent(value):
        raise ValidationError(f"missing argument {name!r}")
    if not isinstance(value, str):
        raise ValidationError(f"argument {name!r} must be a string, got {a.shown(value)}")
    return a.arg_text(value, name, max_len=max_len).strip()


def text_arg(value: object, name: str, max_len: int) -> str | None:
    """An optional text (a description): None when absent."""
    return None if value is None else a.arg_text(value, name, max_len=max_len)


def names_arg(
    value: object, name: str, max_len: int = NAME_MAX, *, ids: bool = False
) -> list[str] | None:
    """An optional list of names (with ``ids``, also ids 0 .. 2**63-1): a list, or a
    comma-separated string; None when absent."""
    if value is None:
        return None
    if isinstance(value, str):
        items: list[object] = [v for v in value.split(",") if v.strip()]
    elif isinstance(value, list | tuple):
        items = list(value)
    elif ids and isinstance(value, int) and not isinstance(value, bool):
        items = [value]
    else:
        raise ValidationError(f"argument {name!r} must be a list of names, got {a.shown(value)}")
    if len(items) > NAMES_MAX:
        raise ValidationError(f"argument {name!r} has {len(items)} names; at most {NAMES_MAX}")
    out = []
    for item in items:
        if ids and isinstance(item, int) and not isinstance(item, bool):
            out.append(str(a.arg_id(item, name)))
        elif isinstance(item, str):
            # "+name" and "-name" edits are one character longer than the name itself
            out.append(a.arg_text(item, name, max_len=max_len + 1).strip())
        else:
            raise ValidationError(
                f"argument {name!r}: a name must be a string, got {a.shown(item)}"
            )
    return out


def change_arg(
    value: object, name: str, max_len: int = NAME_MAX, *, ids: bool = False
) -> ListChange | None:
    """An optional change of a list of names: ``a,b`` replaces it, ``+a,-b`` edits it (the
    model's syntax, :meth:`ListChange.parse`)."""
    items = names_arg(value, name, max_len, ids=ids)
    return None if items is None else ListChange.parse(items, name)


def flag_arg(value: object, name: str) -> bool:
    return False if a.absent(value) else a.arg_bool(value, name)


def list_flag(flags: Mapping[str, object], op: str, allowed: tuple[str, ...] = ("list",)) -> bool:
    """``list`` of a listing (named only: the RPC form takes no positional params)."""
    only(flags, op, allowed)
    return flag_arg(flags.get("list"), "list")


def only(rest: Mapping[str, object], op: str, allowed: tuple[str, ...] = ()) -> None:
    """Refuse arguments a handler taking ``**kwargs`` does not know (400 naming them)."""
    unknown = sorted(k for k in rest if k not in allowed)
    if unknown:
        raise ValidationError(
            f"{op}: unknown argument(s) {', '.join(repr(k[:40]) for k in unknown[:5])}"
        )


def _password(value: object, name: str) -> str:
    if a.absent(value):
        raise ValidationError(f"argument {name!r}: the password must not be empty")
    if not isinstance(value, str):
        raise ValidationError(f"argument {name!r} must be a string (the password)")
    return a.arg_text(value, name, max_len=PASSWORD_MAX)


def _password_arg(password: object, rest: dict[str, object], required: bool) -> str | None:
    """The password: ``pass`` (the REST name) or ``password`` (the RPC parameter)."""
    given = rest.pop("pass", None)
    if given is not None and password is not None:
        raise ValidationError("give the password once: as 'pass' or as 'password', not both")
    if given is not None:
        return _password(given, "pass")
    if password is not None:
        return _password(password, "password")
    if required:
        raise ValidationError("missing argument 'pass' (the password of the new user)")
    return None


def _description(name: object, desc: object, max_len: int) -> str | None:
    """A user's description: ``name`` (the REST name) or ``desc``."""
    if name is not None and desc is not None:
        raise ValidationError("give the user's description once: as 'name' or as 'desc'")
    if name is not None:
        return text_arg(name, "name", max_len)
    return text_arg(desc, "desc", max_len)


# ---------------------------------------------------------------------- helpers


@contextmanager
def changing(ctx: CallContext) -> Iterator[Connection]:
    """One transaction for one change and its API-CALL audit row: a refused change leaves the
    database as it was."""
    with ctx.server.engine.begin() as conn:
        ctx.audit_in(conn)
        yield conn


def policy(ctx: CallContext) -> rbac.PasswordPolicy:
    return rbac.PasswordPolicy.from_options(ctx.server.options)


def _user_dict(info: rbac.UserInfo, default_roles: set[str]) -> dict[str, Any]:
    return {
        "username": info.username,
        "name": info.description,
        "provider": info.provider,
        "roles": list(info.roles),
        "has_default": any(r in default_roles for r in info.roles),
        "created": info.created,
        "modified": info.modified,
    }


def _default_roles(conn: Connection) -> set[str]:
    return {r.role for r in rbac.list_roles(conn) if DEFAULT_GROUP in r.groups}


def _group_names(conn: Connection, ids: frozenset[int]) -> list[str]:
    return sorted(g.name for g in rbac.list_groups(conn) if g.groupid in ids)


def _principal_dict(conn: Connection, principal: rbac.Principal) -> dict[str, Any]:
    return {
        "permissions": sorted(principal.permissions),
        "groups": _group_names(conn, principal.group_ids),
        "all_interfaces": principal.all_interfaces,
    }


def _role_dict(info: rbac.RoleInfo) -> dict[str, Any]:
    return {
        "role": info.role,
        "name": info.role,
        "desc": info.description,
        "provider": info.provider,
        "permissions": list(info.permissions),
        "groups": list(info.groups),
        "users": list(info.users),
        "has_default": DEFAULT_GROUP in info.groups,
    }


def _perm_dict(info: rbac.PermissionInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "permission_type": info.permission_type,
        "desc": info.description,
        "includes": list(info.includes),
        "roles": list(info.roles),
    }


def _end_logins(ctx: CallContext, username: str) -> int:
    """The user's tokens and remembered logins end (password or roles changed, deleted)."""
    return int(ctx.server.logins.end_user(username))


# ---------------------------------------------------------------------- users


@operation(
    "users.list",
    rest=[("GET", "users", None), ("GET", "users", "list")],
    rpc="omq.system.get-all-users",
)
def list_users(ctx: CallContext, **flags: object) -> Any:
    """Every user: ``username``, ``name`` (its description), ``provider``, ``roles``,
    ``has_default``; ``list``: only the user names."""
    names_only = list_flag(flags, "users.list")
    with readonly(ctx) as conn:
        users = rbac.list_users(conn)
        if names_only:
            return [u.username for u in users]
        default = _default_roles(conn)
        return [_user_dict(u, default) for u in users]


@operation("users.info", rest=[("GET", "users/{username}", None)])
def user_info(ctx: CallContext, username: object) -> dict[str, Any]:
    """One user with its roles, effective permissions and visible interface groups."""
    user = name_arg(username, "username", USER_NAME_MAX)
    with readonly(ctx) as conn:
        info = rbac.list_users(conn, user)[0]
        out = _user_dict(info, _default_roles(conn))
        out.update(_principal_dict(conn, rbac.load_principal(conn, user)))
    return out


@operation("users.current", rest=[("GET", "users", "current")])
def current_user(ctx: CallContext) -> dict[str, Any]:
    """The caller: its user, roles, effective permissions and interface groups. With
    ``rbac-security`` off every caller is the anonymous user ``-`` holding every permission
    (as is the system itself calling in-process)."""
    user = ctx.user
    on = bool(ctx.server.options.get("rbac-security"))
    with readonly(ctx) as conn:
        if user is None:
            every = sorted(p.name for p in rbac.list_permissions(conn))
            who = "the system (an in-process call)" if on else "anonymous (rbac-security is off)"
            return {
                "username": "-",
                "name": f"{who}: every permission",
                "provider": "none",
                "roles": [],
                "has_default": True,
                "permissions": every,
                "groups": [DEFAULT_GROUP],
                "all_interfaces": True,
                "rbac-security": on,
            }
        out: dict[str, Any] = {
            "username": user.username,
            "name": getattr(user, "description", ""),
            "provider": "db",
            "roles": sorted(getattr(user, "roles", ())),
            "rbac-security": True,
        }
        if isinstance(user, rbac.Principal):
            found = rbac.list_users(conn) if user.username else []
            mine = [u for u in found if u.username == user.username]
            out["provider"] = mine[0].provider if mine else "external"
            out["has_default"] = user.all_interfaces
            out.update(_principal_dict(conn, user))
        else:  # an in-process caller's principal: names and permissions only
            out["permissions"] = sorted(getattr(user, "permissions", ()))
    return out


@operation(
    "users.add",
    rest=[("POST", "users", None)],
    rpc="omq.system.add-user",
    permissions=("ADD-USER",),
    audit=True,
    success_status=201,
)
def add_user(
    ctx: CallContext,
    username: object = None,
    password: object = None,
    name: object = None,
    roles: object = None,
    desc: object = None,
    **rest: object,
) -> dict[str, Any]:
    """Create a user: ``username``, ``pass`` (the password, in the body), ``roles`` (at least
    one), ``name`` (a description); the password must satisfy the password policy."""
    secret = _password_arg(password, rest, required=True)
    only(rest, "users.add")
    user = name_arg(username, "username", USER_NAME_MAX)
    description = _description(name, desc, rbac_users.DESCRIPTION_MAX) or ""
    role_list = names_arg(roles, "roles") or []
    assert secret is not None
    with changing(ctx) as conn:
        rbac.add_user(conn, user, secret, role_list, description, policy=policy(ctx))
        info = rbac.list_users(conn, user)[0]
        out = _user_dict(info, _default_roles(conn))
    ctx.server.log.info("user %r created by %s", user, ctx.username or "-")
    return out


def _update_user(ctx: CallContext, user: str, args: dict[str, object]) -> dict[str, Any]:
    password = args.pop("password", None)
    secret = _password_arg(password, args, required=False)
    name, desc = args.pop("name", None), args.pop("desc", None)
    roles = args.pop("roles", None)
    only(args, "users.update")
    description = _description(name, desc, rbac_users.DESCRIPTION_MAX)
    change = change_arg(roles, "roles")
    if secret is None and description is None and change is None:
        raise ValidationError(
            "users.update: give at least one of 'pass', 'name' (or 'desc') and 'roles'"
        )
    with changing(ctx) as conn:
        before = rbac.list_users(conn, user)[0].roles
        rbac.update_user(
            conn, user, password=secret, description=description, roles=change, policy=policy(ctx)
        )
        info = rbac.list_users(conn, user)[0]
        out = _user_dict(info, _default_roles(conn))
    if secret is not None or info.roles != before:
        out["tokens_ended"] = _end_logins(ctx, user)
    changed = [k for k, v in (("password", secret), ("name", description), ("roles", change)) if v]
    ctx.server.log.info(
        "user %r updated by %s: %s", user, ctx.username or "-", ", ".join(changed) or "nothing"
    )
    return out


@operation(
    "users.update",
    rest=[("PUT", "users/{username}", None), ("PUT", "users/{username}", "update")],
    rpc="omq.system.update-user",
    permissions=("MODIFY-USER",),
    audit=True,
)
def update_user(ctx: CallContext, username: object, **changes: object) -> dict[str, Any]:
    """Change a user: ``pass`` (a new password), ``name`` or ``desc`` (its description),
    ``roles`` (``a,b`` replaces them, ``+a,-b`` edits them); a new password or new roles end
    the user's login tokens."""
    user = name_arg(username, "username", USER_NAME_MAX)
    # the RPC form omq.system.update-user(username, {pass: ..., name: ..., roles: ...})
    return _update_user(ctx, user, dict(changes))


@operation(
    "users.delete",
    rest=[("DELETE", "users/{username}", None)],
    rpc="omq.system.delete-user",
    permissions=("DELETE-USER",),
    audit=True,
)
def delete_user(ctx: CallContext, username: object) -> dict[str, Any]:
    """Delete a user (not the caller itself); its login tokens end."""
    user = name_arg(username, "username", USER_NAME_MAX)
    if ctx.username is not None and user == ctx.username:
        raise QorusError(
            f"user {user!r} cannot delete itself: log in as another user holding DELETE-USER",
            code="DELETE-USER-ERROR",
        )
    with changing(ctx) as conn:
        rbac.delete_user(conn, user)
    ended = _end_logins(ctx, user)
    ctx.server.log.info("user %r deleted by %s", user, ctx.username or "-")
    return {"info": f"user {user!r} deleted", "tokens_ended": ended}


# ---------------------------------------------------------------------- roles


@operation(
    "roles.list",
    rest=[("GET", "roles", None), ("GET", "roles", "list")],
    rpc="omq.system.get-all-roles",
)
def list_roles(ctx: CallContext, **flags: object) -> Any:
    """Every role with its permissions, groups and users; ``list``: only the names."""
    names_only = list_flag(flags, "roles.list")
    with readonly(ctx) as conn:
        roles = rbac.list_roles(conn)
    return [r.role for r in roles] if names_only else [_role_dict(r) for r in roles]


@operation("roles.info", rest=[("GET", "roles/{role}", None)])
def role_info(ctx: CallContext, role: object) -> dict[str, Any]:
    """One role with its permissions, groups and users."""
    name = name_arg(role, "role")
    with readonly(ctx) as conn:
        return _role_dict(rbac.list_roles(conn, name)[0])


@operation(
    "roles.add",
    rest=[("POST", "roles", None)],
    rpc="omq.system.add-role",
    permissions=("ADD-ROLE",),
    audit=True,
    success_status=201,
)
def add_role(
    ctx: CallContext,
    role: object = None,
    desc: object = None,
    permissions: object = None,
    groups: object = None,
) -> dict[str, Any]:
    """Create a role: ``role``, ``desc``, ``permissions`` and ``groups`` (lists of names; a
    role without groups sees no interface, ``DEFAULT`` sees them all)."""
    name = name_arg(role, "role")
    description = text_arg(desc, "desc", rbac_roles.DESCRIPTION_MAX) or ""
    perm_list = names_arg(permissions, "permissions") or []
    group_list = names_arg(groups, "groups") or []
    with changing(ctx) as conn:
        rbac.add_role(conn, name, description, perm_list, group_list)
        out = _role_dict(rbac.list_roles(conn, name)[0])
    ctx.server.log.info("role %r created by %s", name, ctx.username or "-")
    return out


@operation(
    "roles.update",
    rest=[("PUT", "roles/{role}", None), ("PUT", "roles/{role}", "update")],
    rpc="omq.system.update-role",
    permissions=("MODIFY-ROLE",),
    audit=True,
)
def update_role(ctx: CallContext, role: object, **changes: object) -> dict[str, Any]:
    """Change a role: ``desc``, ``permissions``, ``groups`` (``a,b`` replaces, ``+a,-b``
    edits). Its users' next requests have the new permissions and groups."""
    name = name_arg(role, "role")
    args = dict(changes)
    desc, perms = args.pop("desc", None), args.pop("permissions", None)
    groups = args.pop("groups", None)
    only(args, "roles.update")
    description = text_arg(desc, "desc", rbac_roles.DESCRIPTION_MAX)
    perm_change = change_arg(perms, "permissions")
    group_change = change_arg(groups, "groups")
    if description is None and perm_change is None and group_change is None:
        raise ValidationError("roles.update: give at least one of 'desc', 'permissions', 'groups'")
    with changing(ctx) as conn:
        rbac.update_role(
            conn, name, description=description, permissions=perm_change, groups=group_change
        )
        out = _role_dict(rbac.list_roles(conn, name)[0])
    ctx.server.log.info("role %r updated by %s", name, ctx.username or "-")
    return out


@operation(
    "roles.delete",
    rest=[("DELETE", "roles/{role}", None)],
    rpc="omq.system.delete-role",
    permissions=("DELETE-ROLE",),
    audit=True,
)
def delete_role(ctx: CallContext, role: object, cascade: object = None) -> dict[str, Any]:
    """Delete a role; one that users hold needs ``cascade`` (then they lose it and their
    login tokens end)."""
    name = name_arg(role, "role")
    flag = flag_arg(cascade, "cascade")
    with changing(ctx) as conn:
        holders = [r.users for r in rbac.list_roles(conn) if r.role == name]
        count = rbac.delete_role(conn, name, flag)
    for user in holders[0] if holders else ():
        _end_logins(ctx, user)
    ctx.server.log.info("role %r deleted by %s", name, ctx.username or "-")
    return {"info": f"role {name!r} deleted (removed from {count} users)", "users": count}


# ---------------------------------------------------------------------- permissions


@operation(
    "perms.list",
    rest=[("GET", "perms", None), ("GET", "perms", "list")],
    rpc="omq.system.get-all-permissions",
)
def list_perms(ctx: CallContext, **flags: object) -> Any:
    """Every permission (SYSTEM and USER) with the ones it includes and the roles holding
    it; ``list``: only the names."""
    names_only = list_flag(flags, "perms.list")
    with readonly(ctx) as conn:
        found = rbac.list_permissions(conn)
    return [p.name for p in found] if names_only else [_perm_dict(p) for p in found]


@operation("perms.info", rest=[("GET", "perms/{name}", None)])
def perm_info(ctx: CallContext, name: object) -> dict[str, Any]:
    """One permission."""
    perm = name_arg(name, "name")
    with readonly(ctx) as conn:
        found = [p for p in rbac.list_permissions(conn) if p.name == perm]
    if not found:
        raise rbac.RbacError(
            f"permission {perm!r} does not exist", code="PERMISSION-ERROR", status=404
        )
    return _perm_dict(found[0])


@operation(
    "perms.add",
    rest=[("POST", "perms", None)],
    rpc="omq.system.add-permission",
    permissions=("ADD-PERMISSION",),
    audit=True,
    success_status=201,
)
def add_perm(ctx: CallContext, name: object = None, desc: object = None) -> dict[str, Any]:
    """Create a USER permission: ``name``, ``desc``."""
    perm = name_arg(name, "name")
    description = text_arg(desc, "desc", rbac_perms.DESCRIPTION_MAX) or ""
    with changing(ctx) as conn:
        rbac.add_permission(conn, perm, description.strip())
        found = [p for p in rbac.list_permissions(conn) if p.name == perm]
    return _perm_dict(found[0])


@operation(
    "perms.update",
    rest=[("PUT", "perms/{name}", None), ("PUT", "perms/{name}", "update")],
    rpc="omq.system.update-permission",
    permissions=("MODIFY-PERMISSION",),
    audit=True,
)
def update_perm(ctx: CallContext, name: object, desc: object = None) -> dict[str, Any]:
    """Change the description (``desc``) of a USER permission; system ones are refused."""
    perm = name_arg(name, "name")
    if desc is None:
        raise ValidationError("missing argument 'desc' (the new description)")
    description = text_arg(desc, "desc", rbac_perms.DESCRIPTION_MAX) or ""
    with changing(ctx) as conn:
        rbac.update_permission(conn, perm, description.strip())
        found = [p for p in rbac.list_permissions(conn) if p.name == perm]
    return _perm_dict(found[0])


@operation(
    "perms.delete",
    rest=[("DELETE", "perms/{name}", None)],
    rpc="omq.system.delete-permission",
    permissions=("DELETE-PERMISSION",),
    audit=True,
)
def delete_perm(ctx: CallContext, name: object, cascade: object = None) -> dict[str, Any]:
    """Delete a USER permission; one that roles hold needs ``cascade``."""
    perm = name_arg(name, "name")
    with changing(ctx) as conn:
        count = rbac.delete_permission(conn, perm, flag_arg(cascade, "cascade"))
    return {"info": f"permission {perm!r} deleted (removed from {count} roles)", "roles": count}
