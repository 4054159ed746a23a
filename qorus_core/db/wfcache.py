"""A bounded cache of workflow references (``name``, ``name:version``, id) to the brief that
createOrder needs (id, name, version, keylist), kept correct across nodes and offline loads.

The loader (``oload``, load and delete) changes :data:`STAMP_KEY` in ``system_properties`` in
its own transaction. A cached brief carries the stamp read before it was looked up; the
order's insert returns the stamp of its own statement (a scalar subquery in its RETURNING,
so no extra round trip) and a different one means that definitions changed since the lookup:
:class:`StaleDefinitions` rolls the transaction back and the caller looks up again. On a cache
miss the stamp is read *before* the lookup, so a load committed between the lookup and the
insert is seen by the insert's check too.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.selectable import ScalarSelect

from qorus_core.db import tables as t
from qorus_core.db.refdata import now

STAMP_DOMAIN = "qorus"
STAMP_KEY = "workflow-definitions-stamp"

#: most references kept; the cache is emptied when it is full
MAX_ENTRIES = 1024


class StaleDefinitions(Exception):
    """Workflow definitions changed since the brief used by this transaction was read."""


def stamp_query() -> ScalarSelect[Any]:
    sp = t.system_properties
    return (
        select(sp.c.value)
        .where(sp.c.domain == STAMP_DOMAIN, sp.c.keyname == STAMP_KEY)
        .scalar_subquery()
    )


def read_stamp(conn: Connection) -> str | None:
    sp = t.system_properties
    row = conn.execute(
        select(sp.c.value).where(sp.c.domain == STAMP_DOMAIN, sp.c.keyname == STAMP_KEY)
    ).first()
    return None if row is None else row[0]


def bump_stamp(conn: Connection) -> None:
    """Mark the workflow definitions changed (in the caller's transaction)."""
    sp = t.system_properties
    value, ts = uuid.uuid4().hex, now()
    res = conn.execute(
        update(sp)
        .where(sp.c.domain == STAMP_DOMAIN, sp.c.keyname == STAMP_KEY)
        .values(value=value, modified=ts)
    )
    if res.rowcount == 0:
        conn.execute(
            insert(sp).values(
                domain=STAMP_DOMAIN, keyname=STAMP_KEY, value=value, created=ts, modified=ts
            )
        )


class BriefCache:
    """``(reference, version) -> (brief, stamp)``, thread-safe, at most ``size`` entries."""

    def __init__(self, size: int = MAX_ENTRIES) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._map: dict[tuple[str, str | None], tuple[Any, str | None]] = {}

    def get(self, ref: str, version: str | None) -> tuple[Any, str | None] | None:
        return self._map.get((ref, version))

    def put(self, ref: str, version: str | None, brief: Any, stamp: str | None) -> None:
        with self._lock:
            if any(s != stamp for _, s in self._map.values()):
                self._map.clear()  # one generation at a time
            if len(self._map) >= self.size:
                self._map.clear()
            self._map[(ref, version)] = (brief, stamp)

    def clear(self) -> None:
        with self._lock:
            self._map.clear()

    def __len__(self) -> int:
        return len(self._map)
