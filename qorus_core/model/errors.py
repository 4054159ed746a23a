"""Exceptions that carry a Qorus error code, so every layer reports the same names."""

from __future__ import annotations

from typing import Any


class QorusError(Exception):
    """An error with a Qorus error code (``DUPLICATE-ORDER-KEY``, ``AUTHORIZATION-ERROR``, ...).

    ``http_status`` is what the REST layer answers when the error escapes an operation;
    409 is the Qorus convention for an error raised by an operation.
    """

    code: str = "GENERAL-ERROR"
    http_status: int = 409

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
