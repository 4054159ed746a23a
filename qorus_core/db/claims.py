"""Claiming due orders for an execution instance, and handing back unstarted ones.

One transaction claims a batch: due orders of the workflow (READY, SCHEDULED whose date has
come, RETRY whose retry trigger has come) by priority then id, marked IN-PROGRESS with the
session id, with their data and step rows read in the same transaction. PostgreSQL and MariaDB
use ``FOR UPDATE SKIP LOCKED`` so several nodes share one database; SQLite's ``BEGIN
IMMEDIATE`` already makes the claim exclusive (see :mod:`qorus_core.db.dialects`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Connection, Engine

from qorus_core.db import audit, sensitive
from qorus_core.db import tables as t
from qorus_core.db.dialects import dialect_for
from qorus_core.db.refdata import now
from qorus_core.model.status import OrderStatus as S

wi = t.workflow_instance
oi = t.order_instance
si = t.step_instance
sgi = t.segment_instance

#: the statuses of orders whose steps wait; due once their retry trigger passes
WAITING = (S.ASYNC_WAITING, S.EVENT_WAITING, S.WAITING)


@dataclass
class StepRow:
    status: str
    retries: int
    skip: bool = False
    custom_status: str | None = None
    exists: bool = True


@dataclass
class ClaimedOrder:
    workflow_instanceid: int
    status: str  # the status before the claim (Y, S or R)
    priority: int
    parent_workflow_instanceid: int | None
    external_order_instanceid: str | None = None
    staticdata: dict[str, Any] = field(default_factory=dict)
    dynamicdata: dict[str, Any] = field(default_factory=dict)
    steps: dict[tuple[int, int], StepRow] = field(default_factory=dict)
    has_sensitive: bool = False
    #: the segment instances recorded so far: segmentid -> status code
    segments: dict[int, str] = field(default_factory=dict)


def _load(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def claim_batch(
    conn: Connection, workflowid: int, sessionid: int, limit: int
) -> list[ClaimedOrder]:
    """Claim up to ``limit`` due orders in the caller's transaction; their data come along."""
    ts = now()
    due = or_(
        wi.c.workflowstatus == S.READY,
        and_(wi.c.workflowstatus == S.SCHEDULED, wi.c.scheduled <= ts),
        and_(
            wi.c.workflowstatus == S.RETRY,
            or_(wi.c.retry_trigger.is_(None), wi.c.retry_trigger <= ts),
        ),
        # waiting orders whose wait ended (or whose async_delay passed)
        and_(wi.c.workflowstatus.in_(WAITING), wi.c.retry_trigger <= ts),
    )
    q = (
        select(
            wi.c.workflow_instanceid,
            wi.c.workflowstatus,
            wi.c.priority,
            wi.c.parent_workflow_instanceid,
        )
        .where(
            wi.c.workflowid == workflowid,
            wi.c.status_sessionid == 0,
            # synchronous orders run in the caller's thread (engine.sync), never here
            wi.c.synchronous.is_(False),
            due,
        )
        .order_by(wi.c.priority, wi.c.workflow_instanceid)
        .limit(limit)
    )
    rows = conn.execute(dialect_for(conn).claim_rows(q)).all()
    if not rows:
        return []
    orders = {int(r[0]): ClaimedOrder(int(r[0]), r[1], int(r[2]), r[3] and int(r[3])) for r in rows}
    ids = list(orders)
    conn.execute(
        update(wi)
        .where(wi.c.workflow_instanceid.in_(ids))
        .values(
            workflowstatus=S.IN_PROGRESS,
            status_sessionid=sessionid,
            modified=ts,
            # a wait that ends while the order runs sets it again (see waits.wake_order)
            retry_trigger=None,
        )
    )
    _audit_claims(conn, workflowid, list(orders.values()))
    _read_data(conn, orders)
    return [orders[i] for i in ids]


def _audit_claims(conn: Connection, workflowid: int, claimed: list[ClaimedOrder]) -> None:
    """The WORKFLOW-STATUS-CHANGE rows of a claim (old status -> IN-PROGRESS) in its
    transaction, one statement; none (not even a question to the database) when no trail is
    in force or ``workflow-data`` is not audited."""
    trail = audit.current()
    if trail is not None:
        trail.status_changes(
            conn,
            [(workflowid, o.workflow_instanceid, o.status, S.IN_PROGRESS) for o in claimed],
        )


def claim_order(conn: Connection, wfiid: int, sessionid: int) -> ClaimedOrder | None:
    """Claim one given order if it is due and unowned (a synchronous execution); its data, or
    None when it is not due (a RETRY waiting for its trigger, another status, owned)."""
    ts = now()
    q = select(
        wi.c.workflow_instanceid,
        wi.c.workflowstatus,
        wi.c.priority,
        wi.c.parent_workflow_instanceid,
        wi.c.workflowid,
    ).where(
        wi.c.workflow_instanceid == wfiid,
        wi.c.status_sessionid == 0,
        or_(
            wi.c.workflowstatus == S.READY,
            and_(
                wi.c.workflowstatus == S.RETRY,
                or_(wi.c.retry_trigger.is_(None), wi.c.retry_trigger <= ts),
            ),
            and_(wi.c.workflowstatus.in_(WAITING), wi.c.retry_trigger <= ts),
        ),
    )
    r = conn.execute(dialect_for(conn).lock_rows(q)).first()
    if r is None:
        return None
    order = ClaimedOrder(int(r[0]), r[1], int(r[2]), r[3] and int(r[3]))
    conn.execute(
        update(wi)
        .where(wi.c.workflow_instanceid == wfiid)
        .values(
            workflowstatus=S.IN_PROGRESS,
            status_sessionid=sessionid,
            modified=ts,
            retry_trigger=None,
        )
    )
    _audit_claims(conn, int(r[4]), [order])
    _read_data(conn, {order.workflow_instanceid: order})
    return order


def _read_data(conn: Connection, orders: dict[int, ClaimedOrder]) -> None:
    """Fill in the claimed orders' data and the step rows of those that ran before."""
    ids = list(orders)
    for wfiid, ext, static, dynamic in conn.execute(
        select(
            oi.c.workflow_instanceid,
            oi.c.external_order_instanceid,
            oi.c.staticdata,
            oi.c.dynamicdata,
        ).where(oi.c.workflow_instanceid.in_(ids))
    ):
        o = orders[int(wfiid)]
        o.external_order_instanceid = ext
        o.staticdata = _load(static)
        o.dynamicdata = _load(dynamic)
    for wfiid in sensitive.orders_with_data(conn, ids):
        orders[wfiid].has_sensitive = True
    # fresh orders have no step rows; only look for those that ran before
    again = [i for i, o in orders.items() if o.status not in (S.READY, S.SCHEDULED)]
    if again:
        for wfiid, stepid, ind, status, retries, skip, custom in conn.execute(
            select(
                si.c.workflow_instanceid,
                si.c.stepid,
                si.c.ind,
                si.c.stepstatus,
                si.c.retries,
                si.c.skip,
                si.c.custom_status,
            ).where(si.c.workflow_instanceid.in_(again))
        ):
            orders[int(wfiid)].steps[(int(stepid), int(ind))] = StepRow(
                status, int(retries), bool(skip), custom
            )
        for wfiid, segid, status in conn.execute(
            select(sgi.c.workflow_instanceid, sgi.c.segmentid, sgi.c.segmentstatus).where(
                sgi.c.workflow_instanceid.in_(again)
            )
        ):
            orders[int(wfiid)].segments[int(segid)] = status


def release(engine: Engine, sessionid: int, claimed: list[ClaimedOrder]) -> int:
    """Give claimed but unstarted orders back with the status they had; returns how many."""
    if not claimed:
        return 0
    with engine.begin() as conn:
        return release_orders(conn, sessionid, claimed)


def release_orders(conn: Connection, sessionid: int, claimed: list[ClaimedOrder]) -> int:
    """:func:`release` in the caller's transaction (safe to repeat: only orders still
    IN-PROGRESS under ``sessionid`` change)."""
    by_status: dict[str, list[int]] = {}
    for o in claimed:
        by_status.setdefault(o.status, []).append(o.workflow_instanceid)
    count = 0
    ts = now()
    for status, ids in by_status.items():
        count += conn.execute(
            update(wi)
            .where(
                wi.c.workflow_instanceid.in_(ids),
                wi.c.status_sessionid == sessionid,
                wi.c.workflowstatus == S.IN_PROGRESS,
            )
            .values(
                workflowstatus=status,
                status_sessionid=0,
                modified=ts,
                # the claim cleared the trigger: a waiting order given back is due again
                **({"retry_trigger": ts} if status in WAITING else {}),
            )
        ).rowcount
    trail = audit.current()
    if trail is not None and count and trail.wants("WORKFLOW-STATUS-CHANGE"):
        ids = [o.workflow_instanceid for o in claimed]
        wfids = dict(
            conn.execute(
                select(wi.c.workflow_instanceid, wi.c.workflowid).where(
                    wi.c.workflow_instanceid.in_(ids)
                )
            ).all()
        )
        trail.status_changes(
            conn,
            [
                (int(wfids[o.workflow_instanceid]), o.workflow_instanceid, S.IN_PROGRESS, o.status)
                for o in claimed
                if o.workflow_instanceid in wfids
            ],
            reason="claimed orders given back",
        )
    return count
