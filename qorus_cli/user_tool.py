"""``user-tool``: offline RBAC (users, roles, permissions, interface groups) on the system schema.

Every change of one command runs in one transaction; lists are printed after the changes.
Exit codes: 0 done, 1 bad input or a refused change, 2 any other error.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import click
from rich.markup import escape
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from qorus_cli import user_tool_show as show
from qorus_cli.common import (
    console,
    datasource_option,
    fail,
    load_env,
    qorus_dir_option,
    usage_exit_command,
)
from qorus_cli.user_tool_sync import prepare as prepare_sync
from qorus_cli.user_tool_sync import synchronize
from qorus_core import rbac
from qorus_core.db import audit, dberror, schema
from qorus_core.db.engine import mask
from qorus_core.model.errors import QorusError
from qorus_core.omqdir import OmqDir
from qorus_core.options import Options
from qorus_core.rbac import syntax
from qorus_core.rbac.changes import ListChange
from qorus_core.secrets import mask_text
from qorus_core.system import open_system_engine

TOOL = "user-tool"

Action = Callable[[Connection], str]


_Command = usage_exit_command(1)


def _opt(*decls: str, help: str, multiple: bool = True, **kw: Any) -> Callable[[Any], Any]:
    if "count" not in kw and "is_flag" not in kw:
        kw["multiple"] = multiple
    return click.option(*decls, show_envvar=True, help=help, **kw)


@dataclass
class Plan:
    """The changes of one command, parsed (and passwords asked for) before the transaction."""

    actions: list[Action] = field(default_factory=list)

    def add(self, fn: Action) -> None:
        self.actions.append(fn)


def _ask_password(username: str) -> str:
    return str(
        click.prompt(
            f"password for user {username!r}",
            hide_input=True,
            confirmation_prompt=True,
            err=True,
        )
    )


def _pairs(args: Sequence[str], what: str, form: str) -> list[tuple[str, list[str]]]:
    out = []
    for arg in args:
        name, rest = syntax.split_target(arg, what, form)
        out.append((name, syntax.split_list(rest)))
    return out


# ------------------------------------------------------------------------------ planning


def _plan_users(
    plan: Plan,
    policy: rbac.PasswordPolicy,
    add: Sequence[str],
    upd: Sequence[str],
    add_role: Sequence[str],
    del_role: Sequence[str],
) -> None:
    for arg in add:
        nu = syntax.parse_add_user(arg)
        pw = nu.password if nu.password is not None else _ask_password(nu.username)

        def do_add(c: Connection, nu: syntax.NewUser = nu, pw: str = pw) -> str:
            rbac.add_user(c, nu.username, pw, nu.roles, nu.description, policy=policy)
            return f"+ USER {nu.username!r} created with roles {', '.join(nu.roles)}"

        plan.add(do_add)
    for arg in upd:
        user, rest = syntax.split_target(arg, "--update-user", "user:key=value")
        kv = syntax.split_key_values(
            rest, ("pass", "name", "desc", "roles"), "--update-user", any_key=False
        )
        if "name" in kv and "desc" in kv:
            raise rbac.RbacError("--update-user: give name or desc, not both", code="ARG-ERROR")
        new_pw = kv.get("pass")
        if new_pw == "":
            new_pw = _ask_password(user)
        desc = kv.get("name", kv.get("desc"))
        roles = ListChange.parse(syntax.split_list(kv["roles"]), "roles") if "roles" in kv else None

        def do_upd(
            c: Connection,
            user: str = user,
            pw: str | None = new_pw,
            desc: str | None = desc,
            roles: ListChange | None = roles,
        ) -> str:
            rbac.update_user(c, user, password=pw, description=desc, roles=roles, policy=policy)
            changed = [k for k, v in (("password", pw), ("name", desc), ("roles", roles)) if v]
            return f"+ USER {user!r} updated: {', '.join(changed) or 'nothing'}"

        plan.add(do_upd)
    for (user, names), sign in [
        (p, "+") for p in _pairs(add_role, "--add-user-role", "user:role,...")
    ] + [(p, "-") for p in _pairs(del_role, "--del-user-role", "user:role,...")]:
        change = ListChange.adding(names) if sign == "+" else ListChange.removing(names)

        def do_roles(
            c: Connection, user: str = user, ch: ListChange = change, s: str = sign
        ) -> str:
            rbac.update_user(c, user, roles=ch, policy=policy)
            return f"{s} USER {user!r}: roles {', '.join(ch.names())}"

        plan.add(do_roles)


def _plan_perms(plan: Plan, add: Sequence[str], upd: Sequence[str]) -> None:
    for arg, fn, verb in [(a, rbac.add_permission, "created") for a in add] + [
        (a, rbac.update_permission, "updated") for a in upd
    ]:
        name, desc = syntax.split_target(arg, "--add-perm/--update-perm", 'name:"description"')

        def do(
            c: Connection, name: str = name, desc: str = desc, fn: Any = fn, v: str = verb
        ) -> str:
            fn(c, name, desc.strip())
            return f"+ PERMISSION {name!r} {v}"

        plan.add(do)


def _plan_roles(
    plan: Plan,
    add: Sequence[str],
    upd: Sequence[str],
    perm_edits: list[tuple[str, str, list[str]]],
) -> None:
    for arg in add:
        role, desc, perms, groups = syntax.parse_add_role(arg)

        def do_add(
            c: Connection, r: str = role, d: str = desc, p: list[str] = perms, g: list[str] = groups
        ) -> str:
            rbac.add_role(c, r, d, p, g)
            return f"+ ROLE {r!r} created with {len(p)} permissions, groups: {', '.join(g) or '-'}"

        plan.add(do_add)
    for arg in upd:
        role, rest = syntax.split_target(arg, "--update-role", "role:key=value")
        kv = syntax.split_key_values(rest, ("desc", "perms", "groups"), "--update-role")
        pch = ListChange.parse(syntax.split_list(kv["perms"]), "perms") if "perms" in kv else None
        gch = (
            ListChange.parse(syntax.split_list(kv["groups"]), "groups") if "groups" in kv else None
        )

        def do_upd(
            c: Connection,
            r: str = role,
            d: str | None = kv.get("desc"),
            p: ListChange | None = pch,
            g: ListChange | None = gch,
        ) -> str:
            rbac.update_role(c, r, description=d, permissions=p, groups=g)
            return f"+ ROLE {r!r} updated"

        plan.add(do_upd)
    for role, key, names in perm_edits:
        sign = key[0]
        change = ListChange.adding(names) if sign == "+" else ListChange.removing(names)
        kw = {"permissions": change} if key[1:] == "perms" else {"groups": change}

        def do_edit(c: Connection, r: str = role, kw: dict[str, Any] = kw, k: str = key) -> str:
            rbac.update_role(c, r, **kw)
            return f"{k[0]} ROLE {r!r}: {k[1:]} {', '.join(next(iter(kw.values())).names())}"

        plan.add(do_edit)


def _group_members(kv: dict[str, str], relative: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("workflows", "services", "jobs"):
        if key in kv:
            items = syntax.split_list(kv[key])
            out[key] = ListChange.parse(items, key) if relative else items
    return out


GROUP_KEYS = ("desc", "workflows", "services", "jobs", "enabled")


def _plan_groups(
    plan: Plan,
    add: Sequence[str],
    upd: Sequence[str],
    member_edits: list[tuple[str, str, str, list[str]]],
    enable: Sequence[str],
    disable: Sequence[str],
) -> None:
    for arg in add:
        name, rest = syntax.split_target(arg, "--add-group", "name:desc=...[,workflows=...]")
        kv = syntax.split_key_values(rest, GROUP_KEYS, f"--add-group {name!r}")
        if "desc" not in kv:
            raise rbac.RbacError(
                f"--add-group {name!r}: the desc key is required", code="ADD-GROUP-ERROR"
            )
        enabled = syntax.parse_bool(kv["enabled"], "enabled") if "enabled" in kv else True
        members = _group_members(kv, relative=False)

        def do_add(
            c: Connection, n: str = name, d: str = kv["desc"], e: bool = enabled, m: Any = members
        ) -> str:
            gid = rbac.add_group(c, n, d, enabled=e, **m)
            counts = ", ".join(
                f"{len(m.get(k, []))} {k}" for k in ("workflows", "services", "jobs")
            )
            return f"+ GROUP {n!r} ({gid}) created, enabled={e}: {counts}"

        plan.add(do_add)
    for arg in upd:
        name, rest = syntax.split_target(arg, "--update-group", "name:key=value[,...]")
        kv = syntax.split_key_values(rest, GROUP_KEYS, f"--update-group {name!r}")
        en = syntax.parse_bool(kv["enabled"], "enabled") if "enabled" in kv else None
        members = _group_members(kv, relative=True)

        def do_upd(
            c: Connection,
            n: str = name,
            d: str | None = kv.get("desc"),
            e: bool | None = en,
            m: Any = members,
        ) -> str:
            rbac.update_group(c, n, description=d, enabled=e, **m)
            return f"+ GROUP {n!r} updated"

        plan.add(do_upd)
    for group, sign, kind, names in member_edits:
        change = ListChange.adding(names) if sign == "+" else ListChange.removing(names)

        def do_edit(
            c: Connection, g: str = group, s: str = sign, k: str = kind, ch: ListChange = change
        ) -> str:
            kwargs: dict[str, Any] = {k: ch}
            rbac.update_group(c, g, **kwargs)
            return f"{s} GROUP {g!r}: {k} {', '.join(ch.names())}"

        plan.add(do_edit)
    for group_names, flag in ((enable, True), (disable, False)):
        for name in group_names:

            def do_status(c: Connection, n: str = name, f: bool = flag) -> str:
                rbac.set_group_enabled(c, n, f)
                audit.group_status_changed(c, n, f)  # with the change (audit code groups)
                return f"+ GROUP {n!r} {'enabled' if f else 'disabled'}"

            plan.add(do_status)


def _plan_deletes(plan: Plan, args: Sequence[str], cascade: bool) -> None:
    for arg in args:
        kind, name = syntax.parse_delete(arg)

        def do(c: Connection, k: str = kind, n: str = name) -> str:
            if k == "user":
                rbac.delete_user(c, n)
                return f"- USER {n!r} deleted"
            if k == "role":
                cnt = rbac.delete_role(c, n, cascade)
                return f"- ROLE {n!r} deleted (removed from {cnt} users)"
            if k == "perm":
                cnt = rbac.delete_permission(c, n, cascade)
                return f"- PERMISSION {n!r} deleted (removed from {cnt} roles)"
            cnt = rbac.delete_group(c, n, cascade)
            return f"- GROUP {n!r} deleted (removed from {cnt} roles)"

        plan.add(do)


# ------------------------------------------------------------------------------ command


@click.command(
    cls=_Command,
    context_settings={
        "help_option_names": ["-h", "--help"],
        "auto_envvar_prefix": "QORUS_USER_TOOL",
    },
)
@qorus_dir_option()
@datasource_option()
@_opt(
    "-A", "--add-user", help='Add a user: user,pass,role[,role...][,"desc"] (empty pass: prompt).'
)
@_opt(
    "-d",
    "--update-user",
    help="Update a user: user:key=value; keys pass (empty: prompt), "
    "name (or desc), roles (a,b replaces; +a,-b edits).",
)
@_opt("-m", "--add-user-role", help="Give a user roles: user:role[,role...].")
@_opt("-O", "--del-user-role", help="Take roles from a user: user:role[,role...].")
@_opt("-i", "--user-info", help="Show a user with its effective permissions and groups.")
@_opt("-l", "--list-users", count=True, help="List users (-ll: with roles and groups).")
@_opt("-w", "--users-with-role", help="List the users holding a role.")
@_opt("-P", "--add-perm", help='Add a user permission: name:"desc".')
@_opt("-E", "--update-perm", help='Change a user permission\'s description: name:"desc".')
@_opt("-p", "-L", "--list-perms", is_flag=True, help="List system and user permissions.")
@_opt("--roles-with-perm", help="List the roles holding a permission.")
@_opt("-R", "--add-role", help='Add a role: role:"desc":perm[,perm...][:group[,group...]].')
@_opt(
    "-U",
    "--update-role",
    help="Update a role: role:key=value[,key=value]; keys desc, "
    "perms, groups (a,b replaces; +a,-b edits).",
)
@_opt("-F", "--add-role-perm", help="Give a role permissions: role:perm[,perm...].")
@_opt("-I", "--del-role-perm", help="Take permissions from a role: role:perm[,perm...].")
@_opt("-G", "--add-role-group", help="Give a role groups: role:group[,group...].")
@_opt("-o", "--del-role-group", help="Take groups from a role: role:group[,group...].")
@_opt("-f", "--role-info", help="Show a role.")
@_opt("-r", "--list-roles", count=True, help="List roles (-rr: with permissions and groups).")
@_opt(
    "-g",
    "--add-group",
    help="Add an interface group: name:desc=...[,workflows=a,b]"
    "[,services=...][,jobs=...][,enabled=true]; a member is NAME (its latest version) or "
    "NAME:VERSION.",
)
@_opt(
    "-t",
    "--update-group",
    help="Update a group: name:key=value[,...]; keys desc, "
    "workflows, services, jobs (a,b replaces; +a,-b edits), enabled.",
)
@_opt("-n", "--group-info", help="Show a group with its members.")
@_opt("-S", "--list-groups", count=True, help="List groups (-SS: with members and roles).")
@_opt("-b", "--add-group-wf", help="Add workflows to a group: group:wf[,wf...].")
@_opt("-z", "--del-group-wf", help="Remove workflows from a group: group:wf[,wf...].")
@_opt("-j", "--add-group-svc", help="Add services to a group: group:svc[,svc...].")
@_opt("-x", "--del-group-svc", help="Remove services from a group: group:svc[,svc...].")
@_opt("--add-group-job", help="Add jobs to a group: group:job[,job...].")
@_opt("--del-group-job", help="Remove jobs from a group: group:job[,job...].")
@_opt("--enable-group", help="Enable a group.")
@_opt("--disable-group", help="Disable a group.")
@_opt("-X", "--delete", help="Delete user:NAME, role:NAME, perm:NAME or group:NAME.")
@_opt(
    "-c",
    "--cascade",
    "--cascade-delete",
    "cascade",
    is_flag=True,
    help="Also remove what refers to a deleted role, permission or group.",
)
@_opt("-u", "--url", multiple=False, help="Server URL for -s (default: qorus-client.client-url).")
@_opt("-W", "--show-url", is_flag=True, help="Print the server URL and exit.")
@_opt("-s", "--synchronize", is_flag=True, help="Ask the running server to reload RBAC.")
@_opt("-q", "--quiet", is_flag=True, help="Print nothing but errors and lists.")
@_opt(
    "-v",
    "--verbose",
    count=True,
    help="Say what is done: the datasource, each change, the commit, the server asked "
    "(-vv: also $OMQ_DIR and the options set on the command line).",
)
@click.argument("overrides", nargs=-1, metavar="[OPTION=VALUE]...")
def main(**kw: Any) -> None:
    """Offline role-based access control: users, roles, permissions and interface groups,
    written directly to the system schema (the server may be down)."""
    try:
        _run(kw)
    except rbac.RbacError as exc:
        fail(TOOL, escape(f"{exc.code}: {exc.desc}"), 1)
    except QorusError as exc:
        fail(TOOL, escape(f"{exc.code}: {exc.desc}"), 2)
    except SQLAlchemyError as exc:
        fail(TOOL, escape(dberror.message(exc)), 2)


def _say(line: str) -> None:
    """A -v line: plain text, never Rich markup."""
    console.print(line, highlight=False, markup=False)


def _run(kw: dict[str, Any]) -> None:
    verbose = int(kw["verbose"])
    if verbose and kw["quiet"]:
        fail(TOOL, "give -v (--verbose) or -q (--quiet), not both", 1)
    omq, options = load_env(kw["qorus_dir"], kw["overrides"])
    if verbose > 1:
        _say(f"$OMQ_DIR: {omq.root}")
        for ov in kw["overrides"]:
            name = ov.partition("=")[0].strip()
            _say(f"option {name} set on the command line")
    url = kw["url"] or str(options.get("qorus-client.client-url"))
    if kw["show_url"]:
        console.print(mask_text(url), highlight=False, markup=False)
        return
    policy = rbac.PasswordPolicy.from_options(options)
    plan = Plan()
    _plan_perms(plan, kw["add_perm"], kw["update_perm"])
    _plan_groups(
        plan,
        kw["add_group"],
        kw["update_group"],
        [
            (g, sign, kind, names)
            for key, sign, kind in (
                ("add_group_wf", "+", "workflows"),
                ("del_group_wf", "-", "workflows"),
                ("add_group_svc", "+", "services"),
                ("del_group_svc", "-", "services"),
                ("add_group_job", "+", "jobs"),
                ("del_group_job", "-", "jobs"),
            )
            for g, names in _pairs(kw[key], f"--{key.replace('_', '-')}", "group:name[,name...]")
        ],
        kw["enable_group"],
        kw["disable_group"],
    )
    _plan_roles(
        plan,
        kw["add_role"],
        kw["update_role"],
        [
            (r, key, names)
            for opt, key in (
                ("add_role_perm", "+perms"),
                ("del_role_perm", "-perms"),
                ("add_role_group", "+groups"),
                ("del_role_group", "-groups"),
            )
            for r, names in _pairs(kw[opt], f"--{opt.replace('_', '-')}", "role:name[,name...]")
        ],
    )
    _plan_users(
        plan, policy, kw["add_user"], kw["update_user"], kw["add_user_role"], kw["del_user_role"]
    )
    _plan_deletes(plan, kw["delete"], kw["cascade"])
    shows = [
        kw["user_info"],
        kw["list_users"],
        kw["users_with_role"],
        kw["list_perms"],
        kw["roles_with_perm"],
        kw["role_info"],
        kw["list_roles"],
        kw["group_info"],
        kw["list_groups"],
    ]
    if not plan.actions and not any(shows) and not kw["synchronize"]:
        fail(TOOL, "nothing to do: give an option (-h or --help for help)", 1)
    # before anything is written: -s must be able to log in to a server that needs it
    sync = prepare_sync(kw["url"], options) if kw["synchronize"] else None
    try:
        _apply(omq, options, kw, plan, shows, verbose)
    except BaseException:
        if sync is not None:
            sync.abandon()
        raise
    if sync is not None:
        if verbose:
            _say(
                f"asking the server at {sync.client.shown_url} to reload RBAC "
                "(PUT system/reloadRbac)"
            )
        synchronize(sync, kw["quiet"])


def _apply(
    omq: OmqDir, options: Options, kw: dict[str, Any], plan: Plan, shows: list[Any], verbose: int
) -> None:
    """Write the plan in one transaction, then print the lists asked for."""
    if not plan.actions and not any(shows):
        return
    engine = open_system_engine(omq, options, kw["datasource"])
    try:
        if verbose:
            _say(f"system datasource: {mask(engine.url)}")
        schema.check_current(engine)
        if verbose:
            _say("system schema: current")
        if plan.actions:
            with engine.begin() as conn, audit.using(audit.offline_trail(options, "user-tool")):
                done = []
                for n, action in enumerate(plan.actions, 1):
                    done.append(action(conn))
                    if verbose:
                        _say(f"change {n}/{len(plan.actions)} done: {done[-1]}")
            if verbose:
                n = len(done)
                _say(f"committed {n} change{'s' if n != 1 else ''} in one transaction")
            elif not kw["quiet"]:
                for line in done:
                    console.print(line, highlight=False, markup=False)
        if any(shows):
            with engine.connect() as conn:
                show.show_all(conn, kw)
    finally:
        engine.dispose()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
