"""Plain orders of concurrent createOrder calls inserted together (PostgreSQL, SQLite).

Each createOrder call is a request of its own, but under load several arrive while one is
being written. :func:`insert_plain_orders` writes any number of plain orders (no keys, unique
keys, parent or sensitive data) with one commit. On PostgreSQL that is ONE autocommitted
statement whose text never changes (the rows travel as arrays through ``unnest``), so the
server prepares it once and every order in the batch shares one round trip. On SQLite it is
one ``BEGIN IMMEDIATE`` transaction (SQLite runs one writer at a time: one transaction for the
batch instead of one per order). MariaDB creates orders one by one (its READ COMMITTED check
of the definitions stamp would need a lock of its own).

In that one statement, per order:

- its id comes from the identity sequence (``nextval`` in a materialized CTE, so the
  ``workflow_instance`` and ``order_instance`` rows of one order share it);
- it is written only if the workflow definitions stamp it was validated against is still the
  current one (see :mod:`qorus_core.db.wfcache`); an order whose stamp is stale is left out
  and reported, nothing of it is written;
- READY orders wake the other nodes (``pg_notify``) only when another node is active, as
  :func:`qorus_core.db.wake.wake_expression` does for one order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import Connection, Engine

from qorus_core.db import tables as t
from qorus_core.db.dialects import dialect_for
from qorus_core.db.orders import NewOrder, WorkflowBrief, order_row, validate_order
from qorus_core.db.unit import dumps
from qorus_core.db.wake import CHANNEL
from qorus_core.db.wfcache import STAMP_DOMAIN, STAMP_KEY, read_stamp
from qorus_core.model.errors import QorusError
from qorus_core.model.status import OrderStatus, SessionStatus


@dataclass(frozen=True)
class PlainOrder:
    """One validated plain order of the workflow of ``brief``, checked against ``stamp``."""

    brief: WorkflowBrief
    stamp: str | None
    order: NewOrder

    @property
    def workflowid(self) -> int:
        return self.brief.workflowid


def plain_order(
    brief: WorkflowBrief, stamp: str | None, args: Mapping[str, Any], ts: datetime
) -> PlainOrder | None:
    """The order ``args`` as a :class:`PlainOrder`, or None when it is not one (keys, unique
    keys, a parent or sensitive data need statements of their own) or is refused (the
    ordinary path then reports why)."""
    try:
        order = validate_order(brief, args, ts)
    except QorusError:
        return None
    if order.keys or order.unique or order.parent_id is not None or order.sensitive:
        return None
    return PlainOrder(brief, stamp, order)


_WI = t.workflow_instance.name
_OI = t.order_instance.name
_SP = t.system_properties.name
_SESSIONS = t.sessions.name

_SQL = text(
    f"""
WITH v AS MATERIALIZED (
    SELECT nextval(pg_get_serial_sequence('{_WI}', 'workflow_instanceid')) AS id, u.*
    FROM unnest(
        CAST(:ord AS integer[]), CAST(:wfid AS bigint[]), CAST(:status AS varchar[]),
        CAST(:status_orig AS varchar[]), CAST(:prio AS integer[]),
        CAST(:sched AS timestamp[]), CAST(:ext AS varchar[]), CAST(:static AS text[]),
        CAST(:dyn AS text[]), CAST(:stamp AS varchar[])
    ) AS u(ord, wfid, status, status_orig, prio, sched, ext, static, dyn, stamp)
    WHERE u.stamp IS NOT DISTINCT FROM (
        SELECT value FROM {_SP} WHERE domain = '{STAMP_DOMAIN}' AND keyname = '{STAMP_KEY}'
    )
    ORDER BY u.ord
),
w AS (
    INSERT INTO {_WI} (
        workflow_instanceid, workflowid, workflowstatus, workflowstatus_orig,
        status_sessionid, parent_workflow_instanceid, subworkflow, synchronous, priority,
        scheduled, retries, errors, warnings, note_count, business_error, started, modified
    )
    SELECT id, wfid, status, status_orig, 0, NULL, false, false, prio, sched, 0, 0, 0, 0,
        false, CAST(:ts AS timestamp), CAST(:ts AS timestamp)
    FROM v
),
o AS (
    INSERT INTO {_OI} (
        workflow_instanceid, external_order_instanceid, staticdata, dynamicdata, created,
        modified
    )
    SELECT id, ext, static, dyn, CAST(:ts AS timestamp), CAST(:ts AS timestamp) FROM v
),
n AS (
    SELECT pg_notify('{CHANNEL}', CAST(d.wfid AS text)) AS sent
    FROM (SELECT DISTINCT wfid FROM v WHERE status = '{OrderStatus.READY}') AS d
    WHERE (
        SELECT count(*) FROM {_SESSIONS}
        WHERE sessionid <> 0 AND sessionstatus = '{SessionStatus.ACTIVE}'
    ) > 1
)
SELECT v.ord, v.id, (SELECT count(*) FROM n) FROM v
"""
)


def insert_plain_orders(
    engine: Engine, batch: Sequence[PlainOrder], ts: datetime
) -> list[int | None]:
    """Write the plain orders of ``batch`` with one commit; the id of each order, or None for
    an order whose definitions stamp is stale (nothing of it written). A database error
    writes nothing of the batch and is raised."""
    if not batch:
        return []
    how = dialect_for(engine).order_batches
    if how == "transaction":
        return _one_transaction(engine, batch, ts)
    if how != "statement":
        raise ValueError(f"{engine.dialect.name} writes orders one by one")
    params = {
        "ord": list(range(len(batch))),
        "wfid": [b.workflowid for b in batch],
        "status": [b.order.status for b in batch],
        "status_orig": [b.order.status_orig for b in batch],
        "prio": [b.order.priority for b in batch],
        "sched": [b.order.scheduled for b in batch],
        "ext": [b.order.external_id for b in batch],
        "static": [dumps(b.order.staticdata) for b in batch],
        "dyn": [dumps(b.order.dynamicdata) for b in batch],
        "stamp": [b.stamp for b in batch],
        "ts": ts,
    }
    ids: list[int | None] = [None] * len(batch)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for ord_, wfiid, _sent in _execute_raw(conn, _driver_sql(engine), params):
            ids[int(ord_)] = int(wfiid)
    return ids


_COMPILED: dict[str, str] = {}


def _driver_sql(engine: Engine) -> str:
    """The statement in the driver's own parameter style, compiled once per dialect."""
    sql = _COMPILED.get(engine.dialect.name)
    if sql is None:
        sql = _COMPILED[engine.dialect.name] = str(_SQL.compile(dialect=engine.dialect))
    return sql


def _execute_raw(conn: Connection, sql: str, params: dict[str, Any]) -> list[Any]:
    """Run the one statement on the driver's cursor of ``conn`` (its autocommit set by
    SQLAlchemy): SQLAlchemy's own work per statement costs more than the round trip here,
    and this statement's parameters are plain arrays the driver adapts itself. A connection
    the driver found broken is invalidated, so the pool never hands it out again."""
    dbapi: Any = conn.connection.driver_connection
    try:
        with dbapi.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())
    except Exception:
        if getattr(dbapi, "broken", False) or getattr(dbapi, "closed", False):
            conn.invalidate()
        raise


def _one_transaction(engine: Engine, batch: Sequence[PlainOrder], ts: datetime) -> list[int | None]:
    """The batch in one transaction of a writer that excludes every other (SQLite's
    ``BEGIN IMMEDIATE``): the stamp read in it cannot change before the commit."""
    wi, oi = t.workflow_instance, t.order_instance
    ids: list[int | None] = [None] * len(batch)
    with engine.begin() as conn:
        current = read_stamp(conn)
        fresh = [i for i, b in enumerate(batch) if b.stamp == current]
        if not fresh:
            return ids
        rows = [order_row(batch[i].workflowid, batch[i].order, ts) for i in fresh]
        new = conn.execute(
            insert(wi).returning(wi.c.workflow_instanceid, sort_by_parameter_order=True), rows
        ).scalars()
        for i, wfiid in zip(fresh, new, strict=True):
            ids[i] = int(wfiid)
        conn.execute(
            insert(oi),
            [
                {
                    "workflow_instanceid": ids[i],
                    "external_order_instanceid": batch[i].order.external_id,
                    "staticdata": dumps(batch[i].order.staticdata),
                    "dynamicdata": dumps(batch[i].order.dynamicdata),
                    "created": ts,
                    "modified": ts,
                }
                for i in fresh
            ],
        )
    return ids
