"""Per-dialect differences of the system SQL, in one small class per dialect.

Each class holds the behaviour of one database family (row locks, SKIP LOCKED, NOTIFY,
session set-up); the data functions ask :func:`dialect_for` once instead of branching on
``dialect.name`` themselves, as alembic's ``DefaultImpl`` does. A new dialect or an Oracle
quirk is a change here.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Select

S = TypeVar("S", bound=Select[Any])


class Dialect:
    """The default: a server database with row locks and SKIP LOCKED, no NOTIFY."""

    name = "default"
    #: LISTEN/NOTIFY exists (cross-node wake-ups); without it the nodes poll
    has_notify = False
    #: DDL rolls back with its transaction (else a failed schema creation is dropped by hand)
    transactional_ddl = True
    #: how concurrent createOrder calls' plain orders are written together
    #: (:mod:`qorus_core.db.order_batch`): "statement" (one statement), "transaction" (one
    #: transaction of an exclusive writer), None (one by one: no safe batch check here)
    order_batches: str | None = None
    #: the engine's statements built once may run on the driver's cursor (no type processing
    #: needed: the driver adapts datetimes, booleans and text itself); see fastexec
    driver_execution = False

    def lock_rows(self, q: S, of: Any = None) -> S:
        """``q`` locking the rows it reads until the commit (``SELECT ... FOR UPDATE``)."""
        return q.with_for_update(of=of) if of is not None else q.with_for_update()

    def claim_rows(self, q: S) -> S:
        """``q`` locking the rows it reads and skipping rows another transaction holds, so
        that several nodes claim disjoint work (``FOR UPDATE SKIP LOCKED``)."""
        return q.with_for_update(skip_locked=True)

    def prepare_refdata(self, conn: Connection) -> None:
        """Session set-up before reference rows with explicit id 0 are inserted."""

    def notify(self, conn: Connection, channel: str, payloads: list[str]) -> None:
        """Send ``payloads`` on ``channel`` at the commit of the current transaction; nothing
        where the dialect has no NOTIFY."""


class PostgreSQL(Dialect):
    name = "postgresql"
    has_notify = True
    order_batches = "statement"
    driver_execution = True

    def notify(self, conn: Connection, channel: str, payloads: list[str]) -> None:
        if len(payloads) == 1:
            conn.execute(_NOTIFY_ONE, {"channel": channel, "payload": payloads[0]})
        else:
            conn.execute(_NOTIFY, {"channel": channel, "payloads": payloads})


_NOTIFY_ONE = text("SELECT pg_notify(:channel, :payload)")
_NOTIFY = text("SELECT pg_notify(:channel, p) FROM unnest(CAST(:payloads AS TEXT[])) p")


class MySQL(Dialect):
    name = "mysql"
    transactional_ddl = False

    def prepare_refdata(self, conn: Connection) -> None:
        # keep explicit id 0 (session 0, DEFAULT group) instead of drawing an AUTO_INCREMENT
        conn.exec_driver_sql("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")


class Oracle(Dialect):
    name = "oracle"
    transactional_ddl = False


class SQLite(Dialect):
    """No row locks: ``BEGIN IMMEDIATE`` already makes every writing transaction exclusive."""

    name = "sqlite"
    order_batches = "transaction"

    def lock_rows(self, q: S, of: Any = None) -> S:
        return q

    def claim_rows(self, q: S) -> S:
        return q


_BY_NAME: dict[str, Dialect] = {
    "postgresql": PostgreSQL(),
    "mysql": MySQL(),
    "mariadb": MySQL(),
    "oracle": Oracle(),
    "sqlite": SQLite(),
}
_DEFAULT = Dialect()


def dialect_for(bind: Engine | Connection | str) -> Dialect:
    """The dialect class of an engine, a connection or a SQLAlchemy dialect name."""
    name = bind if isinstance(bind, str) else bind.dialect.name
    return _BY_NAME.get(name, _DEFAULT)
