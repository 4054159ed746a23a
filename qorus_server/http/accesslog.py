"""Secrets never reach the HTTP access log: query values that may be credentials are masked.

``public/login`` refuses a password in the query (400), but the refused request is still
logged, so the log line must not carry it either. Every value of a ``public/login`` query is
masked, and elsewhere the value of any argument that :func:`qorus_core.secrets.is_secret_key`
names a secret, or that carries a token or other credential.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

from qorus_core.secrets import MASK, is_secret_key

# credentials in a query that are not passwords (is_secret_key covers those)
_CREDENTIAL_NAME = re.compile(r"token|auth|credential|svalue", re.IGNORECASE)
_LOGIN_PATH = re.compile(r"/api/public/login/?$")


def mask_target(target: str) -> str:
    """A request target (path and query) with every secret-looking query value masked."""
    path, sep, query = target.partition("?")
    if not sep:
        return target
    every = _LOGIN_PATH.search(path) is not None
    parts = []
    for item in re.split(r"([&;])", query):
        if item in ("&", ";"):
            parts.append(item)
            continue
        name, eq, value = item.partition("=")
        key = unquote_plus(name)
        if eq and value and (every or is_secret_key(key) or _CREDENTIAL_NAME.search(key)):
            value = MASK
        parts.append(f"{name}{eq}{value}")
    return f"{path}?{''.join(parts)}"


class MaskQueryFilter(logging.Filter):
    """On ``uvicorn.access``: its records carry the request target as their third argument."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], mask_target(args[2]), *args[3:])
        return True


class MaskWebSocketFilter(logging.Filter):
    """On ``uvicorn.error``: its WebSocket handshake lines (``'%s - "WebSocket %s" ...'``)
    carry the request target as their second argument (``/log?token=...``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if (
            isinstance(record.msg, str)
            and '"WebSocket %s"' in record.msg
            and isinstance(args, tuple)
            and len(args) >= 2
            and isinstance(args[1], str)
        ):
            record.args = (args[0], mask_target(args[1]), *args[2:])
        return True


def install(logger_name: str = "uvicorn.access") -> None:
    """Add the filters once to the access logger and to the logger of WebSocket handshakes
    (idempotent: every listener calls it)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, MaskQueryFilter) for f in logger.filters):
        logger.addFilter(MaskQueryFilter())
    ws_logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, MaskWebSocketFilter) for f in ws_logger.filters):
        ws_logger.addFilter(MaskWebSocketFilter())
