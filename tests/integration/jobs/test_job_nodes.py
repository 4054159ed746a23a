"""Jobs across nodes and crashes: two schedulers (two sessions) on one database run each
trigger once and never overlap; a single-instance job stays with one node; a job instance
IN-PROGRESS in a crashed session becomes CRASH at recovery (JOB-RECOVERY, JOB_RECOVERED)."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.refdata import AUDIT_CODE_BY_NAME, now
from qorus_server import session as app_session
from qorus_server.jobs.manager import JobManager
from tests.helpers.definitions import add_job
from tests.helpers.engine import Logs, TestServer, make_server
from tests.helpers.jobs import GATES, T0, ManualClock, start_jobs

pytestmark = pytest.mark.integration


def instances(engine: Engine, jobid: int) -> list[tuple[int, int, str, Any]]:
    ji = t.job_instance
    with engine.connect() as conn:
        return [
            (int(a), int(b), c, d)
            for a, b, c, d in conn.execute(
                select(ji.c.job_instanceid, ji.c.sessionid, ji.c.jobstatus, ji.c.started)
                .where(ji.c.jobid == jobid)
                .order_by(ji.c.job_instanceid)
            )
        ]


def two_nodes(
    engine: Engine, clock: ManualClock, logs: Logs
) -> list[tuple[TestServer, JobManager]]:
    out = []
    for node in ("node-a", "node-b"):
        server = make_server(engine, node=node, audit=["jobs", "job-data"])
        out.append((server, start_jobs(server, clock, logger_factory=lambda n: logs("job", n))))
    return out


def tick_all(managers: list[JobManager]) -> None:
    """Tick every scheduler at the same moment, each in its own thread."""
    barrier = threading.Barrier(len(managers))
    errors: list[BaseException] = []

    def one(mgr: JobManager) -> None:
        try:
            barrier.wait(10)
            mgr.tick()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(m,)) for m in managers]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert not errors, errors
    for mgr in managers:
        assert mgr.wait_idle(30)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def logs() -> Logs:
    return Logs("nodes")


def test_two_schedulers_run_each_trigger_once(
    engine: Engine, clock: ManualClock, logs: Logs
) -> None:
    nodes = two_nodes(engine, clock, logs)
    managers = [m for _s, m in nodes]
    try:
        every = add_job(engine, "EVERYMIN", schedule="* * * * *")
        tick_all(managers)
        for _ in range(12):
            clock.advance(minutes=1)
            tick_all(managers)
        runs = instances(engine, every)
        assert len(runs) == 12, runs
        assert sorted(r[3] for r in runs) == [T0 + timedelta(minutes=i) for i in range(1, 13)]
        assert all(r[2] == "C" for r in runs)
    finally:
        for mgr in managers:
            mgr.stop()


def test_a_run_on_one_node_blocks_the_other(engine: Engine, clock: ManualClock, logs: Logs) -> None:
    nodes = two_nodes(engine, clock, logs)
    (_sa, a), (_sb, b) = nodes
    gate = GATES["nodes"] = threading.Event()
    try:
        jobid = add_job(
            engine,
            "LONGRUN",
            "from tests.helpers.jobs import GATES\nGATES['nodes'].wait(30)",
            schedule="* * * * *",
        )
        a.tick()
        b.tick()
        clock.advance(minutes=1)
        started = a.tick()
        assert len(started) == 1
        clock.advance(minutes=1)
        assert b.tick() == [] and a.tick() == []  # the next trigger waits for the run's end
        assert [r[2] for r in instances(engine, jobid)] == ["I"]
    finally:
        gate.set()
    assert a.wait_idle(30)
    tick_all([a, b])  # now one of them runs the trigger that came meanwhile
    assert [r[2] for r in instances(engine, jobid)] == ["C", "C"]
    for mgr in (a, b):
        mgr.stop()


def test_single_instance_job_stays_with_one_node(
    engine: Engine, clock: ManualClock, logs: Logs
) -> None:
    nodes = two_nodes(engine, clock, logs)
    (sa, a), (_sb, b) = nodes
    try:
        jobid = add_job(engine, "ONENODE", schedule="* * * * *", single_instance=True)
        tick_all([a, b])
        for _ in range(6):
            clock.advance(minutes=1)
            tick_all([a, b])
        runs = instances(engine, jobid)
        assert len(runs) == 6
        assert len({r[1] for r in runs}) == 1  # every run in the session that owns it
        owner = runs[0][1]
        # the owner stops: the other node takes the job over at its next trigger
        (a if owner == sa.sessionid else b).stop()
        other = b if owner == sa.sessionid else a
        clock.advance(minutes=1)
        tick_all([other])
        assert instances(engine, jobid)[-1][1] != owner
    finally:
        for mgr in (a, b):
            mgr.stop()


def test_crashed_session_job_instance_becomes_crash(
    engine: Engine, clock: ManualClock, logs: Logs
) -> None:
    nodes = two_nodes(engine, clock, logs)
    (sa, a), (sb, b) = nodes
    gate = GATES["crash"] = threading.Event()
    try:
        jobid = add_job(
            engine,
            "CRASHES",
            "from tests.helpers.jobs import GATES\nGATES['crash'].wait(30)",
            schedule="0 * * * *",
        )
        a.tick()
        # node A runs the job, then "dies": its heartbeat stops and it is found stale
        clock.set(T0 + timedelta(hours=1))
        [run] = a.tick()
        assert [r[2] for r in instances(engine, jobid)] == ["I"]
        with engine.begin() as conn:
            conn.execute(
                update(t.sessions)
                .where(t.sessions.c.sessionid == sa.sessionid)
                .values(heartbeat=now() - timedelta(seconds=600))
            )
        watcher = app_session.StaleSessionWatcher(
            engine, sb.sessionid or 0, 60, sb.auditor, sb.events, logging.getLogger("t")
        )
        [res] = watcher.check()
        assert res.jobs == 1 and res.job_instances == [(run.job_instanceid, jobid)]
        assert [r[2] for r in instances(engine, jobid)] == ["Z"]
        [ev] = [e for e in sb.events.since(0) if e.eventstr == "JOB_RECOVERED"]
        assert ev.info["job_instanceid"] == run.job_instanceid and ev.info["name"] == "CRASHES"
        ae = t.audit_events
        with engine.connect() as conn:
            rows = conn.execute(
                select(ae.c.jobid, ae.c.job_instanceid).where(
                    ae.c.audit_event_code == AUDIT_CODE_BY_NAME["JOB-RECOVERY"]
                )
            ).all()
        assert [tuple(r) for r in rows] == [(jobid, run.job_instanceid)]
    finally:
        gate.set()
    assert a.wait_idle(30)
    # the "dead" node's late end does not overwrite CRASH
    assert [r[2] for r in instances(engine, jobid)] == ["Z"]
    # the crashed run does not block the job: node B runs it
    assert b.run_now(jobid)["status"] == "COMPLETE"
    assert [r[2] for r in instances(engine, jobid)] == ["Z", "C"]
    for mgr in (a, b):
        mgr.stop()
