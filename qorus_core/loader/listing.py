"""``oload -L TYPE``: what the schema holds, as rows for a table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.model.errors import ValidationError
from qorus_core.model.versions import version_key

TYPES = ("workflow", "step", "service", "job", "class", "queue", "event", "group", "errors")


def list_objects(conn: Connection, kind: str) -> tuple[list[str], list[list[Any]]]:
    """(column titles, rows) for objects of ``kind`` (singular or plural, case-insensitive)."""
    k = kind.lower().rstrip("s") if kind.lower() != "errors" else "errors"
    if k == "wf":
        k = "workflow"
    if k not in TYPES:
        raise ValidationError(f"cannot list {kind!r}: types are {', '.join(TYPES)}")
    if k == "errors":
        e, ef = t.error_definitions, t.error_files
        n = (
            select(func.count())
            .select_from(e)
            .where(e.c.name == ef.c.name)
            .correlate(ef)
            .scalar_subquery()
        )
        files = conn.execute(
            select(ef.c.name, n, ef.c.file_name, ef.c.source).order_by(ef.c.name)
        ).all()
        return ["name", "errors", "file", "source"], [list(r) for r in files]
    if k in ("queue", "event", "group"):
        table, idcol = {
            "queue": (t.queues, "queueid"),
            "event": (t.workflow_event_types, "workflow_event_typeid"),
            "group": (t.groups, "groupid"),
        }[k]
        rows = conn.execute(
            select(table.c[idcol], table.c.name, table.c.description).order_by(table.c.name)
        ).all()
        return ["id", "name", "description"], [list(r) for r in rows]
    table, idcol, extra = {
        "workflow": (t.workflows, "workflowid", "autostart"),
        "step": (t.steps, "stepid", "steptype"),
        "service": (t.services, "serviceid", "service_type"),
        "job": (t.jobs, "jobid", "active"),
        "class": (t.classes, "classid", "class_name"),
    }[k]
    objects = conn.execute(
        select(
            table.c[idcol],
            table.c.name,
            table.c.version,
            table.c[extra],
            func.coalesce(table.c.modified, table.c.created),
            table.c.source,
        )
    ).all()
    ordered = sorted(objects, key=lambda r: (r[1], version_key(r[2])))
    return ["id", "name", "version", extra, "loaded", "source"], [list(r) for r in ordered]
