"""Audit rows: the one insert into ``audit_events`` of the server and of interface code.

What goes into a row (masking, the option that switches a category on) is the caller's
business; the statement is here so that ``qorus_server`` builds none.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.db.refdata import AUDIT_CODE_BY_NAME, now


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
