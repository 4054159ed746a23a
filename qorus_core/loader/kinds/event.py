"""Workflow event types of event steps: keyed by name alone."""

from __future__ import annotations

from sqlalchemy import delete as sql_delete
from sqlalchemy import select

from qorus_core.db import tables as t
from qorus_core.loader import listing
from qorus_core.loader.delete import Deleter, DeleteSpec
from qorus_core.loader.kinds.registry import Kind
from qorus_core.loader.model import Definition
from qorus_core.loader.store import Store
from qorus_core.loader.upsert import upsert
from qorus_core.model.errors import ValidationError


def store(s: Store, d: Definition) -> tuple[int | None, str]:
    row = {"description": d.data.get("desc"), "source": str(d.path)}
    return upsert(s.conn, t.workflow_event_types, "workflow_event_typeid", {"name": d.name}, row)


def delete(dl: Deleter, spec: DeleteSpec) -> None:
    eid = dl.id_by_name(t.workflow_event_types, "workflow_event_typeid", spec)
    users = (
        dl.conn.execute(select(t.steps.c.name).where(t.steps.c.workflow_event_typeid == eid))
        .scalars()
        .all()
    )
    if users:
        raise ValidationError(f"event type {spec.name} is used by step {', '.join(users)}")
    dl.conn.execute(
        sql_delete(t.workflow_event_types).where(
            t.workflow_event_types.c.workflow_event_typeid == eid
        )
    )
    dl.done.append(f"deleted event type {spec.name} (id {eid})")


KIND = Kind(
    "event",
    store,
    delete,
    listing.named(t.workflow_event_types, "workflow_event_typeid"),
    stage=2,
    table=t.workflow_event_types,
    idcol="workflow_event_typeid",
)
