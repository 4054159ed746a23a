"""A unit of work for data-access functions that take either an Engine or a Connection.

With an Engine the function owns its transaction: it commits, then posts its system events.
With a Connection the caller owns the transaction (and commits); events are posted when the
function returns, so a caller that wants "events after commit" passes the Engine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy.engine import Connection, Engine


class EventSink(Protocol):
    """What the data layer needs of the system event bus (``qorus_server.events.EventBus``)."""

    def post(
        self,
        eventstr: str,
        info: dict[str, Any] | None = None,
        *,
        severity: str = "INFO",
        caller: str = "",
        user_severity: str | None = None,
        scope: tuple[str, int] | None = None,
        safe: bool = False,
    ) -> Any: ...


ConnOrEngine = Connection | Engine


class EventBuffer:
    """Events held until their transaction has committed, then posted in order with their
    severity and caller: the one buffer of the data layer and the server (an event about a
    change that was rolled back must never be seen). It is itself an :class:`EventSink`, so a
    data function given one as ``events`` posts into it."""

    def __init__(self, caller: str = "") -> None:
        #: the caller of events posted without one
        self.caller = caller
        self.events: list[tuple[str, dict[str, Any] | None, str, str, dict[str, Any]]] = []

    def post(
        self,
        eventstr: str,
        info: dict[str, Any] | None = None,
        *,
        severity: str = "INFO",
        caller: str = "",
        user_severity: str | None = None,
        scope: tuple[str, int] | None = None,
        safe: bool = False,
    ) -> None:
        """Hold an event (``user_severity``, ``scope`` and ``safe`` are passed on when given)."""
        extra: dict[str, Any] = {}
        if safe:
            extra["safe"] = True
        if user_severity is not None:
            extra["user_severity"] = user_severity
        if scope is not None:
            extra["scope"] = scope
        self.events.append((eventstr, info, severity, caller or self.caller, extra))

    def append(self, event: tuple[str, dict[str, Any] | None]) -> None:
        """Hold a ``(name, info)`` pair, as the data functions record their events."""
        self.post(event[0], event[1])

    def flush(self, sink: EventSink | None) -> None:
        """Post the held events to ``sink`` (nothing without one) and forget them."""
        events, self.events = self.events, []
        if sink is None:
            return
        for eventstr, info, severity, caller, extra in events:
            sink.post(eventstr, info, severity=severity, caller=caller, **extra)


PendingEvents = EventBuffer


@contextmanager
def unit(
    target: ConnOrEngine, events: EventSink | None
) -> Iterator[tuple[Connection, EventBuffer]]:
    """Yield a connection in a transaction and a buffer of events to post once it is done."""
    pending = EventBuffer(caller="engine")
    if isinstance(target, Engine):
        with target.begin() as conn:
            yield conn, pending
    else:
        yield target, pending
    pending.flush(events)


@contextmanager
def after_commit(
    engine: Engine, events: EventSink | None
) -> Iterator[tuple[Connection, EventBuffer]]:
    """A transaction on ``engine`` and a buffer to pass as ``events`` to the data functions
    run in it; the buffered events are posted once it has committed (never if it fails)."""
    later = EventBuffer()
    with engine.begin() as conn:
        yield conn, later
    later.flush(events)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot store a value of type {type(value).__name__} in order data")


def dumps(data: Any) -> str:
    """Order data as stored: JSON, dates as ISO text."""
    return json.dumps(data, default=_default, separators=(",", ":"))


def loads(text: str | None) -> Any:
    if not text:
        return {}
    return json.loads(text)
