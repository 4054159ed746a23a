"""The engine's hottest statements run on the driver's cursor where the dialect allows it.

A step commit is a few small statements built once at import (:mod:`qorus_core.db.steps`);
on PostgreSQL SQLAlchemy's own work per execution (execution context, result set-up) costs
more than the round trip itself. :func:`execute` runs such a statement, compiled once per
dialect to the driver's SQL, on the cursor of the connection's current transaction (SQLAlchemy
still begins and commits it) and answers the row count. A driver error is raised as SQLAlchemy
would raise it (:class:`sqlalchemy.exc.DBAPIError` subclasses, ``connection_invalidated`` when
the connection is gone, which is then invalidated), so callers handle errors as before.
Dialects whose driver needs SQLAlchemy's type processing (SQLite's datetimes, for one) run
the statement through SQLAlchemy (:attr:`qorus_core.db.dialects.Dialect.driver_execution`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Executable

from qorus_core.db.dialects import dialect_for

_COMPILED: dict[tuple[int, str], tuple[str, dict[str, Any]]] = {}


def driver_sql(stmt: Executable, conn: Connection) -> tuple[str, dict[str, Any]]:
    """``stmt`` as the driver's SQL for the dialect of ``conn`` and the values of the
    parameters the statement carries itself (its literals), compiled once."""
    key = (id(stmt), conn.dialect.name)
    found = _COMPILED.get(key)
    if found is None:
        compiled = stmt.compile(dialect=conn.dialect)  # type: ignore[attr-defined]
        own = {
            name: bind.effective_value
            for name, bind in ((compiled.bind_names[b], b) for b in compiled.binds.values())
            if not bind.required and bind.callable is None
        }
        found = _COMPILED[key] = (str(compiled), own)
    return found


def execute(conn: Connection, stmt: Executable, params: dict[str, Any]) -> int:
    """Run ``stmt`` (built once, module level) with ``params``; the rows it touched."""
    if not dialect_for(conn).driver_execution:
        return int(conn.execute(stmt, params).rowcount)
    sql, own = driver_sql(stmt, conn)
    if own:
        params = {**own, **params}
    dbapi: Any = conn.connection.driver_connection
    try:
        with dbapi.cursor() as cur:
            cur.execute(sql, params)
            return int(cur.rowcount)
    except conn.dialect.loaded_dbapi.Error as exc:
        gone = bool(getattr(dbapi, "broken", False) or getattr(dbapi, "closed", False))
        if gone:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            sql,
            params,
            exc,
            conn.dialect.loaded_dbapi.Error,
            hide_parameters=True,
            connection_invalidated=gone,
            dialect=conn.dialect,
        ) from exc
