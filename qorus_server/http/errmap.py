"""From an exception escaping an operation to the Qorus error a client is answered.

A :class:`~qorus_core.model.errors.QorusError` is answered as it is. Anything else is not the
caller's business: the database's own message (SQL, driver and constraint names, values) and
a Python traceback go to the server log only, under a short reference the answer carries so
that an operator can find the log line. The client gets DB-ERROR (409) when the database
failed and INTERNAL-ERROR (500) for any other fault. A connection pool that stays empty for
``api-pool-timeout`` seconds is an overload, not a failed operation: 503 DB-POOL-EXHAUSTED,
which the client may retry, logged as one line without a traceback.
"""

from __future__ import annotations

import logging
import secrets

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from qorus_core.model.errors import QorusError

log = logging.getLogger("qorus.http")


class PoolExhaustedError(QorusError):
    code = "DB-POOL-EXHAUSTED"
    http_status = 503


def reference() -> str:
    """A short random tag tying an answer to its log line."""
    return secrets.token_hex(6)


def to_qorus_error(exc: Exception, where: str) -> QorusError:
    """The error to answer for ``exc`` raised while serving ``where`` (``GET /api/...``);
    anything but a QorusError is logged with its traceback and answered generically."""
    if isinstance(exc, QorusError):
        return exc
    if isinstance(exc, PoolTimeout):
        log.warning("%s: no database connection became free in time", where)
        return PoolExhaustedError(
            "no database connection became free in time; the system is overloaded, try again"
        )
    ref = reference()
    if isinstance(exc, SQLAlchemyError):
        log.error("database error in %s [ref %s]", where, ref, exc_info=exc)
        return QorusError(
            f"the system database could not complete the request (ref {ref} in the server log)",
            code="DB-ERROR",
            info={"ref": ref},
        )
    log.error("unexpected error in %s [ref %s]", where, ref, exc_info=exc)
    err = QorusError(
        f"an internal error occurred (ref {ref} in the server log)",
        code="INTERNAL-ERROR",
        info={"ref": ref},
    )
    err.http_status = 500
    return err
