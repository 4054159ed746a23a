"""Connections that hold the server without sending a request are closed.

uvicorn's h11 protocol waits for a request's headers for ever: a client that opens a
connection and sends nothing, or one header byte every few seconds ("slowloris"), keeps its
socket and its file descriptor. The protocol here adds two guards to each connection:

- a deadline for the request headers, counted from the moment the connection opens (or its
  first byte of a later request arrives) and *not* moved by more bytes arriving: past
  ``http-header-timeout`` seconds the client gets ``408 Request Timeout`` and is closed;
- a cap on the open connections of the listener (``http-max-connections``): a connection over
  it gets ``503 Service Unavailable`` at once and is closed, before any of it is read.

An idle keep-alive connection between requests is closed by uvicorn's own keep-alive timeout.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("uvicorn.error")

_TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: 37\r\n\r\nthe request headers came too slowly.\n"
)
_FULL_ANSWER = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: 33\r\n\r\ntoo many connections; try later.\n"
)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a request-header deadline and a connection cap."""

    header_timeout: float = 10.0
    max_connections: int = 1000

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._header_timer: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if len(self.connections) >= self.max_connections:
            self._refused = True
            assert isinstance(transport, asyncio.Transport)
            log.warning("connection refused: %d connections open", len(self.connections))
            transport.write(_FULL_ANSWER)
            transport.close()
            return
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._refused:
            return
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        if self._awaiting_headers():
            if self._header_timer is None:  # the first byte of a later request
                self._arm()
        else:
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # between requests uvicorn's keep-alive timeout applies; the deadline starts again
        # with the next request's first byte (data_received)
        self._disarm()

    def _awaiting_headers(self) -> bool:
        return not self.transport.is_closing() and self.conn.their_state is h11.IDLE

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._header_timeout)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout(self) -> None:
        self._header_timer = None
        if self._awaiting_headers():
            self.transport.write(_TIMEOUT_ANSWER)
            self.transport.close()


def guarded_protocol(header_timeout: float, max_connections: int) -> type[GuardedH11Protocol]:
    """The protocol class of one listener, with its limits."""
    return type(
        "GuardedH11Protocol",
        (GuardedH11Protocol,),
        {"header_timeout": float(header_timeout), "max_connections": int(max_connections)},
    )
