"""Interface groups over the system API: ``groups``, ``groups/{name}`` and the
``omq.system.group.*`` RPC methods.

A group holds workflows, user services and jobs (named ``NAME`` for the latest version,
``NAME:VERSION`` or by id) and is enabled or disabled; the rules are ``user-tool``'s, through
:mod:`qorus_core.rbac`. The DEFAULT group (id 0) stands for every interface: it cannot be
changed, disabled or deleted (403). Reads need LOGIN; ADD-GROUP, MODIFY-GROUP, DELETE-GROUP
and MODIFY-GROUP-STATUS (GROUP-CONTROL) the changes.

Groups act: an interface that a disabled group holds does not run (see
:mod:`qorus_server.groups`). After each change committed, the interfaces it stops lose their
execution instances, are unloaded or leave the schedule, and those it releases start again
as their ``autostart`` says. Enabling or disabling a group posts GROUP_STATUS_CHANGED and
writes a GROUP-STATUS-CHANGED audit row (audit code ``groups``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection

from qorus_core import rbac
from qorus_core.db.group_status import statuses
from qorus_core.db.refdata import DEFAULT_GROUP, DEFAULT_GROUP_ID
from qorus_core.db.unit import after_commit
from qorus_core.model import args as a
from qorus_core.model.errors import AuthorizationError, QorusError, ValidationError
from qorus_core.rbac import groups as rbac_groups
from qorus_server.api.rbac import (
    NAME_MAX,
    change_arg,
    flag_arg,
    list_flag,
    name_arg,
    names_arg,
    only,
    text_arg,
)
from qorus_server.api.registry import CallContext, operation
from qorus_server.api.wfcommon import readonly
from qorus_server.events import group_status_changed
from qorus_server.groups import enforcer

#: the longest member reference: ``NAME:VERSION`` (160 + 1 + 80 characters)
MEMBER_MAX = 241
#: the keys of a group change (``groups.update``)
UPDATE_KEYS = ("desc", "workflows", "services", "jobs", "enabled")


def _member_dict(kind: str, m: rbac.Member) -> dict[str, Any]:
    return {f"{kind}id": m.id, "name": m.name, "version": m.version}


def group_dict(info: rbac.GroupInfo) -> dict[str, Any]:
    """A group as the API answers it."""
    members = len(info.workflows) + len(info.services) + len(info.jobs)
    return {
        "name": info.name,
        "description": info.description,
        "desc": info.description,
        "id": info.groupid,
        "groupid": info.groupid,
        "enabled": info.enabled,
        "size": members,
        "is_default": info.groupid == DEFAULT_GROUP_ID,
        "synthetic": False,
        "workflows": [_member_dict("workflow", m) for m in info.workflows],
        "services": [_member_dict("service", m) for m in info.services],
        "jobs": [_member_dict("job", m) for m in info.jobs],
        "roles": list(info.roles),
        "created": info.created,
        "modified": info.modified,
    }


def _one(conn: Connection, name: str) -> dict[str, Any]:
    return group_dict(rbac.list_groups(conn, name)[0])


def _name(value: object, arg: str = "name") -> str:
    return name_arg(value, arg, NAME_MAX)


def _enabled(value: object, name: str = "enabled") -> bool:
    if a.absent(value):
        raise ValidationError(f"missing argument {name!r} (true or false)")
    return a.arg_bool(value, name)


def _need(ctx: CallContext, permission: str, what: str) -> None:
    user = ctx.user
    if user is not None and not user.has(permission):
        raise AuthorizationError(
            f"user {user.username!r} lacks permission {permission} needed to {what}"
        )


def _not_default(name: str, verb: str) -> None:
    """The DEFAULT group is refused before anything is read (403, as the model does)."""
    if name == DEFAULT_GROUP:
        raise rbac.RbacError(
            f"group {DEFAULT_GROUP!r} (every interface) cannot be {verb}",
            code="GROUP-ERROR",
            status=403,
        )


def _changed(
    ctx: CallContext, reason: str, change: Callable[[Connection], Any], *, one: bool = True
) -> tuple[Any, dict[str, Any]]:
    """Run ``change`` in one transaction with its API-CALL row and, for each group whose
    status it changed, the GROUP-STATUS-CHANGED row; GROUP_STATUS_CHANGED once it commits.
    Then make what runs here follow the groups. ``change``'s result and what was stopped
    and started. ``one``: the whole call is this change (a call changing several groups,
    each on its own, is audited once after them all)."""
    enf = enforcer(ctx.server)  # remembers the groups before the change
    server = ctx.server
    with after_commit(server.engine, server.events) as (conn, later):
        if one:
            ctx.audit_in(conn)
        before = statuses(conn)
        result = change(conn)
        announced = set()
        for name, (gid, enabled) in sorted(statuses(conn).items()):
            was = before.get(name)
            if (was is None and not enabled) or (was is not None and was[1] != enabled):
                group_status_changed(
                    conn, later, name=name, groupid=gid, enabled=enabled, info={"reason": reason}
                )
                announced.add(name)
    acted = enf.apply(reason, ctx.username, announced=frozenset(announced))
    return result, acted


def _set_status(ctx: CallContext, name: str, flag: bool, one: bool = True) -> dict[str, Any]:
    _not_default(name, "enabled or disabled")
    verb = "enabled" if flag else "disabled"
    reason = f"interface group {name!r} {verb} by {ctx.username or 'the system'}"

    def change(conn: Connection) -> tuple[bool, rbac.GroupInfo]:
        before = rbac.list_groups(conn, name)[0]
        rbac.set_group_enabled(conn, name, flag)
        return before.enabled, rbac.list_groups(conn, name)[0]

    (was, _info), acted = _changed(ctx, reason, change, one=one)
    return {
        "info": f"group {name!r} {verb}" if was != flag else f"group {name!r} was already {verb}",
        "name": name,
        "enabled": flag,
        "changed": was != flag,
        "acted": acted,
    }


# ---------------------------------------------------------------------- queries


@operation("groups.list", rest=[("GET", "groups", None), ("GET", "groups", "list")])
def list_groups(ctx: CallContext, **flags: object) -> Any:
    """Every interface group with its members and the roles holding it; ``list``: only the
    names (``no_synthetic`` is taken for compatibility: there are no synthetic groups)."""
    names_only = list_flag(flags, "groups.list", ("list", "no_synthetic"))
    flag_arg(flags.get("no_synthetic"), "no_synthetic")
    with readonly(ctx) as conn:
        found = rbac.list_groups(conn)
    return [g.name for g in found] if names_only else [group_dict(g) for g in found]


@operation("groups.info", rest=[("GET", "groups/{name}", None)], rpc="omq.system.group.info")
def group_info(ctx: CallContext, name: object = None) -> Any:
    """One group; without ``name`` (RPC) every group by name."""
    with readonly(ctx) as conn:
        if a.absent(name):
            return {g.name: group_dict(g) for g in rbac.list_groups(conn)}
        return _one(conn, _name(name))


# ---------------------------------------------------------------------- changes


@operation(
    "groups.add",
    rest=[("POST", "groups", None)],
    rpc="omq.system.group.create",
    permissions=("ADD-GROUP",),
    audit=True,
    success_status=201,
)
def add_group(
    ctx: CallContext,
    group: object = None,
    desc: object = None,
    services: object = None,
    workflows: object = None,
    enabled: object = None,
    jobs: object = None,
) -> dict[str, Any]:
    """Create a group: ``group`` (its name), ``desc`` (required), ``workflows``,
    ``services``, ``jobs`` (lists of names, ``NAME:VERSION`` or ids), ``enabled`` (true by
    default; a group created disabled stops its members at once)."""
    name = _name(group, "group")
    if a.absent(desc):
        raise ValidationError("missing argument 'desc' (the description of the group)")
    description = text_arg(desc, "desc", rbac_groups.DESCRIPTION_MAX) or ""
    flag = True if a.absent(enabled) else a.arg_bool(enabled, "enabled")
    members = {
        "workflows": names_arg(workflows, "workflows", MEMBER_MAX, ids=True) or [],
        "services": names_arg(services, "services", MEMBER_MAX, ids=True) or [],
        "jobs": names_arg(jobs, "jobs", MEMBER_MAX, ids=True) or [],
    }
    reason = f"interface group {name!r} created by {ctx.username or 'the system'}"

    def change(conn: Connection) -> rbac.GroupInfo:
        rbac.add_group(conn, name, description, enabled=flag, **members)
        return rbac.list_groups(conn, name)[0]

    info, acted = _changed(ctx, reason, change)
    return {**group_dict(info), "acted": acted}


@operation(
    "groups.update",
    rest=[("PUT", "groups/{name}", None), ("PUT", "groups/{name}", "update")],
    rpc="omq.system.group.update",
    permissions=("MODIFY-GROUP",),
    audit=True,
)
def update_group(ctx: CallContext, name: object, **changes: object) -> dict[str, Any]:
    """Change a group: ``desc``, ``workflows``, ``services``, ``jobs`` (``a,b`` replaces the
    members, ``+a,-b`` edits them), ``enabled`` (which also needs MODIFY-GROUP-STATUS).
    Members added to a disabled group stop at once; members it releases start again."""
    group = _name(name)
    args = dict(changes)
    values = {k: args.pop(k, None) for k in UPDATE_KEYS}
    only(args, "groups.update", UPDATE_KEYS)
    if all(v is None for v in values.values()):
        raise ValidationError(f"groups.update: give at least one of {', '.join(UPDATE_KEYS)}")
    description = text_arg(values["desc"], "desc", rbac_groups.DESCRIPTION_MAX)
    flag = None if values["enabled"] is None else _enabled(values["enabled"])
    kinds = ("workflows", "services", "jobs")
    edits = {kind: change_arg(values[kind], kind, MEMBER_MAX, ids=True) for kind in kinds}
    _not_default(group, "changed")
    if flag is not None:
        _need(ctx, "MODIFY-GROUP-STATUS", "enable or disable a group")
    reason = f"interface group {group!r} updated by {ctx.username or 'the system'}"

    def change(conn: Connection) -> rbac.GroupInfo:
        rbac.update_group(conn, group, description=description, enabled=flag, **edits)
        return rbac.list_groups(conn, group)[0]

    info, acted = _changed(ctx, reason, change)
    return {**group_dict(info), "acted": acted}


@operation(
    "groups.delete",
    rest=[("DELETE", "groups/{name}", None)],
    rpc="omq.system.group.delete",
    permissions=("DELETE-GROUP",),
    audit=True,
)
def delete_group(ctx: CallContext, name: object, cascade: object = None) -> dict[str, Any]:
    """Delete a group; one that roles hold needs ``cascade`` (then they lose it). Deleting a
    disabled group releases its members."""
    return _delete(ctx, _name(name), flag_arg(cascade, "cascade"))


def _delete(ctx: CallContext, group: str, flag: bool, one: bool = True) -> dict[str, Any]:
    _not_default(group, "deleted")
    reason = f"interface group {group!r} deleted by {ctx.username or 'the system'}"

    def change(conn: Connection) -> int:
        return rbac.delete_group(conn, group, flag)

    count, acted = _changed(ctx, reason, change, one=one)
    return {"info": f"group {group!r} deleted (removed from {count} roles)", "acted": acted}


@operation(
    "groups.delete-many",
    rest=[("DELETE", "groups", None)],
    permissions=("DELETE-GROUP",),
    audit=True,
)
def delete_many(ctx: CallContext, groups: object = None, cascade: object = None) -> list[str]:
    """Delete each group of ``groups`` (a list or a comma-separated string); one line per
    group saying what was done."""
    names = names_arg(groups, "groups")
    if not names:
        raise ValidationError("missing argument 'groups' (the groups to delete)")
    flag = flag_arg(cascade, "cascade")
    out = []
    for group in names:
        try:
            _delete(ctx, group, flag, one=False)
            out.append(f"deleted group {group!r}")
        except QorusError as exc:
            out.append(f"error deleting group {group!r}: {exc.code}: {exc.desc}")
    return out


@operation(
    "groups.enable",
    rest=[("PUT", "groups/{name}", "enable")],
    permissions=("MODIFY-GROUP-STATUS",),
    audit=True,
)
def enable(ctx: CallContext, name: object) -> dict[str, Any]:
    """Enable a group: its members that no other disabled group holds start again as their
    ``autostart`` says (workflows, services) and active jobs are scheduled."""
    return _set_status(ctx, _name(name), True)


@operation(
    "groups.disable",
    rest=[("PUT", "groups/{name}", "disable")],
    permissions=("MODIFY-GROUP-STATUS",),
    audit=True,
)
def disable(ctx: CallContext, name: object) -> dict[str, Any]:
    """Disable a group: the execution instances of its workflows stop, its services unload
    and its jobs leave the schedule; none of them runs until every group holding it is
    enabled."""
    return _set_status(ctx, _name(name), False)


@operation(
    "groups.set-status",
    rest=[("PUT", "groups/{name}", "setStatus")],
    rpc="omq.system.group.set-status",
    permissions=("MODIFY-GROUP-STATUS",),
    audit=True,
)
def set_status(ctx: CallContext, name: object, enabled: object = None) -> dict[str, Any]:
    """Enable or disable a group (``enabled``: true or false)."""
    return _set_status(ctx, _name(name), _enabled(enabled))


@operation(
    "groups.set-status-many",
    rest=[("PUT", "groups", "setStatus")],
    permissions=("MODIFY-GROUP-STATUS",),
    audit=True,
)
def set_status_many(ctx: CallContext, groups: object = None, enabled: object = None) -> list[str]:
    """Enable or disable each group of ``groups``; one line per group."""
    names = names_arg(groups, "groups")
    if not names:
        raise ValidationError("missing argument 'groups' (the groups to change)")
    flag = _enabled(enabled)
    out = []
    for group in names:
        try:
            _set_status(ctx, group, flag, one=False)
            out.append(f"updated group {group!r}; enabled: {str(flag).lower()}")
        except QorusError as exc:
            out.append(f"error updating group {group!r}: {exc.code}: {exc.desc}")
    return out
