"""The application session of a running node: acquire it (refusing a live one, recovering a
crashed one), keep its heartbeat, take over dead nodes' sessions, and close it at shutdown.

Sessions and nodes: every ``qorus`` process has its own session row, named by its instance
key and its node (option ``node``, the host name by default). A cluster is several nodes of
one instance key on one database. At start-up only a session of the same instance key *and*
node is this process's concern: a live one refuses the start, a crashed one is recovered (with
``auto-recover``). Sessions of other nodes are left to the stale-session watcher that runs in
every live node's heartbeat thread: an ACTIVE session of another process whose heartbeat is
older than ``session-stale-timeout`` is recovered by whichever live node locks it first.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Engine

from qorus_core.db import audit as audit_rows
from qorus_core.db import interfaces
from qorus_core.db import jobs as jobs_db
from qorus_core.db import sessions as sess
from qorus_core.db.audit import AuditTrail
from qorus_core.db.engine import READONLY
from qorus_core.model.errors import QorusError
from qorus_core.model.status import JobStatus, OrderStatus
from qorus_core.options import Options
from qorus_server.audit import Auditor


class SessionError(QorusError):
    """The application session cannot be opened (start-up exit code 7)."""

    code = "SESSION-ERROR"


@dataclass
class SessionSettings:
    instancekey: str
    node: str
    url: str | None
    version: str
    auto_recover: bool
    heartbeat_interval: int
    stale_timeout: int = 0  # 0: 3 x heartbeat_interval

    @property
    def max_age(self) -> int:
        return self.stale_timeout or 3 * self.heartbeat_interval


def stale_timeout(options: Options) -> int:
    """``session-stale-timeout``, else three heartbeat intervals."""
    value = options.get("session-stale-timeout")
    return int(value) if value else 3 * int(options.get("heartbeat-interval"))


def _describe(s: sess.Session) -> str:
    return f"session {s.sessionid} of node {s.node} on host {s.hostname} pid {s.pid}"


def _who() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"


def _recover(
    conn: Connection, old: sess.Session, auditor: Auditor, log: logging.Logger, why: str
) -> sess.RecoveryResult:
    """Recover ``old`` in the caller's transaction between the two audit rows (code
    ``system``), with a WORKFLOW-STATUS-CHANGE row per order turned to RETRY
    (``workflow-data``) and a JOB-RECOVERY row per job instance turned to CRASH
    (``job-data``), all in that transaction."""
    log.warning("recovering %s: %s", _describe(old), why)
    trail = auditor.system.but(
        who=audit_rows.unix_who(), source=f"{why} session {old.sessionid} on {_who()}"
    )
    start = trail.write(
        conn,
        "SYSTEM-RECOVERY-START",
        reason=f"recovering {why} {_describe(old)}",
        info1=str(old.sessionid),
    )
    result = sess.recover_session(conn, old.sessionid)
    audit_recovered(conn, trail, result, start)
    trail.write(
        conn,
        "SYSTEM-RECOVERY-COMPLETE",
        reason=f"recovered {why} {_describe(old)}",
        info1=str(old.sessionid),
        info2=result.as_dict(),
        related=start,
    )
    log.warning("recovered %s: %s", _describe(old), result.as_dict())
    return result


def audit_recovered(
    conn: Connection, trail: AuditTrail, result: sess.RecoveryResult, related: int | None = None
) -> None:
    """The audit rows of what a recovery changed, in its transaction: IN-PROGRESS -> RETRY
    per order, IN-PROGRESS -> CRASH per job instance."""
    recovery = trail.but(reason="schema recovery")
    if result.order_ids and recovery.wants("WORKFLOW-STATUS-CHANGE"):
        audit_rows.write_many(
            conn,
            [
                recovery.row(
                    "WORKFLOW-STATUS-CHANGE",
                    workflowid=wfid,
                    workflow_instanceid=wfiid,
                    info1=OrderStatus.IN_PROGRESS,
                    info2=OrderStatus.RETRY,
                    related=related,
                )
                for wfid, wfiid in result.order_ids
            ],
        )
    if result.job_instances and recovery.wants("JOB-RECOVERY"):
        audit_rows.write_many(
            conn,
            [
                recovery.row(
                    "JOB-RECOVERY",
                    jobid=jobid,
                    job_instanceid=jiid,
                    info1=JobStatus.IN_PROGRESS,
                    info2=JobStatus.CRASH,
                    related=related,
                )
                for jiid, jobid in result.job_instances
            ],
        )


def acquire(
    engine: Engine, settings: SessionSettings, auditor: Auditor, log: logging.Logger
) -> tuple[int, list[sess.RecoveryResult]]:
    """Open this node's session in one transaction; recover or refuse its earlier ones.

    The reference row lock makes the check and the insert atomic against another process of
    the same instance key and node starting at the same moment.
    """
    recovered: list[sess.RecoveryResult] = []
    with engine.begin() as conn:
        sess.lock_sessions(conn)
        for old in sess.active_sessions(conn, settings.instancekey):
            if old.node != settings.node:
                continue  # another node of the cluster: the stale-session watcher's concern
            alive = old.process_alive()
            if alive is None:  # another host: trust its heartbeat
                alive = not old.heartbeat_stale(settings.max_age)
            if alive:
                raise SessionError(
                    f"instance {settings.instancekey!r} node {settings.node!r} is already "
                    f"running: {_describe(old)} is alive"
                )
            if not settings.auto_recover:
                raise SessionError(
                    f"instance {settings.instancekey!r} has a crashed {_describe(old)}; "
                    "recover it with 'schema-tool --recover' or start with auto-recover=true"
                )
            recovered.append(_recover(conn, old, auditor, log, "crashed"))
        sessionid = sess.open_session(
            conn,
            instancekey=settings.instancekey,
            node=settings.node,
            url=settings.url,
            version=settings.version,
        )
    return sessionid, recovered


def announce(engine: Engine, events: Any, results: list[sess.RecoveryResult]) -> None:
    """Post WORKFLOW_RECOVERED once per workflow whose orders were recovered (this also wakes
    the workflow manager's instances of that workflow), JOB_RECOVERED once per job instance
    turned to CRASH."""
    crashed = [pair for r in results for pair in r.job_instances]
    if crashed and events is not None:
        with engine.connect().execution_options(**{READONLY: True}) as conn:
            labels = {d.jobid: d for d in (jobs_db.load_job(conn, jid) for _, jid in crashed) if d}
        for jiid, jobid in crashed:
            label = labels.get(jobid)
            events.post(
                "JOB_RECOVERED",
                {
                    "name": label.name if label else None,
                    "version": label.version if label else None,
                    "jobid": jobid,
                    "job_instanceid": jiid,
                    "old_status": "IN-PROGRESS",
                    "new_status": "CRASH",
                },
                caller="qorus",
            )
    wfids = sorted({w for r in results for w in r.workflows})
    if not wfids or events is None:
        return
    with engine.connect().execution_options(**{READONLY: True}) as conn:
        rows = interfaces.workflow_labels(conn, wfids)
    for wfid, name, version in rows:
        events.post(
            "WORKFLOW_RECOVERED",
            {
                "name": name,
                "version": version,
                "workflowid": int(wfid),
                "old_statuses": ["IN-PROGRESS"],
                "new_status": "RETRY",
            },
            caller="qorus",
        )


class StaleSessionWatcher:
    """Recovers other processes' sessions whose heartbeat is stale, and orphaned orders.

    Each candidate is recovered in its own transaction that first locks the reference row and
    the session row and checks again that it is ACTIVE and stale: when two live nodes see the
    same dead session, exactly one recovers it.
    """

    def __init__(
        self,
        engine: Engine,
        sessionid: int,
        max_age: int,
        auditor: Auditor,
        events: Any,
        log: logging.Logger,
    ) -> None:
        self.engine = engine
        self.sessionid = sessionid
        self.max_age = max_age
        self.auditor = auditor
        self.events = events
        self.log = log

    def check(self) -> list[sess.RecoveryResult]:
        with self.engine.connect().execution_options(**{READONLY: True}) as conn:
            candidates = sess.stale_sessions(conn, self.max_age, exclude=self.sessionid)
            orphans = sess.has_orphans(conn)
        results: list[sess.RecoveryResult] = []
        for cand in candidates:
            with self.engine.begin() as conn:
                sess.lock_sessions(conn)
                old = sess.lock_if_stale(conn, cand.sessionid, self.max_age)
                if old is None:
                    continue  # another node was first, or it came back
                why = f"stale (no heartbeat for {self.max_age} s)"
                results.append(_recover(conn, old, self.auditor, self.log, why))
        if orphans or results:
            with self.engine.begin() as conn:
                for res in sess.recover_orphans(conn):
                    self.log.warning(
                        "recovered %d orders left IN-PROGRESS by closed session %d",
                        res.orders,
                        res.sessionid,
                    )
                    audit_recovered(conn, self.auditor.system, res)
                    results.append(res)
        announce(self.engine, self.events, results)
        return results


class Heartbeat:
    """A daemon thread that writes the session heartbeat every ``interval`` seconds, then runs
    the stale-session watcher. When the heartbeat finds its own session recovered by another
    node (this process was taken for dead), it calls ``on_lost`` once and stops."""

    def __init__(
        self,
        engine: Engine,
        sessionid: int,
        interval: int,
        log: logging.Logger,
        *,
        watcher: StaleSessionWatcher | None = None,
        on_lost: Callable[[], None] | None = None,
        on_beat: Callable[[bool], None] | None = None,
    ) -> None:
        self.engine = engine
        self.sessionid = sessionid
        self.interval = interval
        self.log = log
        self.watcher = watcher
        self.on_lost = on_lost
        #: told after each beat whether the database answered (the system's health)
        self.on_beat = on_beat
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qorus-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        quiet_until = 0.0
        while not self._stop.wait(self.interval):
            try:
                with self.engine.begin() as conn:
                    alive = sess.heartbeat(conn, self.sessionid)
            except Exception as exc:  # keep beating: the database may come back
                self.log.error("session heartbeat failed: %s", exc)
                self._beat(False)
                if self.watcher is not None:
                    # after an outage the other nodes' heartbeats are as old as ours: give
                    # them a full stale timeout to beat again before taking them for dead
                    quiet_until = time.monotonic() + self.watcher.max_age
                continue
            self._beat(True)
            if not alive:
                self.log.error(
                    "application session %d was recovered by another node (its heartbeat was "
                    "stale); this node stops",
                    self.sessionid,
                )
                if self.on_lost is not None:
                    self.on_lost()
                return
            if (
                self.watcher is not None
                and not self._stop.is_set()
                and time.monotonic() >= quiet_until
            ):
                try:
                    self.watcher.check()
                except Exception as exc:  # try again at the next beat
                    self.log.error("stale session check failed: %s", exc)

    def _beat(self, ok: bool) -> None:
        if self.on_beat is not None:
            try:
                self.on_beat(ok)
            except Exception:  # a listener failing must not stop the heartbeat
                self.log.exception("heartbeat listener failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.interval + 5)


def close(engine: Engine, sessionid: int) -> None:
    with engine.begin() as conn:
        sess.close_session(conn, sessionid)
