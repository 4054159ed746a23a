"""Interface groups: keyed by name; their members are workflows, services and jobs."""

from __future__ import annotations

from sqlalchemy import delete as sql_delete

from qorus_core.db import tables as t
from qorus_core.db.refdata import DEFAULT_GROUP_ID
from qorus_core.loader import listing
from qorus_core.loader.delete import Deleter, DeleteSpec
from qorus_core.loader.kinds.registry import Kind
from qorus_core.loader.model import Definition
from qorus_core.loader.problems import Problems
from qorus_core.loader.store import Store
from qorus_core.loader.upsert import Children, upsert
from qorus_core.model.errors import ValidationError


def check(d: Definition, problems: Problems) -> None:
    if d.name == "DEFAULT":
        problems.add(d.path, "the DEFAULT group cannot be loaded or changed", d.doc.mark("name"))


def store(s: Store, d: Definition) -> tuple[int | None, str]:
    data = d.data
    row = {"description": data.get("desc"), "enabled": bool(data.get("enabled", True))}
    children = []
    for key, kind, table in (
        ("workflows", "workflow", t.group_workflows),
        ("services", "service", t.group_services),
        ("jobs", "job", t.group_jobs),
    ):
        if key in data:
            ids = sorted({s.id_of(kind, ref) for ref in data[key] or []})
            children.append(Children(table, "groupid", [{f"{kind}id": i} for i in ids]))
    return upsert(s.conn, t.groups, "groupid", {"name": d.name}, row, children)


def delete(dl: Deleter, spec: DeleteSpec) -> None:
    gid = dl.id_by_name(t.groups, "groupid", spec)
    if gid == DEFAULT_GROUP_ID:
        raise ValidationError("the DEFAULT group cannot be deleted")
    for table in (t.group_workflows, t.group_services, t.group_jobs, t.role_groups):
        dl.conn.execute(sql_delete(table).where(table.c.groupid == gid))
    dl.conn.execute(sql_delete(t.groups).where(t.groups.c.groupid == gid))
    dl.done.append(f"deleted group {spec.name} (id {gid})")


KIND = Kind(
    "group",
    store,
    delete,
    listing.named(t.groups, "groupid"),
    check=check,
    stage=8,
    table=t.groups,
    idcol="groupid",
)
