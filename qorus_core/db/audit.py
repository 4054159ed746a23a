"""Audit rows: the one insert into ``audit_events`` of the server, of interface code and of the
offline tools, and which audit option code switches each audit event on.

The ``audit`` option lists audit option codes (``system``, ``workflows``, ``workflow-data``,
``jobs``, ``job-data``, ``services``, ``api``, ``user-events``, ``oload``, ``alerts``,
``groups``, or ``*`` for all of them; ``api-read`` must be named on its own). A row is written
only when the code of its event is enabled (:data:`OPTION_OF_EVENT`).

A change to the database and its audit row commit together: a data function that changes
what is audited (an order's status, a new order, a recovery) writes the row in its own
transaction through the **audit trail in force** (:func:`current`), an :class:`AuditTrail`
that says which codes are on and who, from where and why the change is made. The server sets
it for the length of an API call (the caller's name, address and request) and once for each
engine thread (``Qorus`` and the node); with no trail in force nothing is audited.
"""

from __future__ import annotations

import functools
import getpass
import json
import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.db.refdata import AUDIT_CODE_BY_NAME, now
from qorus_core.secrets import mask_secrets

#: audit event name -> the audit option code that switches it on (as the reference's
#: audit options document them)
OPTION_OF_EVENT: dict[str, str] = {
    "SYSTEM-STARTUP": "system",
    "SYSTEM-SHUTDOWN": "system",
    "SYSTEM-RECOVERY-START": "system",
    "SYSTEM-RECOVERY-COMPLETE": "system",
    "WORKFLOW-START": "workflows",
    "WORKFLOW-STOP": "workflows",
    "WORKFLOW-STATUS-CHANGE": "workflow-data",
    "WORKFLOW-DATA-CREATED": "workflow-data",
    "JOB-START": "jobs",
    "JOB-STOP": "jobs",
    "JOB-INSTANCE-START": "job-data",
    "JOB-INSTANCE-STOP": "job-data",
    "JOB-RECOVERY": "job-data",
    "SERVICE-START": "services",
    "SERVICE-STOP": "services",
    "API-CALL": "api",
    "USER-EVENT": "user-events",
    "SOURCE-FILE-LOADED": "oload",
    "ALERT-ONGOING-RAISED": "alerts",
    "ALERT-ONGOING-CLEARED": "alerts",
    "ALERT-TRANSIENT-RAISED": "alerts",
    "GROUP-STATUS-CHANGED": "groups",
}

#: what ``*`` enables: every code above (``api-read``, auditing every read, is named alone)
ALL_CODES = frozenset(OPTION_OF_EVENT.values())

#: the longest text a column takes
MAX_TEXT = 4000


def audit_codes(value: object) -> frozenset[str]:
    """The ``audit`` option's value (a list, or text with commas) as option codes, ``*``
    expanded."""
    if value is None:
        return frozenset()
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return _cached_codes(tuple(value))
    if isinstance(value, str):
        return _cached_codes(value)
    return _codes(value)


@functools.lru_cache(maxsize=64)  # asked on every audited call; the option rarely changes
def _cached_codes(value: str | tuple[str, ...]) -> frozenset[str]:
    return _codes(value)


def _codes(value: object) -> frozenset[str]:
    items = value if isinstance(value, list | tuple | set | frozenset) else str(value).split(",")
    codes = {str(c).strip() for c in items} - {""}
    if "*" in codes:
        codes = (codes - {"*"}) | ALL_CODES
    return frozenset(codes)


def text(value: Any) -> str | None:
    """A column's text: secrets masked (before the cut, so no half secret survives), other
    values as JSON, at most :data:`MAX_TEXT` characters."""
    if value is None:
        return None
    value = mask_secrets(value)
    out = value if isinstance(value, str) else json.dumps(value, default=str)
    return out[:MAX_TEXT]


def insert_audit(conn: Connection, event: str, **columns: Any) -> int | None:
    """Insert one audit row of the named event (``SYSTEM-STARTUP``, ``USER-EVENT``, ...) in
    the caller's transaction, stamped now; its id when the driver reports one."""
    res = conn.execute(
        insert(t.audit_events).values(
            audit_event_code=AUDIT_CODE_BY_NAME[event], **columns, created=now()
        )
    )
    pk = res.inserted_primary_key
    return int(pk[0]) if pk and pk[0] is not None else None


def row(
    event: str,
    *,
    reason: Any = None,
    who: Any = None,
    source: Any = None,
    info1: Any = None,
    info2: Any = None,
    user_event: str | None = None,
    related: int | None = None,
    **refs: int | None,
) -> dict[str, Any]:
    """The columns of one row: texts masked and cut; ``refs`` the ids of what it is about
    (``workflowid``, ``workflow_instanceid``, ``stepid``, ``ind``, ``jobid``,
    ``job_instanceid``, ``serviceid``), ``related`` the row it follows up."""
    cols: dict[str, Any] = {
        "audit_event_code": AUDIT_CODE_BY_NAME[event],
        "reason": text(reason),
        "who": text(who),
        "source": text(source),
        "info1": text(info1),
        "info2": text(info2),
    }
    if user_event is not None:
        cols["audit_user_event"] = str(user_event)[:80]
    if related is not None:
        cols["related_audit_eventid"] = related
    for k, v in refs.items():
        if k not in t.audit_events.c:
            raise TypeError(f"audit_events has no column {k!r}")
        if v is not None:
            cols[k] = v
    return cols


def write(conn: Connection, event: str, **kw: Any) -> int | None:
    """Insert one row (:func:`row`'s arguments) in the caller's transaction, whatever the
    option says; its id."""
    cols = row(event, **kw)
    cols.pop("audit_event_code")
    return insert_audit(conn, event, **cols)


def write_many(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert rows made by :func:`row` with one statement in the caller's transaction."""
    if not rows:
        return
    ts = now()
    keys = sorted({k for r in rows for k in r})
    conn.execute(
        insert(t.audit_events), [{**dict.fromkeys(keys), **r, "created": ts} for r in rows]
    )


class OptionCodes:
    """The audit codes enabled now by an options store (read on every question: the
    ``audit`` option may change while the system runs)."""

    def __init__(self, options: Any) -> None:
        self.options = options
        self._raw: object = object()
        self._codes: frozenset[str] = frozenset()

    def get(self) -> frozenset[str]:
        raw = self.options.get("audit")
        if raw is not self._raw:
            self._codes, self._raw = audit_codes(raw), raw
        return self._codes


@dataclass(frozen=True)
class AuditTrail:
    """Which audit codes are on (``codes``) and who makes the changes audited under it, from
    where and why: the ``who``, ``source`` and ``reason`` of its rows."""

    codes: OptionCodes | frozenset[str]
    who: str | None = None
    source: str | None = None
    reason: str | None = None

    def enabled(self) -> frozenset[str]:
        return self.codes.get() if isinstance(self.codes, OptionCodes) else self.codes

    def wants(self, event: str) -> bool:
        return OPTION_OF_EVENT[event] in self.enabled()

    def but(self, **changes: Any) -> AuditTrail:
        """The same trail with other ``who``, ``source`` or ``reason``."""
        return replace(self, **changes)

    def row(self, event: str, **kw: Any) -> dict[str, Any]:
        kw.setdefault("reason", self.reason)
        kw.setdefault("who", self.who)
        kw.setdefault("source", self.source)
        return row(event, **kw)

    def write(self, conn: Connection, event: str, **kw: Any) -> int | None:
        """Write the row in the caller's transaction when its code is on; its id."""
        if not self.wants(event):
            return None
        cols = self.row(event, **kw)
        cols.pop("audit_event_code")
        return insert_audit(conn, event, **cols)

    def status_changes(
        self,
        conn: Connection,
        changes: list[tuple[int, int, str | None, str]],
        reason: str | None = None,
    ) -> None:
        """WORKFLOW-STATUS-CHANGE rows, one per ``(workflowid, workflow_instanceid, old,
        new)`` (the one-letter status codes in ``info1`` and ``info2``), one statement."""
        if not changes or not self.wants("WORKFLOW-STATUS-CHANGE"):
            return
        extra = {} if reason is None else {"reason": reason}
        write_many(
            conn,
            [
                self.row(
                    "WORKFLOW-STATUS-CHANGE",
                    workflowid=wfid,
                    workflow_instanceid=wfiid,
                    info1=old,
                    info2=new,
                    **extra,
                )
                for wfid, wfiid, old, new in changes
            ],
        )


_CURRENT: ContextVar[AuditTrail | None] = ContextVar("qorus_audit_trail", default=None)


def current() -> AuditTrail | None:
    """The audit trail in force in this thread or task (None: nothing is audited)."""
    return _CURRENT.get()


@contextmanager
def using(trail: AuditTrail | None) -> Iterator[AuditTrail | None]:
    """Make ``trail`` the one in force until the block ends."""
    token = _CURRENT.set(trail)
    try:
        yield trail
    finally:
        _CURRENT.reset(token)


def set_for_thread(trail: AuditTrail | None) -> None:
    """Make ``trail`` the one in force for the rest of this thread (engine workers, service
    and job threads: each starts with an empty context)."""
    _CURRENT.set(trail)


def status_change(
    conn: Connection,
    order: Mapping[str, Any],
    new: str,
    reason: str | None = None,
) -> None:
    """The WORKFLOW-STATUS-CHANGE row of one order (``workflowid``, ``workflow_instanceid``,
    ``workflowstatus``: its status before) under the trail in force."""
    trail = current()
    if trail is None or order["workflowstatus"] == new:
        return
    trail.status_changes(
        conn,
        [
            (
                int(order["workflowid"]),
                int(order["workflow_instanceid"]),
                order["workflowstatus"],
                str(new),
            )
        ],
        reason,
    )


def group_status_changed(conn: Connection, name: str, enabled: bool) -> None:
    """The GROUP-STATUS-CHANGED row of interface group ``name`` (``info1``) now ``enabled``
    or ``disabled`` (``info2``), in the caller's transaction, under the trail in force."""
    trail = current()
    if trail is not None:
        trail.write(
            conn,
            "GROUP-STATUS-CHANGED",
            info1=name,
            info2="enabled" if enabled else "disabled",
        )


def unix_who() -> str:
    """``who`` of a row written for the UNIX user running this process."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"UNIX: user {user}"


def offline_trail(options: Any, tool: str) -> AuditTrail:
    """The trail of an offline tool (``oload``, ``user-tool``): the UNIX user, the host and
    the tool's process."""
    return AuditTrail(
        audit_codes(options.get("audit")),
        who=unix_who(),
        source=socket.gethostname(),
        reason=f"{tool} pid {os.getpid()}",
    )
