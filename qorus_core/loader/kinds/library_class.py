"""Library classes: versioned code that other interfaces name in ``classes:``."""

from __future__ import annotations

import json

from sqlalchemy import delete as sql_delete
from sqlalchemy import select

from qorus_core.db import tables as t
from qorus_core.loader import listing
from qorus_core.loader.delete import Deleter, DeleteSpec
from qorus_core.loader.kinds.registry import Kind
from qorus_core.loader.model import Definition
from qorus_core.loader.store import Store, code_columns
from qorus_core.loader.upsert import upsert
from qorus_core.model.errors import ValidationError


def store(s: Store, d: Definition) -> tuple[int | None, str]:
    row = code_columns(d)
    row.pop("classes")
    row.pop("config_items")
    return upsert(s.conn, t.classes, "classid", {"name": d.name, "version": d.version}, row)


def users_of(dl: Deleter, name: str) -> list[str]:
    """Interfaces that name the class in their ``classes:`` (deleting it breaks them)."""
    users = []
    for table, kind in (
        (t.steps, "step"),
        (t.workflows, "workflow"),
        (t.services, "service"),
        (t.jobs, "job"),
    ):
        for n, v, classes in dl.conn.execute(
            select(table.c.name, table.c.version, table.c.classes).where(
                table.c.classes.is_not(None)
            )
        ):
            if name in json.loads(classes):
                users.append(f"{kind} {n}:{v}")
    return users


def delete(dl: Deleter, spec: DeleteSpec) -> None:
    for cid, name, version in dl.ids_of(t.classes, "classid", spec):
        users = users_of(dl, name)
        if users and not dl.force:
            raise ValidationError(
                f"class {name}:{version} is used by {', '.join(users)}; use -f to delete it"
            )
        dl.conn.execute(sql_delete(t.classes).where(t.classes.c.classid == cid))
        dl.done.append(f"deleted class {name}:{version} (id {cid})")


KIND = Kind(
    "class",
    store,
    delete,
    listing.versioned(t.classes, "classid", "class_name"),
    versioned=True,
    coded=True,
    stage=0,
    table=t.classes,
    idcol="classid",
    aliases=("classes",),
)
