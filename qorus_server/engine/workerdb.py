"""One database connection per worker thread, kept across transactions.

Checking a connection out of the pool for every step costs a liveness ping, which on
PostgreSQL is a transaction of its own (an extra commit per step). A worker keeps its
connection and begins one transaction per unit of work; after any database error the
connection is dropped and the next unit opens a new one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError


class WorkerDb:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        """A transaction on this worker's connection: committed on success."""
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.engine.connect()
        conn = self._conn
        try:
            with conn.begin():
                yield conn
        except SQLAlchemyError:
            self.close()
            raise

    def close(self) -> None:
        if self._conn is not None:
            with suppress(SQLAlchemyError):
                self._conn.close()
            self._conn = None
