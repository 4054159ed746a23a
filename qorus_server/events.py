"""The system event stream: every part of the server posts here; `/apievents` and the RPC
``omq.system.get-last-events`` / ``wait-for-events`` read from here.

Events are kept in memory (the last ``max-events``); posting is thread-safe and cheap so that
engine threads can post without slowing step execution. Secrets in an event's info are
masked when it is posted.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from qorus_core.secrets import mask_secrets

EVENT_CLASSES: dict[str, int] = {
    "SYSTEM": 101,
    "WORKFLOW": 102,
    "SERVICE": 103,
    "USER": 104,
    "JOB": 105,
    "ALERT": 106,
    "GROUP": 107,
    "CONNECTION": 108,
}

EVENT_CODES: dict[str, int] = {
    "SYSTEM_STARTUP": 1001,
    "SYSTEM_SHUTDOWN": 1002,
    "SYSTEM_ERROR": 1003,
    "SYSTEM_HEALTH_CHANGED": 1004,
    "GROUP_STATUS_CHANGED": 1101,
    "WORKFLOW_START": 2001,
    "WORKFLOW_STOP": 2002,
    "WORKFLOW_CACHE_RESET": 2003,
    "WORKFLOW_DATA_SUBMITTED": 2004,
    "WORKFLOW_DATA_ERROR": 2005,
    "WORKFLOW_INFO_CHANGED": 2008,
    "WORKFLOW_STATUS_CHANGED": 2009,
    "WORKFLOW_DATA_LOCKED": 2012,
    "WORKFLOW_DATA_UNLOCKED": 2013,
    "WORKFLOW_DATA_UPDATED": 2014,
    "WORKFLOW_RECOVERED": 2016,
    "WORKFLOW_UPDATED": 2017,
    "SERVICE_START": 3001,
    "SERVICE_STOP": 3002,
    "SERVICE_ERROR": 3003,
    "SERVICE_AUTOSTART_CHANGE": 3004,
    "SERVICE_UPDATED": 3006,
    "JOB_START": 4001,
    "JOB_STOP": 4002,
    "JOB_ERROR": 4003,
    "JOB_INSTANCE_START": 4004,
    "JOB_INSTANCE_STOP": 4005,
    "JOB_RECOVERED": 4006,
    "ALERT_ONGOING_RAISED": 5006,
    "ALERT_ONGOING_CLEARED": 5007,
    "ALERT_TRANSIENT_RAISED": 5008,
    "USER_EVENT": 9001,
}

_CLASS_BY_PREFIX = {
    "SYSTEM": "SYSTEM",
    "GROUP": "GROUP",
    "WORKFLOW": "WORKFLOW",
    "SERVICE": "SERVICE",
    "JOB": "JOB",
    "ALERT": "ALERT",
    "USER": "USER",
}

SEVERITIES: dict[str, int] = {"DEBUG": 0, "INFO": 1, "WARNING": 2, "ERROR": 3, "FATAL": 4}


def event_class(eventstr: str) -> str:
    return _CLASS_BY_PREFIX[eventstr.split("_", 1)[0]]


@dataclass(frozen=True)
class Event:
    id: int
    time: datetime
    classstr: str
    eventstr: str
    severitystr: str
    caller: str
    info: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """The event hash as Qorus clients expect it."""
        return {
            "id": self.id,
            "time": self.time.isoformat(),
            "class": EVENT_CLASSES[self.classstr],
            "classstr": self.classstr,
            "event": EVENT_CODES[self.eventstr],
            "eventstr": self.eventstr,
            "severity": SEVERITIES[self.severitystr],
            "severitystr": self.severitystr,
            "caller": self.caller,
            "info": self.info,
        }


Listener = Callable[[Event], None]


class EventBus:
    """In-memory ring of recent events with listeners and a blocking wait."""

    def __init__(self, max_events: int = 10000) -> None:
        self._events: deque[Event] = deque(maxlen=max_events)
        self._next_id = 1
        self._cond = threading.Condition()
        self._listeners: list[Listener] = []

    def post(
        self,
        eventstr: str,
        info: Mapping[str, object] | None = None,
        *,
        severity: str = "INFO",
        caller: str = "",
    ) -> Event:
        if eventstr not in EVENT_CODES:
            raise ValueError(f"unknown system event {eventstr!r}")
        if severity not in SEVERITIES:
            raise ValueError(f"unknown event severity {severity!r}")
        with self._cond:
            ev = Event(
                self._next_id,
                datetime.now(UTC),
                event_class(eventstr),
                eventstr,
                severity,
                caller,
                mask_secrets(info) if info else {},
            )
            self._next_id += 1
            self._events.append(ev)
            listeners = list(self._listeners)
            self._cond.notify_all()
        for listener in listeners:
            listener(ev)
        return ev

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for every new event (from the posting thread); returns unsubscribe."""
        with self._cond:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._cond:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    @property
    def last_id(self) -> int:
        with self._cond:
            return self._next_id - 1

    def since(self, min_id: int, limit: int | None = None) -> list[Event]:
        """Events with ``id > min_id``, oldest first."""
        with self._cond:
            out = [e for e in self._events if e.id > min_id]
        return out[:limit] if limit else out

    def last(self, count: int) -> list[Event]:
        with self._cond:
            return list(self._events)[-count:] if count > 0 else []

    def wait_for_events(self, min_id: int, timeout: float) -> list[Event]:
        """Block until an event newer than ``min_id`` exists or ``timeout`` seconds pass."""
        with self._cond:
            self._cond.wait_for(lambda: self._next_id - 1 > min_id, timeout=timeout)
        return self.since(min_id)
