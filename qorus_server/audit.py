"""Audit rows for what the server itself does, written when the ``audit`` option asks for them.

The ``audit`` option lists audit codes (``system``, ``api``, ... or ``*``); an event is written
only when its code is listed. Each row is its own short transaction so that a failing audit
write never undoes the work it describes.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Connection, Engine

from qorus_core.db.audit import insert_audit
from qorus_core.options import Options
from qorus_core.secrets import mask_secrets

# audit event name -> the audit option code that switches it on
CATEGORY = {
    "SYSTEM-STARTUP": "system",
    "SYSTEM-SHUTDOWN": "system",
    "SYSTEM-RECOVERY-START": "system",
    "SYSTEM-RECOVERY-COMPLETE": "system",
    "API-CALL": "api",
    "JOB-START": "jobs",
    "JOB-STOP": "jobs",
    "JOB-INSTANCE-START": "jobs",
    "JOB-INSTANCE-STOP": "jobs",
    "JOB-RECOVERY": "jobs",
    "SERVICE-START": "services",
    "SERVICE-STOP": "services",
}


def enabled(options: Options, category: str) -> bool:
    codes = {str(c) for c in options.get("audit")}
    return "*" in codes or category in codes


def _text(value: Any) -> str | None:
    """A column's text: secrets masked (before the cut, so no half secret survives)."""
    if value is None:
        return None
    value = mask_secrets(value)
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:4000]


def write(
    conn: Connection,
    event: str,
    *,
    reason: str | None = None,
    who: str | None = None,
    source: str | None = None,
    info1: Any = None,
    info2: Any = None,
    related: int | None = None,
    **refs: int | None,
) -> int | None:
    """Insert one audit row in the caller's transaction (no option check); its id.
    ``refs`` are the ids of what the row is about, by column (``jobid``, ``job_instanceid``,
    ``serviceid``, ...; None is left out), ``related`` the row it follows up (a SERVICE-STOP
    names its SERVICE-START)."""
    extra: dict[str, Any] = {k: v for k, v in refs.items() if v is not None}
    if related is not None:
        extra["related_audit_eventid"] = related
    return insert_audit(
        conn,
        event,
        reason=_text(reason),
        who=_text(who),
        source=_text(source),
        info1=_text(info1),
        info2=_text(info2),
        **extra,
    )


class Auditor:
    """Writes audit rows when the option enables them."""

    def __init__(self, engine: Engine, options: Options) -> None:
        self.engine = engine
        self.options = options

    def wants(self, event: str) -> bool:
        return enabled(self.options, CATEGORY.get(event, "system"))

    def event(self, event: str, conn: Connection | None = None, **kw: Any) -> int | None:
        """Write the row when the option asks for it; its id (None when not written)."""
        if not self.wants(event):
            return None
        if conn is not None:
            return write(conn, event, **kw)
        with self.engine.begin() as c:
            return write(c, event, **kw)
