"""From an exception escaping an operation to the Qorus error a client is answered, for every
gateway (REST, JSON-RPC, XML-RPC, YAML-RPC; WebSocket and WebDAV next).

A :class:`~qorus_core.model.errors.QorusError` is answered as it is. Anything else is not the
caller's business: the database's own message (SQL, driver and constraint names, values) and
a Python traceback go to the server log only, under a short reference the answer carries so
that an operator can find the log line. The client gets DB-ERROR (409) when the database
failed and INTERNAL-ERROR (500) for any other fault. A connection pool that stays empty for
``api-pool-timeout`` seconds is an overload, not a failed operation: 503 DB-POOL-EXHAUSTED,
which the client may retry, logged as one line without a traceback.

:func:`error_answer` is the gateway-neutral result: the error, its HTTP status and RPC fault
code (from :data:`~qorus_core.model.errors.ERROR_FAMILIES`), the ``{err, desc[, info]}``
body and the HTTP headers it implies; a gateway only encodes it.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from qorus_core.model.errors import InternalError, QorusError, UnavailableError, rpc_fault

log = logging.getLogger("qorus.http")


class PoolExhaustedError(UnavailableError):
    code = "DB-POOL-EXHAUSTED"


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
    return InternalError(
        f"an internal error occurred (ref {ref} in the server log)", info={"ref": ref}
    )


@dataclass(frozen=True)
class ErrorAnswer:
    """What every gateway answers for one error."""

    error: QorusError
    http_status: int
    rpc_fault: int
    body: dict[str, object]
    headers: dict[str, str] = field(default_factory=dict)


def error_answer(exc: Exception, where: str) -> ErrorAnswer:
    """The answer to ``exc`` raised while serving ``where``."""
    err = to_qorus_error(exc, where)
    headers: dict[str, str] = {}
    status = err.http_status
    if status == 401:
        headers["www-authenticate"] = 'Basic realm="Qorus"'
    if status == 405 and err.allow:
        headers["allow"] = ", ".join(err.allow)
    if err.retry_after is not None:
        headers["retry-after"] = str(err.retry_after)
    return ErrorAnswer(err, status, rpc_fault(err), err.to_dict(), headers)
