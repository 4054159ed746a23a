"""``user-tool`` lists and details as Rich tables (users, roles, permissions, groups)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import Connection

from qorus_cli.common import console
from qorus_core import rbac


def _t(value: object) -> Text:
    """Plain text: names and descriptions are never read as Rich markup."""
    if isinstance(value, datetime):
        return Text(f"{value:%Y-%m-%d %H:%M:%S}")
    if isinstance(value, (list, tuple, frozenset, set)):
        return Text(", ".join(sorted(str(v) for v in value)))
    return Text("" if value is None else str(value))


def _table(title: str, *cols: str) -> Table:
    table = Table(title=title)
    for col in cols:
        table.add_column(col, overflow="fold")
    return table


def users(conn: Connection, detail: int, role: str | None = None) -> None:
    rows = rbac.list_users(conn, role=role)
    title = f"users with role {role}" if role else "users"
    cols = ["user", "name", "provider", "created"]
    if detail > 1 or role:
        cols += ["roles", "groups"]
    table = _table(title, *cols)
    for u in rows:
        cells = [_t(u.username), _t(u.description), _t(u.provider), _t(u.created)]
        if detail > 1 or role:
            p = rbac.load_principal(conn, u.username)
            cells += [_t(u.roles), _t("all (DEFAULT)" if p.all_interfaces else _gnames(conn, p))]
        table.add_row(*cells)
    console.print(table if rows else "no users")


def _gnames(conn: Connection, p: rbac.Principal) -> list[str]:
    return [g.name for g in rbac.list_groups(conn) if g.groupid in p.group_ids]


def user_info(conn: Connection, username: str) -> None:
    u = rbac.list_users(conn, username=username)[0]
    p = rbac.load_principal(conn, username)
    table = Table(title=f"user {username}", show_header=False)
    table.add_row("name", _t(u.description))
    table.add_row("provider", _t(u.provider))
    table.add_row("roles", _t(u.roles))
    table.add_row("permissions", _t(p.permissions))
    table.add_row("groups", _t("all (DEFAULT)" if p.all_interfaces else _gnames(conn, p)))
    table.add_row("created", _t(u.created))
    table.add_row("modified", _t(u.modified))
    console.print(table)


def roles(conn: Connection, detail: int, perm: str | None = None) -> None:
    rows = rbac.list_roles(conn)
    if perm is not None:
        if perm not in {p.name for p in rbac.list_permissions(conn)}:
            raise rbac.RbacError(f"permission {perm!r} does not exist", code="PERMISSION-ERROR")
        rows = [r for r in rows if perm in r.permissions]
    cols = ["role", "description", "users"]
    if detail > 1:
        cols += ["permissions", "groups"]
    table = _table(f"roles with permission {perm}" if perm else "roles", *cols)
    for r in rows:
        cells = [_t(r.role), _t(r.description), _t(r.users)]
        if detail > 1:
            cells += [_t(r.permissions), _t(r.groups)]
        table.add_row(*cells)
    console.print(table if rows else "no roles")


def role_info(conn: Connection, role: str) -> None:
    r = rbac.list_roles(conn, role)[0]
    eff = rbac.expand(r.permissions, rbac.includes_map(conn))
    table = Table(title=f"role {role}", show_header=False)
    table.add_row("description", _t(r.description))
    table.add_row("provider", _t(r.provider))
    table.add_row("permissions", _t(r.permissions))
    table.add_row("effective", _t(eff))
    table.add_row("groups", _t(r.groups))
    table.add_row("users", _t(r.users))
    console.print(table)


def permissions(conn: Connection) -> None:
    table = _table("permissions", "permission", "type", "description", "includes")
    for p in rbac.list_permissions(conn):
        table.add_row(_t(p.name), _t(p.permission_type), _t(p.description), _t(p.includes))
    console.print(table)


def _members(g: rbac.GroupInfo) -> Text:
    parts = [f"workflow {m}" for m in g.workflows]
    parts += [f"service {m}" for m in g.services]
    parts += [f"job {m}" for m in g.jobs]
    return Text("\n".join(parts))


def groups(conn: Connection, detail: int, name: str | None = None) -> None:
    rows = rbac.list_groups(conn, name)
    cols = ["id", "group", "enabled", "description", "workflows", "services", "jobs"]
    if detail > 1:
        cols += ["members", "roles"]
    table = _table(f"group {name}" if name else "interface groups", *cols)
    for g in rows:
        cells = [
            _t(g.groupid),
            _t(g.name),
            _t("yes" if g.enabled else "no"),
            _t(g.description),
            _t("all" if g.groupid == 0 else len(g.workflows)),
            _t("all" if g.groupid == 0 else len(g.services)),
            _t("all" if g.groupid == 0 else len(g.jobs)),
        ]
        if detail > 1:
            cells += [_members(g), _t(g.roles)]
        table.add_row(*cells)
    console.print(table)


def show_all(conn: Connection, kw: dict[str, Any]) -> None:
    """Every list or detail asked for on the command line, in a fixed order."""
    for name in kw["user_info"]:
        user_info(conn, name)
    if kw["list_users"]:
        users(conn, kw["list_users"])
    for role in kw["users_with_role"]:
        users(conn, 2, role=role)
    if kw["list_perms"]:
        permissions(conn)
    for role in kw["role_info"]:
        role_info(conn, role)
    if kw["list_roles"]:
        roles(conn, kw["list_roles"])
    for perm in kw["roles_with_perm"]:
        roles(conn, 2, perm=perm)
    for name in kw["group_info"]:
        groups(conn, 2, name)
    if kw["list_groups"]:
        groups(conn, kw["list_groups"])
