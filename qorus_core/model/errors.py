"""Exceptions that carry a Qorus error code, so every layer reports the same names.

Errors come in families, one exception type each (:data:`ERROR_FAMILIES`): the family fixes
the HTTP status REST answers and the fault code the RPC gateways (JSON-RPC, XML-RPC,
YAML-RPC) answer, so a new gateway maps errors from this one table and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class QorusError(Exception):
    """An error with a Qorus error code (``DUPLICATE-ORDER-KEY``, ``AUTHORIZATION-ERROR``, ...).

    ``http_status`` is what the REST layer answers when the error escapes an operation;
    409 is the Qorus convention for an error raised by an operation.
    """

    code: str = "GENERAL-ERROR"
    http_status: int = 409
    #: seconds after which the client may try again (a ``Retry-After`` header), if any
    retry_after: int | None = None
    #: the HTTP methods that would have worked (an ``Allow`` header on a 405)
    allow: tuple[str, ...] = ()
    #: an RPC fault code of its own instead of the family's: only the errors of the RPC
    #: protocols themselves (parse error, invalid request, method not found)
    rpc_fault: int | None = None

    def __init__(self, desc: str, *, code: str | None = None, info: Any = None) -> None:
        super().__init__(desc)
        if code is not None:
            self.code = code
        self.desc = desc
        self.info = info

    def __str__(self) -> str:
        return f"{self.code}: {self.desc}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"err": self.code, "desc": self.desc}
        if self.info is not None:
            out["info"] = self.info
        return out


class OptionError(QorusError):
    """A bad options file, option name or option value."""

    code = "OPTION-ERROR"


class DatasourceError(QorusError):
    """The system datasource cannot be parsed or opened."""

    code = "DATASOURCE-ERROR"


class SchemaError(QorusError):
    """The system schema is missing, too old or too new."""

    code = "SCHEMA-ERROR"


class NotFoundError(QorusError):
    """An object named by the caller does not exist."""

    code = "NOT-FOUND"
    http_status = 404


class ValidationError(QorusError):
    """Arguments that do not make sense (HTTP 400)."""

    code = "INVALID-ARGUMENT"
    http_status = 400


class AuthorizationError(QorusError):
    """The caller lacks a permission (HTTP 403)."""

    code = "AUTHORIZATION-ERROR"
    http_status = 403


class AuthenticationError(QorusError):
    """A failed login (HTTP 401)."""

    code = "AUTHENTICATION-ERROR"
    http_status = 401


class MethodNotAllowedError(QorusError):
    """The resource exists but not with this method (HTTP 405)."""

    code = "METHOD-NOT-ALLOWED"
    http_status = 405


class RequestTimeoutError(QorusError):
    """The request did not arrive in time (HTTP 408)."""

    code = "REQUEST-TIMEOUT"
    http_status = 408


class TooLargeError(QorusError):
    """The request is larger than the server takes (HTTP 413)."""

    code = "REQUEST-TOO-LARGE"
    http_status = 413


class UnsupportedMediaError(QorusError):
    """The request is encoded in a way the server cannot read (HTTP 415)."""

    code = "UNSUPPORTED-MEDIA-TYPE"
    http_status = 415


class ThrottledError(QorusError):
    """Too many attempts; try again after ``retry_after`` seconds (HTTP 429)."""

    code = "THROTTLED"
    http_status = 429


class InternalError(QorusError):
    """A fault of the server itself; details only in the server log (HTTP 500)."""

    code = "INTERNAL-ERROR"
    http_status = 500


class UnavailableError(QorusError):
    """The server cannot serve this now (overloaded, shutting down) but may later (HTTP 503)."""

    code = "SERVICE-UNAVAILABLE"
    http_status = 503


# The RPC protocols' own errors, with the fault codes of JSON-RPC 2.0 (which the XML-RPC fault
# code interoperability convention shares); invalid params are the ValidationError family's
# -32602. Over HTTP they are answered like their family (400, 404).


class RpcParseError(ValidationError):
    """An RPC request body that cannot be parsed, or is refused while parsing (too deep)."""

    code = "PARSE-ERROR"
    rpc_fault = -32700


class RpcInvalidRequestError(ValidationError):
    """A parsed RPC request that is not a well-formed call (no method name, a bad id)."""

    code = "INVALID-REQUEST"
    rpc_fault = -32600


class RpcMethodNotFoundError(NotFoundError):
    """An RPC method name that names no operation."""

    code = "NO-SUCH-METHOD"
    rpc_fault = -32601


@dataclass(frozen=True)
class ErrorFamily:
    """One family of Qorus errors: its exception type, HTTP status and RPC fault code."""

    type: type[QorusError]
    http_status: int
    rpc_fault: int


#: Every family: the ONE table of HTTP statuses and RPC fault codes (JSON-RPC's range of
#: server-defined errors, also used as XML-RPC faultCode). A QorusError answers the family
#: of its ``http_status``; an unknown status answers the general family's fault code. The
#: RPC protocols' own errors carry their standard codes (:class:`RpcParseError`, ...).
ERROR_FAMILIES: tuple[ErrorFamily, ...] = (
    ErrorFamily(QorusError, 409, -32000),
    ErrorFamily(ValidationError, 400, -32602),
    ErrorFamily(AuthenticationError, 401, -32001),
    ErrorFamily(AuthorizationError, 403, -32003),
    ErrorFamily(NotFoundError, 404, -32004),
    ErrorFamily(MethodNotAllowedError, 405, -32005),
    ErrorFamily(RequestTimeoutError, 408, -32008),
    ErrorFamily(TooLargeError, 413, -32013),
    ErrorFamily(UnsupportedMediaError, 415, -32015),
    ErrorFamily(ThrottledError, 429, -32029),
    ErrorFamily(InternalError, 500, -32603),
    ErrorFamily(UnavailableError, 503, -32050),
)

_BY_STATUS = {fam.http_status: fam for fam in ERROR_FAMILIES}


def family(exc: QorusError) -> ErrorFamily:
    """The family an error is answered as (by its HTTP status; the general one otherwise)."""
    return _BY_STATUS.get(exc.http_status, ERROR_FAMILIES[0])


def rpc_fault(exc: QorusError) -> int:
    """The RPC fault code of an error: its own (a protocol error), else its family's."""
    return exc.rpc_fault if exc.rpc_fault is not None else family(exc).rpc_fault
