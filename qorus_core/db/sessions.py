"""Application sessions: one row per running ``qorus`` process (one per node), and crash
recovery.

Recovery is the same whether ``schema-tool --recover`` runs it offline, the server runs it at
start-up, or a live node takes over a dead node's session: a crashed session's IN-PROGRESS
orders, segments and steps become RETRY and lose the session id; its IN-PROGRESS job instances
become CRASH; the session is closed as RECOVERED.

Every change of the set of sessions (open, recover) first locks the reference row
(``sessionid = 0``) with ``SELECT ... FOR UPDATE`` (:func:`lock_sessions`), so two processes
starting at once, or two nodes seeing the same dead session, are serialised by the database;
SQLite's ``BEGIN IMMEDIATE`` already serialises every write transaction.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Connection

from qorus_core import proc
from qorus_core.db import tables as t
from qorus_core.db.jobs import crashed_instances
from qorus_core.db.refdata import now
from qorus_core.db.wake import notify_due
from qorus_core.model.status import (
    SESSION_ACTIVE,
    SESSION_CLOSED,
    SESSION_RECOVERED,
    JobStatus,
    OrderStatus,
)

IN_PROGRESS = OrderStatus.IN_PROGRESS
RETRY = OrderStatus.RETRY
CRASH = JobStatus.CRASH


@dataclass(frozen=True)
class Session:
    sessionid: int
    instancekey: str
    node: str
    hostname: str
    pid: int
    url: str | None
    version: str | None
    sessionstatus: str
    started: datetime
    heartbeat: datetime | None
    ended: datetime | None
    pidstart: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        del out["pidstart"]  # how the process is recognised, not part of the answer
        return out

    def process_alive(self) -> bool | None:
        """True/False when the session runs on this host; None when it runs elsewhere.

        A zombie, or a pid now held by another process (its start marker differs), is dead.
        """
        if self.hostname != socket.gethostname():
            return None
        return proc.process_alive(self.pid, self.pidstart)

    def heartbeat_stale(self, max_age: float) -> bool:
        last = self.heartbeat or self.started
        return now() - last > timedelta(seconds=max_age)


def _row_to_session(row: Any) -> Session:
    return Session(**{c: row._mapping[c] for c in Session.__dataclass_fields__})


def list_sessions(
    conn: Connection, *, active_only: bool = False, limit: int | None = None
) -> list[Session]:
    q = (
        select(t.sessions)
        .where(t.sessions.c.sessionid != 0)
        .order_by(t.sessions.c.sessionid.desc())
    )
    if active_only:
        q = q.where(t.sessions.c.sessionstatus == SESSION_ACTIVE)
    if limit:
        q = q.limit(limit)
    return [_row_to_session(r) for r in conn.execute(q)]


def active_sessions(conn: Connection, instancekey: str | None = None) -> list[Session]:
    q = select(t.sessions).where(t.sessions.c.sessionstatus == SESSION_ACTIVE)
    if instancekey is not None:
        q = q.where(t.sessions.c.instancekey == instancekey)
    return [_row_to_session(r) for r in conn.execute(q)]


def lock_sessions(conn: Connection) -> None:
    """Serialise session changes across processes until the caller's transaction ends."""
    conn.execute(
        select(t.sessions.c.sessionid).where(t.sessions.c.sessionid == 0).with_for_update()
    ).all()


def stale_sessions(conn: Connection, max_age: float, exclude: int | None = None) -> list[Session]:
    """ACTIVE sessions (of any instance key and node) whose heartbeat is older than
    ``max_age`` seconds, but ``exclude`` (the caller's own)."""
    limit = now() - timedelta(seconds=max_age)
    s = t.sessions.c
    q = select(t.sessions).where(
        s.sessionstatus == SESSION_ACTIVE,
        s.sessionid != 0,
        (s.heartbeat < limit) | (s.heartbeat.is_(None) & (s.started < limit)),
    )
    if exclude is not None:
        q = q.where(s.sessionid != exclude)
    return [_row_to_session(r) for r in conn.execute(q.order_by(s.sessionid))]


def lock_if_stale(conn: Connection, sessionid: int, max_age: float) -> Session | None:
    """Lock a session's row and return it when it is still ACTIVE with a stale heartbeat.

    Call after :func:`lock_sessions`, then :func:`recover_session` in the same transaction: of
    two nodes that both saw the session stale, the second finds it RECOVERED and gets None.
    """
    row = conn.execute(
        select(t.sessions).where(t.sessions.c.sessionid == sessionid).with_for_update()
    ).first()
    if row is None:
        return None
    current = _row_to_session(row)
    if current.sessionstatus != SESSION_ACTIVE or not current.heartbeat_stale(max_age):
        return None
    return current


def open_session(
    conn: Connection, *, instancekey: str, node: str, url: str | None, version: str
) -> int:
    ts = now()
    res = conn.execute(
        insert(t.sessions).values(
            instancekey=instancekey,
            node=node,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            pidstart=proc.start_marker(os.getpid()),
            url=url,
            version=version,
            sessionstatus=SESSION_ACTIVE,
            started=ts,
            heartbeat=ts,
        )
    )
    pk = res.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def heartbeat(conn: Connection, sessionid: int) -> bool:
    """Write the heartbeat; False when the session is no longer ACTIVE (another node
    recovered it: this process must stop working)."""
    res = conn.execute(
        update(t.sessions)
        .where(t.sessions.c.sessionid == sessionid, t.sessions.c.sessionstatus == SESSION_ACTIVE)
        .values(heartbeat=now())
    )
    return res.rowcount == 1


def close_session(conn: Connection, sessionid: int) -> None:
    """Close an ACTIVE session (a RECOVERED one stays so)."""
    conn.execute(
        update(t.sessions)
        .where(t.sessions.c.sessionid == sessionid, t.sessions.c.sessionstatus == SESSION_ACTIVE)
        .values(sessionstatus=SESSION_CLOSED, ended=now())
    )


@dataclass
class RecoveryResult:
    sessionid: int
    orders: int = 0
    segments: int = 0
    steps: int = 0
    jobs: int = 0
    #: workflow id -> number of its orders turned to RETRY (who to wake, what to announce)
    workflows: dict[int, int] = field(default_factory=dict)
    #: (job_instanceid, jobid) of the job instances turned to CRASH
    job_instances: list[tuple[int, int]] = field(default_factory=list)
    #: (workflowid, workflow_instanceid) of the orders turned to RETRY (their audit rows)
    order_ids: list[tuple[int, int]] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "sessionid": self.sessionid,
            "orders": self.orders,
            "segments": self.segments,
            "steps": self.steps,
            "jobs": self.jobs,
        }


def recover_session(conn: Connection, sessionid: int) -> RecoveryResult:
    """Hand a crashed session's work back for processing; run inside the caller's transaction."""
    ts = now()
    wi = t.workflow_instance
    res = RecoveryResult(sessionid)
    _recover_orders(conn, sessionid, res)
    # orders owned by the session in another status are released too; IN-PROGRESS ones are
    # left to recover_orphans (only a session still claiming while recovered can make them)
    conn.execute(
        update(wi)
        .where(wi.c.status_sessionid == sessionid, wi.c.workflowstatus != IN_PROGRESS)
        .values(status_sessionid=0, synchronous=False, modified=ts)
    )
    res.job_instances = crashed_instances(conn, sessionid)
    res.jobs = conn.execute(
        update(t.job_instance)
        .where(
            and_(
                t.job_instance.c.sessionid == sessionid,
                t.job_instance.c.jobstatus == JobStatus.IN_PROGRESS,
            )
        )
        .values(jobstatus=CRASH, completed=ts, modified=ts)
    ).rowcount
    conn.execute(update(t.jobs).where(t.jobs.c.sessionid == sessionid).values(sessionid=0))
    conn.execute(
        update(t.sessions)
        .where(t.sessions.c.sessionid == sessionid)
        .values(sessionstatus=SESSION_RECOVERED, ended=ts)
    )
    return res


def _orphan_sessions() -> Any:
    wi = t.workflow_instance
    s = t.sessions
    return (
        select(wi.c.status_sessionid)
        .join(s, s.c.sessionid == wi.c.status_sessionid)
        .where(
            wi.c.workflowstatus == IN_PROGRESS,
            wi.c.status_sessionid != 0,
            s.c.sessionstatus != SESSION_ACTIVE,
        )
    )


def has_orphans(conn: Connection) -> bool:
    """Whether some IN-PROGRESS order belongs to a session that is no longer ACTIVE."""
    return conn.execute(_orphan_sessions().limit(1)).first() is not None


def recover_orphans(conn: Connection) -> list[RecoveryResult]:
    """IN-PROGRESS orders of sessions that are no longer ACTIVE become RETRY.

    A node whose session was recovered while it was only slow (not dead) may claim orders
    before it notices; its session being closed, no recovery would ever find them. Live nodes
    run this after each stale-session check (cheap: an index on status and session).
    """
    results = []
    for (sessionid,) in conn.execute(_orphan_sessions().distinct()).all():
        res = RecoveryResult(int(sessionid))
        _recover_orders(conn, int(sessionid), res)
        if res.orders:
            results.append(res)
    return results


def _recover_orders(conn: Connection, sessionid: int, res: RecoveryResult) -> None:
    wi = t.workflow_instance
    owned = and_(wi.c.status_sessionid == sessionid, wi.c.workflowstatus == IN_PROGRESS)
    # lock them first: a commit of the owner still in flight is waited for
    rows = conn.execute(
        select(wi.c.workflow_instanceid, wi.c.workflowid).where(owned).with_for_update()
    ).all()
    order_ids = []
    for wfiid, wfid in rows:
        order_ids.append(int(wfiid))
        res.order_ids.append((int(wfid), int(wfiid)))
        res.workflows[int(wfid)] = res.workflows.get(int(wfid), 0) + 1
    retry_orders(conn, sessionid, order_ids, res)


def retry_orders(
    conn: Connection, sessionid: int, order_ids: list[int], res: RecoveryResult
) -> None:
    """Turn the session's IN-PROGRESS orders ``order_ids`` (locked by the caller), their
    IN-PROGRESS segments and steps to RETRY, due at once and owned by no session, counting
    what changed in ``res``; crash recovery and the hand-back of a live session share it."""
    ts = now()
    wi = t.workflow_instance
    owned = and_(wi.c.status_sessionid == sessionid, wi.c.workflowstatus == IN_PROGRESS)
    for chunk in _chunks(order_ids, 500):
        res.segments += conn.execute(
            update(t.segment_instance)
            .where(
                t.segment_instance.c.workflow_instanceid.in_(chunk),
                t.segment_instance.c.segmentstatus == IN_PROGRESS,
            )
            .values(segmentstatus=RETRY, retry_trigger=ts, modified=ts)
        ).rowcount
        res.steps += conn.execute(
            update(t.step_instance)
            .where(
                t.step_instance.c.workflow_instanceid.in_(chunk),
                t.step_instance.c.stepstatus == IN_PROGRESS,
            )
            .values(stepstatus=RETRY)
        ).rowcount
        res.orders += conn.execute(
            update(wi)
            .where(owned, wi.c.workflow_instanceid.in_(chunk))
            # a recovered synchronous order is processed by normal instances (as in Qorus)
            .values(
                workflowstatus=RETRY,
                status_sessionid=0,
                synchronous=False,
                retry_trigger=ts,
                modified=ts,
            )
        ).rowcount
    # the other nodes running these workflows learn of the recovered orders at the commit
    notify_due(conn, res.workflows)


def _chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
