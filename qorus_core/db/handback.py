"""Orders a live session holds IN-PROGRESS but no longer works on, handed back as RETRY.

Crash recovery only looks at dead sessions. A live node can also lose track of orders: a step
commit or a claim whose COMMIT was cut off by a database failure may or may not have
happened, and the worker that held the order gives it up. Those orders are found here (owned
by the session, IN-PROGRESS, not among the orders the process says it still holds) and become
RETRY, due at once, exactly as crash recovery leaves them: the engine then runs
``validation()`` before ``primary()`` for every step whose last run may have had effects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from qorus_core.db import audit
from qorus_core.db import tables as t
from qorus_core.db.sessions import IN_PROGRESS, RETRY, RecoveryResult, retry_orders

wi = t.workflow_instance


def owned_in_progress(conn: Connection, sessionid: int) -> list[int]:
    """The ids of the session's IN-PROGRESS orders (a plain read; see :func:`hand_back`)."""
    return [
        int(r[0])
        for r in conn.execute(
            select(wi.c.workflow_instanceid).where(
                wi.c.workflowstatus == IN_PROGRESS, wi.c.status_sessionid == sessionid
            )
        )
    ]


def hand_back(
    conn: Connection, sessionid: int, ids: Iterable[int], held: Callable[[int], bool]
) -> tuple[RecoveryResult, list[int]]:
    """Turn the given orders to RETRY in the caller's transaction, if they are still the
    session's and IN-PROGRESS and ``held`` says nobody in the process works on them; what
    was done and the ids of the orders handed back.

    The rows are locked first and ``held`` is asked only then: an order claimed again in the
    meantime was registered as held before its claim committed, so it is seen and kept.
    """
    res = RecoveryResult(sessionid)
    owned = and_(wi.c.status_sessionid == sessionid, wi.c.workflowstatus == IN_PROGRESS)
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return res, []
    rows = conn.execute(
        select(wi.c.workflow_instanceid, wi.c.workflowid)
        .where(owned, wi.c.workflow_instanceid.in_(wanted))
        .with_for_update()
    ).all()
    orphans = []
    for wfiid, wfid in rows:
        if held(int(wfiid)):
            continue
        orphans.append(int(wfiid))
        res.order_ids.append((int(wfid), int(wfiid)))
        res.workflows[int(wfid)] = res.workflows.get(int(wfid), 0) + 1
    retry_orders(conn, sessionid, orphans, res)
    trail = audit.current()
    if trail is not None:
        trail.status_changes(
            conn,
            [(wfid, wfiid, IN_PROGRESS, RETRY) for wfid, wfiid in res.order_ids],
            reason="handed back after a database error",
        )
    return res, orphans


def count_stuck(conn: Connection, before: datetime) -> int:
    """How many orders (of any session) have been IN-PROGRESS since before ``before``."""
    return int(
        conn.execute(
            select(func.count())
            .select_from(wi)
            .where(wi.c.workflowstatus == IN_PROGRESS, wi.c.modified < before)
        ).scalar_one()
    )
