"""What the wait modules share: the tables, the lookup of named rows (queues, event types),
and the wake-up of an order whose wait is over."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.db.refdata import now
from qorus_core.db.wake import notify_due
from qorus_core.model.errors import NotFoundError
from qorus_core.model.status import OrderStatus as S

wi = t.workflow_instance

# queue entry statuses: the database code -> the API name
QS_WAITING, QS_RECEIVED, QS_ERROR, QS_USED = "W", "R", "E", "X"
QUEUE_STATUS_NAMES = {"W": "WAITING", "R": "RECEIVED", "E": "ERROR", "X": "USED"}
QUEUE_STATUS_CODES = {v: k for k, v in QUEUE_STATUS_NAMES.items()}

#: order statuses a finished wait makes due (an IN-PROGRESS order keeps the trigger for later)
_WAKEABLE = (S.ASYNC_WAITING, S.EVENT_WAITING, S.WAITING, S.IN_PROGRESS, S.RETRY)


def _data(text: str | None) -> Any:
    return None if text is None else json.loads(text)


#: the ``{<id>, name, desc}`` tables: (table, its id column, the id's key in a result)
_Named = tuple[Any, Any, str]
_QUEUES: _Named = (t.queues, t.queues.c.queueid, "queueid")
_EVENT_TYPES: _Named = (
    t.workflow_event_types,
    t.workflow_event_types.c.workflow_event_typeid,
    "id",
)


def wake_order(conn: Connection, wfiid: int, ts: datetime | None = None) -> int | None:
    """Make a waiting order due now; its workflowid when it was woken, else None."""
    ts = ts or now()
    row = conn.execute(
        select(wi.c.workflowid, wi.c.workflowstatus).where(wi.c.workflow_instanceid == wfiid)
    ).first()
    if row is None or row[1] not in _WAKEABLE:
        return None
    conn.execute(
        update(wi)
        .where(wi.c.workflow_instanceid == wfiid, wi.c.workflowstatus.in_(_WAKEABLE))
        .values(retry_trigger=ts)
    )
    workflowid = int(row[0])
    if row[1] != S.IN_PROGRESS:
        notify_due(conn, [workflowid])
    return workflowid


def _find_named(
    conn: Connection, named: _Named, ref: object, what: str, code: str
) -> dict[str, Any]:
    """The row of ``named`` by name or id: ``{<id>, name, desc}``; 404 ``code`` otherwise."""
    table, ident, key = named
    text = str(ref)
    cond = table.c.name == text
    if text.isascii() and text.isdigit():
        cond = cond | (ident == int(text))
    row = conn.execute(select(ident, table.c.name, table.c.description).where(cond)).first()
    if row is None:
        raise NotFoundError(f"{what} {text!r} does not exist", code=code)
    return {key: int(row[0]), "name": row[1], "desc": row[2]}


def _list_named(conn: Connection, named: _Named) -> list[dict[str, Any]]:
    """Every row of ``named`` by name: ``{<id>, name, desc}``."""
    table, ident, key = named
    return [
        {key: int(r[0]), "name": r[1], "desc": r[2]}
        for r in conn.execute(
            select(ident, table.c.name, table.c.description).order_by(table.c.name)
        )
    ]
