"""Queues of asynchronous steps: keyed by name alone."""

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
    return upsert(s.conn, t.queues, "queueid", {"name": d.name}, row)


def delete(dl: Deleter, spec: DeleteSpec) -> None:
    qid = dl.id_by_name(t.queues, "queueid", spec)
    users = dl.conn.execute(select(t.steps.c.name).where(t.steps.c.queueid == qid)).scalars().all()
    if users:
        raise ValidationError(f"queue {spec.name} is used by step {', '.join(users)}")
    if dl.count(t.queue_data, t.queue_data.c.queueid == qid) and not dl.force:
        raise ValidationError(f"queue {spec.name} holds queue data; use -f to delete it")
    dl.conn.execute(sql_delete(t.queue_data).where(t.queue_data.c.queueid == qid))
    dl.conn.execute(sql_delete(t.queues).where(t.queues.c.queueid == qid))
    dl.done.append(f"deleted queue {spec.name} (id {qid})")


KIND = Kind(
    "queue",
    store,
    delete,
    listing.named(t.queues, "queueid"),
    stage=1,
    table=t.queues,
    idcol="queueid",
)
