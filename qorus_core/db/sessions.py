"""Application sessions: one row per running ``qorus`` instance, and crash recovery.

Recovery is the same whether ``schema-tool --recover`` runs it offline or the server runs it at
start-up: a crashed session's IN-PROGRESS orders, segments and steps become RETRY and lose the
session id; its IN-PROGRESS job instances become CRASH; the session is closed as RECOVERED.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.db.refdata import now
from qorus_core.model.status import SESSION_ACTIVE, SESSION_CLOSED, SESSION_RECOVERED

IN_PROGRESS = "I"
RETRY = "R"
CRASH = "Z"


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

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def process_alive(self) -> bool | None:
        """True/False when the session runs on this host; None when it runs elsewhere."""
        if self.hostname != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

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


def heartbeat(conn: Connection, sessionid: int) -> None:
    conn.execute(
        update(t.sessions).where(t.sessions.c.sessionid == sessionid).values(heartbeat=now())
    )


def close_session(conn: Connection, sessionid: int) -> None:
    conn.execute(
        update(t.sessions)
        .where(t.sessions.c.sessionid == sessionid)
        .values(sessionstatus=SESSION_CLOSED, ended=now())
    )


@dataclass
class RecoveryResult:
    sessionid: int
    orders: int = 0
    segments: int = 0
    steps: int = 0
    jobs: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def recover_session(conn: Connection, sessionid: int) -> RecoveryResult:
    """Hand a crashed session's work back for processing; run inside the caller's transaction."""
    ts = now()
    wi = t.workflow_instance
    res = RecoveryResult(sessionid)
    orders = select(wi.c.workflow_instanceid).where(
        wi.c.status_sessionid == sessionid, wi.c.workflowstatus == IN_PROGRESS
    )
    order_ids = list(conn.execute(orders).scalars())
    for chunk in _chunks(order_ids, 500):
        res.segments += conn.execute(
            update(t.segment_instance)
            .where(
                and_(
                    t.segment_instance.c.workflow_instanceid.in_(chunk),
                    t.segment_instance.c.segmentstatus == IN_PROGRESS,
                )
            )
            .values(segmentstatus=RETRY, retry_trigger=ts, modified=ts)
        ).rowcount
        res.steps += conn.execute(
            update(t.step_instance)
            .where(
                and_(
                    t.step_instance.c.workflow_instanceid.in_(chunk),
                    t.step_instance.c.stepstatus == IN_PROGRESS,
                )
            )
            .values(stepstatus=RETRY)
        ).rowcount
        res.orders += conn.execute(
            update(wi)
            .where(and_(wi.c.workflow_instanceid.in_(chunk), wi.c.workflowstatus == IN_PROGRESS))
            .values(workflowstatus=RETRY, status_sessionid=0, retry_trigger=ts, modified=ts)
        ).rowcount
    # orders owned by the session in another status (e.g. being claimed) are released too
    conn.execute(
        update(wi).where(wi.c.status_sessionid == sessionid).values(status_sessionid=0, modified=ts)
    )
    res.jobs = conn.execute(
        update(t.job_instance)
        .where(
            and_(
                t.job_instance.c.sessionid == sessionid,
                t.job_instance.c.jobstatus == IN_PROGRESS,
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


def _chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
