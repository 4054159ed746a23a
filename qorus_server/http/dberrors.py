"""The answer to a database error that escaped an operation.

A connection pool that stays empty for ``api-pool-timeout`` seconds is an overload, not a
failed operation: the client is told 503 DB-POOL-EXHAUSTED and may try again, instead of
waiting behind the engine. Any other database error is 409 DB-ERROR with one line of reason.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from qorus_core.model.errors import QorusError


class PoolExhaustedError(QorusError):
    code = "DB-POOL-EXHAUSTED"
    http_status = 503


def db_error(exc: SQLAlchemyError) -> QorusError:
    if isinstance(exc, PoolTimeout):
        return PoolExhaustedError(
            "no database connection became free in time; the system is overloaded, try again"
        )
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return QorusError(f"database error: {reason}", code="DB-ERROR")
