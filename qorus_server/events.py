"""The system event stream: every part of the server posts here; ``/apievents`` and the RPC
``omq.system.get-last-event-id`` / ``get-last-events`` / ``wait-for-events`` read from here.

Events are kept in memory (the last ``max-events``) with ids that increase by one from 1;
posting is thread-safe and cheap so that engine threads can post without slowing step
execution (listeners run in the posting thread and must only hand the event on). Secrets in
an event's info are masked when it is posted.

An event is the reference's hash: ``id``, ``time``, ``class`` / ``classstr``, ``event`` /
``eventstr``, ``severity`` / ``severitystr`` (the error severities: NONE -1, INFO 0, WARNING 1,
MINOR 2, MAJOR 3, FATAL 4), ``caller`` (who caused it: the API call's user, request and
address, or ``<internal>``), ``info``; a user event also has ``userseverity`` /
``userseveritystr``, and every event ``compositeseverity`` / ``compositeseveritystr`` (the
higher of the two).

Filters (:mod:`qorus_server.event_filters`) follow the reference: a criteria list is a
list of hashes whose keys are ``class``, ``classstr``, ``event``, ``eventstr`` (and their
``...hash`` forms: a hash whose keys are the accepted values), ``minseverity``,
``minseveritystr``, ``minuserseverity``, ``minuserseveritystr``, ``mincompositeseverity``,
``mincompositeseveritystr``, ``all``, ``none``, and ours: ``info`` (a hash of info keys and
the values they must have; nested hashes match nested info). "Or" filtering takes an event
that matches every key of any one hash, "and" filtering one that matches some key of every
hash.

Who sees what (:func:`visible`): with RBAC on a caller sees the events of the interfaces its
interface groups hold (workflow, service and job events by id, group events of its groups,
user events of the interface that posted them), system events, and nothing else unless its
roles hold the DEFAULT group.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from qorus_core.db import audit as audit_trail
from qorus_core.secrets import mask_secrets

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from qorus_core.db.unit import EventSink

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

CLASS_NAMES = {v: k for k, v in EVENT_CLASSES.items()}
EVENT_NAMES = {v: k for k, v in EVENT_CODES.items()}

_CLASS_BY_PREFIX = {
    "SYSTEM": "SYSTEM",
    "GROUP": "GROUP",
    "WORKFLOW": "WORKFLOW",
    "SERVICE": "SERVICE",
    "JOB": "JOB",
    "ALERT": "ALERT",
    "USER": "USER",
}

#: the error severities and their order (the reference's ErrorSeverityOrder)
SEVERITIES: dict[str, int] = {
    "NONE": -1,
    "INFO": 0,
    "WARNING": 1,
    "MINOR": 2,
    "MAJOR": 3,
    "FATAL": 4,
}
SEVERITY_NAMES = {v: k for k, v in SEVERITIES.items()}
#: other names callers use for a severity
_SEVERITY_ALIASES = {"DEBUG": "NONE", "ERROR": "MAJOR"}

#: the longest a wait-for-events call waits (ms); a longer timeout is cut to this
MAX_WAIT_MS = 60_000
#: the most criteria hashes of one list, keys of one ``info`` criterion, and its depth


def event_class(eventstr: str) -> str:
    return _CLASS_BY_PREFIX[eventstr.split("_", 1)[0]]


def severity_name(value: object) -> str:
    """A severity's name (NONE, INFO, WARNING, MINOR, MAJOR, FATAL; DEBUG and ERROR as aliases
    of NONE and MAJOR); ValueError otherwise."""
    name = str(value).strip().upper()
    name = _SEVERITY_ALIASES.get(name, name)
    if name not in SEVERITIES:
        raise ValueError(
            f"unknown event severity {str(value)[:40]!r} (use one of {', '.join(SEVERITIES)})"
        )
    return name


@dataclass(frozen=True)
class Event:
    id: int
    time: datetime
    classstr: str
    eventstr: str
    severitystr: str
    caller: Any
    info: dict[str, object] = field(default_factory=dict)
    userseveritystr: str | None = None
    #: the interface that posted a user event (``workflow``, id): who may see it
    scope: tuple[str, int] | None = None

    @property
    def severity(self) -> int:
        return SEVERITIES[self.severitystr]

    @property
    def userseverity(self) -> int | None:
        return None if self.userseveritystr is None else SEVERITIES[self.userseveritystr]

    @property
    def compositeseverity(self) -> int:
        user = self.userseverity
        return self.severity if user is None else max(self.severity, user)

    def as_dict(self) -> dict[str, object]:
        """The event hash as Qorus clients expect it."""
        out: dict[str, object] = {
            "id": self.id,
            "time": self.time.isoformat(),
            "timeus": self.time.microsecond,
            "class": EVENT_CLASSES[self.classstr],
            "classstr": self.classstr,
            "event": EVENT_CODES[self.eventstr],
            "eventstr": self.eventstr,
            "severity": self.severity,
            "severitystr": self.severitystr,
            "caller": self.caller,
            "info": self.info,
        }
        if self.userseveritystr is not None:
            out["userseverity"] = self.userseverity
            out["userseveritystr"] = self.userseveritystr
        comp = self.compositeseverity
        out["compositeseverity"] = comp
        out["compositeseveritystr"] = SEVERITY_NAMES[comp]
        return out


Listener = Callable[[Event], None]


def _caller(component: str) -> dict[str, object]:
    """Who causes the event being posted: the API call in force (its user, request and
    address), else the server itself."""
    trail = audit_trail.current()
    if trail is None or (trail.who == "Qorus" and trail.reason is None):
        return {"user": "<internal>", "api": component or "internal"}
    return {"user": trail.who, "api": trail.reason, "source": trail.source}


class EventBus:
    """In-memory ring of recent events with listeners and a blocking wait."""

    def __init__(self, max_events: int = 10000) -> None:
        self.max_events = max(1, int(max_events))
        self._events: deque[Event] = deque(maxlen=self.max_events)
        self._next_id = 1
        self._cond = threading.Condition()
        self._listeners: list[Listener] = []
        self._shutdown = False
        self._health = "GREEN"

    def post(
        self,
        eventstr: str,
        info: Mapping[str, object] | None = None,
        *,
        severity: str = "INFO",
        caller: str = "",
        user_severity: str | None = None,
        scope: tuple[str, int] | None = None,
        safe: bool = False,
    ) -> Event:
        """Post an event; ``safe``: ``info`` holds only names, ids and statuses the engine
        made (nothing a password could hide in), so it is not searched for secrets."""
        if eventstr not in EVENT_CODES:
            raise ValueError(f"unknown system event {eventstr!r}")
        sev = severity_name(severity)
        usev = None if user_severity is None else severity_name(user_severity)
        who = _caller(caller)
        masked = (dict(info) if safe else mask_secrets(dict(info))) if info else {}
        with self._cond:
            ev = Event(
                self._next_id,
                datetime.now(UTC),
                event_class(eventstr),
                eventstr,
                sev,
                who,
                masked,
                usev,
                scope,
            )
            self._next_id += 1
            self._events.append(ev)
            listeners = list(self._listeners)
            self._cond.notify_all()
        for listener in listeners:
            listener(ev)
        return ev

    def health(self, value: str, info: Mapping[str, object] | None = None) -> None:
        """Note the system's health now (GREEN, YELLOW or RED); SYSTEM_HEALTH_CHANGED when
        it is not what it was (the system starts GREEN)."""
        with self._cond:
            old = self._health
            if old == value:
                return
            self._health = value
        self.post(
            "SYSTEM_HEALTH_CHANGED",
            {"health": value, "old-health": old, **(info or {})},
            severity="MAJOR",
            caller="health",
        )

    @property
    def current_health(self) -> str:
        with self._cond:
            return self._health

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

    @property
    def stopping(self) -> bool:
        return self._shutdown

    def shutdown(self) -> None:
        """The system is shutting down: every wait ends now (answering ``shutdown``), and
        waits that start later return at once; posting goes on."""
        with self._cond:
            self._shutdown = True
            self._cond.notify_all()

    def since(self, min_id: int, limit: int | None = None) -> list[Event]:
        """Events with ``id > min_id``, oldest first."""
        with self._cond:
            out = self._after(min_id)
        return out[:limit] if limit else out

    def _after(self, min_id: int) -> list[Event]:
        """Events with ``id > min_id`` (under the lock): the ids are consecutive, so the
        position of the first one is known."""
        if not self._events:
            return []
        first = self._events[0].id
        start = max(0, min_id + 1 - first)
        if start >= len(self._events):
            return []
        if start == 0:
            return list(self._events)
        return [self._events[i] for i in range(start, len(self._events))]

    def last(self, count: int) -> list[Event]:
        with self._cond:
            n = len(self._events)
            if count <= 0:
                return []
            return [self._events[i] for i in range(max(0, n - count), n)]

    def wait_for_events(self, min_id: int, timeout: float) -> list[Event]:
        """Block until an event newer than ``min_id`` exists or ``timeout`` seconds pass."""
        with self._cond:
            self._cond.wait_for(
                lambda: self._next_id - 1 > min_id or self._shutdown, timeout=timeout
            )
        return self.since(min_id)

    def query(
        self,
        min_id: int,
        timeout: float,
        accept: Callable[[Event], bool] | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """The reference's answer of a wait: ``{lastid, events}`` with the events of id
        ``>= min_id`` that ``accept`` takes (at most ``limit``, the oldest), waiting up to
        ``timeout`` seconds for one; ``shutdown: True`` when the system is shutting down."""
        deadline = time.monotonic() + max(0.0, timeout)
        cursor = max(min_id, 1) - 1
        with self._cond:
            while True:
                new = self._after(cursor)
                cursor = self._next_id - 1
                found = [e for e in new if accept is None or accept(e)]
                if found:
                    return {"lastid": cursor, "events": found[:limit] if limit else found}
                if self._shutdown:
                    return {"lastid": cursor, "shutdown": True}
                left = deadline - time.monotonic()
                if left <= 0:
                    return {"lastid": cursor}
                self._cond.wait(left)


# ---------------------------------------------------------------------- who sees what

_ID_OF = {"WORKFLOW": "workflowid", "SERVICE": "serviceid", "JOB": "jobid"}


def visible(user: Any, event: Event) -> bool:
    """Whether ``user`` (a principal; None when RBAC is off) may see ``event``."""
    if user is None:
        return True
    if getattr(user, "all_interfaces", False):
        return True
    cls = event.classstr
    if cls == "SYSTEM":
        return True
    if cls == "USER":
        if event.scope is None:
            return True
        kind, ident = event.scope
        test = getattr(user, f"sees_{kind}", None)
        return bool(test is not None and test(ident))
    if cls in _ID_OF:
        ref = event.info.get(_ID_OF[cls])
        test = getattr(user, f"sees_{cls.lower()}", None)
        if not isinstance(ref, int) or test is None:
            return False
        return bool(test(ref))
    if cls == "GROUP":
        gid = event.info.get("groupid")
        return isinstance(gid, int) and gid in getattr(user, "group_ids", frozenset())
    return False


def for_user(user: Any, accept: Callable[[Event], bool] | None = None) -> Callable[[Event], bool]:
    """The events ``user`` may see that ``accept`` takes."""
    if accept is None:
        return lambda e: visible(user, e)
    return lambda e: visible(user, e) and accept(e)


# ---------------------------------------------------------------------- shared posters


def group_status_changed(
    conn: Connection,
    events: EventSink | None,
    *,
    name: str,
    groupid: int | None,
    enabled: bool,
    info: Mapping[str, object] | None = None,
) -> None:
    """What a change of an interface group's status records, for every caller that enables or
    disables a group (REST, RPC, user-tool through the server): the GROUP-STATUS-CHANGED
    audit row in the caller's transaction ``conn`` (under the trail in force, when ``groups``
    is audited), and GROUP_STATUS_CHANGED posted to ``events`` (pass the buffer of
    :func:`qorus_core.db.unit.after_commit`, so that it is posted once the change commits)."""
    audit_trail.group_status_changed(conn, name, enabled)
    if events is not None:
        payload: dict[str, object] = dict(info or {})
        payload.update({"name": name, "groupid": groupid, "enabled": bool(enabled)})
        events.post("GROUP_STATUS_CHANGED", payload, severity="MAJOR", caller="groups")
