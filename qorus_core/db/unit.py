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
    ) -> Any: ...


ConnOrEngine = Connection | Engine
PendingEvents = list[tuple[str, dict[str, Any]]]


@contextmanager
def unit(
    target: ConnOrEngine, events: EventSink | None
) -> Iterator[tuple[Connection, PendingEvents]]:
    """Yield a connection in a transaction and a list of events to post once it is done."""
    pending: PendingEvents = []
    if isinstance(target, Engine):
        with target.begin() as conn:
            yield conn, pending
    else:
        yield target, pending
    if events is not None:
        for name, info in pending:
            events.post(name, info, caller="engine")


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
