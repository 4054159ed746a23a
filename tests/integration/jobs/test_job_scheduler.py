"""The job scheduler with a clock the test moves: cron and duration schedules (in the server's
time zone), run-skipped, expiry, single-instance under a manual run, errors and warnings,
state data across a restart, events and audit rows."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.refdata import AUDIT_CODE_BY_NAME
from qorus_core.model.errors import QorusError
from qorus_server.jobs.manager import JobManager
from tests.helpers.definitions import add_job
from tests.helpers.engine import Logs, TestServer, make_server
from tests.helpers.jobs import GATES, SEEN, T0, ManualClock, start_jobs

pytestmark = pytest.mark.integration


def results(api: Any, job: str) -> list[dict[str, Any]]:
    return list(api("jobs.results", id=job))


def next_trigger(engine: Engine, jobid: int) -> datetime | None:
    with engine.connect() as conn:
        return conn.execute(select(t.jobs.c.next_trigger).where(t.jobs.c.jobid == jobid)).scalar()


def tick_and_wait(jobs: JobManager) -> list[Any]:
    runs = jobs.tick()
    assert jobs.wait_idle(30)
    return runs


def test_cron_schedule_runs_each_trigger_once(
    engine: Engine, jobs: JobManager, clock: ManualClock, api: Any, server: TestServer
) -> None:
    jobid = add_job(engine, "CRON15", "UserApi.logInfo('ran %d', 1)", schedule="*/15 * * * *")
    assert tick_and_wait(jobs) == []  # planned, not due
    assert next_trigger(engine, jobid) == T0 + timedelta(minutes=15)
    assert jobs.scheduled() == [jobid]
    clock.advance(minutes=14, seconds=59)
    assert tick_and_wait(jobs) == []
    clock.advance(seconds=1)
    [run] = tick_and_wait(jobs)
    assert run.status.api_name == "COMPLETE"
    assert next_trigger(engine, jobid) == T0 + timedelta(minutes=30)
    assert tick_and_wait(jobs) == []  # the same trigger never runs twice
    clock.advance(minutes=15)
    assert len(tick_and_wait(jobs)) == 1
    res = results(api, "CRON15")
    assert [r["jobstatus"] for r in res] == ["COMPLETE", "COMPLETE"]
    assert res[0]["job_instanceid"] > res[1]["job_instanceid"]  # newest first
    assert res[1]["started"] == T0 + timedelta(minutes=15)
    info = api("jobs.info", id="CRON15")
    assert info["next"] == T0 + timedelta(minutes=45)
    assert info["COMPLETE"] == 2 and info["TOTAL"] == 2
    assert info["last_executed_job_instanceid"] == res[0]["job_instanceid"]
    assert info["schedule"] == "*/15 * * * *" and info["sched_type"] == "cron"
    names = [e.eventstr for e in server.events.since(0)]
    assert names.count("JOB_START") == 1
    assert names.count("JOB_INSTANCE_START") == 2 and names.count("JOB_INSTANCE_STOP") == 2


def test_cron_fields_are_read_in_the_server_time_zone(
    engine: Engine, server: TestServer, logs: Logs
) -> None:
    clock = ManualClock(T0, ZoneInfo("America/New_York"))  # 10:00 UTC = 05:00 EST
    mgr = start_jobs(server, clock, logger_factory=lambda n: logs("job", n))
    try:
        jobid = add_job(engine, "NIGHTLY", schedule="0 2 * * mon-fri")
        mgr.tick()
        # 02:00 in New York on Tuesday 2030-01-08 is 07:00 UTC
        assert next_trigger(engine, jobid) == datetime(2030, 1, 8, 7, 0)
        jobid2 = add_job(engine, "MONTHLY", schedule="30 8 1 jan,jul *")
        mgr.tick()
        assert next_trigger(engine, jobid2) == datetime(2030, 7, 1, 12, 30)  # EDT: UTC-4
    finally:
        mgr.stop()


def test_duration_schedule(engine: Engine, jobs: JobManager, clock: ManualClock) -> None:
    jobid = add_job(engine, "EVERY10M", duration=600)
    jobs.tick()
    assert next_trigger(engine, jobid) == T0 + timedelta(seconds=600)
    clock.advance(seconds=599)
    assert tick_and_wait(jobs) == []
    clock.advance(seconds=5)  # a late tick: the next trigger counts from the run
    assert len(tick_and_wait(jobs)) == 1
    assert next_trigger(engine, jobid) == T0 + timedelta(seconds=1204)


@pytest.mark.parametrize("run_skipped", [True, False])
def test_run_skipped_runs_once_after_a_restart(
    engine: Engine, server: TestServer, clock: ManualClock, logs: Logs, run_skipped: bool
) -> None:
    jobid = add_job(engine, "HOURLY", schedule="0 * * * *", run_skipped=run_skipped)
    first = start_jobs(server, clock, logger_factory=lambda n: logs("job", n))
    first.tick()
    clock.set(T0 + timedelta(hours=1))
    assert len(tick_and_wait(first)) == 1
    first.stop()  # the server stops; three triggers pass while it is down
    server.components.clear()
    clock.set(T0 + timedelta(hours=4, minutes=20))
    second = start_jobs(server, clock, logger_factory=lambda n: logs("job", n))
    try:
        runs = tick_and_wait(second)
        assert len(runs) == (1 if run_skipped else 0)  # once, not once per missed trigger
        assert next_trigger(engine, jobid) == T0 + timedelta(hours=5)
        assert tick_and_wait(second) == []
    finally:
        second.stop()


def test_a_late_trigger_still_runs(engine: Engine, jobs: JobManager, clock: ManualClock) -> None:
    add_job(engine, "LATE", schedule="*/5 * * * *")
    jobs.tick()
    clock.advance(minutes=5, seconds=30)  # the tick came 30 s late: not a missed run
    assert len(tick_and_wait(jobs)) == 1


def test_expiry_date_stops_scheduling(
    engine: Engine, jobs: JobManager, clock: ManualClock, api: Any, server: TestServer
) -> None:
    jobid = add_job(
        engine, "EXPIRES", schedule="0 * * * *", expiry_date=str(T0 + timedelta(minutes=90))
    )
    jobs.tick()
    clock.set(T0 + timedelta(hours=1))
    assert len(tick_and_wait(jobs)) == 1  # 11:00 is before the expiry
    assert jobs.scheduled() == []  # 12:00 is after it: no longer scheduled
    assert api("jobs.info", id=jobid)["next"] is None
    assert [e.eventstr for e in server.events.since(0)].count("JOB_STOP") == 1
    clock.set(T0 + timedelta(hours=2))
    assert tick_and_wait(jobs) == []
    api("jobs.set-expiry", id="EXPIRES", date=str(T0 + timedelta(days=1)))
    assert jobs.scheduled() == [jobid]  # scheduled again at once, and its trigger has come
    assert jobs.wait_idle(30)
    assert [r["started"] for r in results(api, "EXPIRES")] == [clock.now(), T0 + timedelta(hours=1)]
    api("jobs.set-expiry", id="EXPIRES")  # no expiry at all
    assert api("jobs.info", id="EXPIRES")["expiry_date"] is None


def test_single_instance_under_a_manual_run(
    engine: Engine, jobs: JobManager, clock: ManualClock, api: Any
) -> None:
    gate = GATES["single"] = threading.Event()
    SEEN["single"] = []
    add_job(
        engine,
        "SINGLE",
        "from tests.helpers.jobs import GATES, SEEN\n"
        "SEEN['single'].append(jobapi.getInfo()['job_instanceid'])\n"
        "GATES['single'].wait(30)",
        schedule="* * * * *",
        single_instance=True,
    )
    jobs.tick()
    clock.advance(minutes=1)
    [run] = jobs.tick()
    try:
        with pytest.raises(QorusError) as info:
            api("jobs.run", id="SINGLE")
        assert info.value.code == "JOB-RUNNING-ERROR" and info.value.http_status == 409
        assert api("jobs.info", id="SINGLE")["job_instanceid"] == run.job_instanceid
        clock.advance(minutes=1)  # the next trigger comes while the run goes on
        assert jobs.tick() == []
    finally:
        gate.set()
    assert jobs.wait_idle(30)
    [late] = tick_and_wait(jobs)  # the trigger that came meanwhile runs once it ended
    res = api("jobs.run", id="SINGLE")
    assert res["status"] == "COMPLETE" and res["job_instanceid"] > late.job_instanceid
    assert SEEN["single"] == [run.job_instanceid, late.job_instanceid, res["job_instanceid"]]


def test_errors_warnings_and_info(engine: Engine, jobs: JobManager, api: Any) -> None:
    add_job(
        engine,
        "WARNS",
        "jobapi.warn('LOW-STOCK', 'only %d left', 3)\n"
        "jobapi.errWithInfo('MINOR-THING', 'just a warning', {'a': 1}, 'WARNING')\n"
        "jobapi.saveInfo({'done': 7})\n"
        "assert jobapi.getJobInfo() == {'done': 7}",
    )
    add_job(
        engine,
        "FAILS",
        "jobapi.err('BAD-INPUT', 'row %d is bad', 12)\njobapi.saveInfo({'after': 'err goes on'})",
    )
    add_job(engine, "RAISES", "raise ValueError('boom')")
    warns = api("jobs.run", id="WARNS")
    assert warns["status"] == "COMPLETE"
    one = api("jobs.result", id=warns["job_instanceid"])
    assert one["info"] == {"done": 7} and one["jobstatus"] == "COMPLETE"
    assert [(e["error"], e["severity"]) for e in one["errors"]] == [
        ("LOW-STOCK", "WARNING"),
        ("MINOR-THING", "WARNING"),
    ]
    assert one["errors"][0]["description"] == "only 3 left"
    assert one["errors"][0]["business_error"] is True
    assert one["errors"][1]["info"] == {"a": 1}
    fails = api("jobs.run", id="FAILS")
    assert fails["status"] == "ERROR"
    one = api("jobs.result", id=fails["job_instanceid"])
    assert one["info"] == {"after": "err goes on"}
    assert [(e["error"], e["severity"]) for e in one["errors"]] == [("BAD-INPUT", "MAJOR")]
    raises = api("jobs.run", id="RAISES")
    assert raises["status"] == "ERROR"
    [error] = api("jobs.result", id=raises["job_instanceid"])["errors"]
    assert error["error"] == "ValueError" and error["description"] == "boom"
    assert api("jobs.info", id="FAILS")["ERROR"] == 1


def test_state_data_survives_a_restart(
    engine: Engine, server: TestServer, clock: ManualClock, logs: Logs
) -> None:
    SEEN["state"] = []
    add_job(
        engine,
        "STATEFUL",
        "from tests.helpers.jobs import SEEN\n"
        "state = jobapi.getStateData()\n"
        "SEEN['state'].append((state, jobapi.getPersistentStateData()))\n"
        "n = (state or {}).get('n', 0) + 1\n"
        "jobapi.saveStateData({'n': n})\n"
        "jobapi.savePersistentStateData({'runs': n})\n"
        "if n < 2:\n"
        "    jobapi.err('NOT-YET', 'again')\n",
    )
    first = start_jobs(server, clock, logger_factory=lambda n: logs("job", n))
    assert first.run_now(first_id(engine, "STATEFUL"))["status"] == "ERROR"
    first.stop()
    server.components.clear()
    second = start_jobs(server, clock, logger_factory=lambda n: logs("job", n))
    try:
        jobid = first_id(engine, "STATEFUL")
        assert second.run_now(jobid)["status"] == "COMPLETE"
        assert second.run_now(jobid)["status"] == "ERROR"  # the state was cleared
    finally:
        second.stop()
    assert SEEN["state"] == [
        (None, None),
        ({"n": 1}, {"runs": 1}),
        (None, {"runs": 2}),  # state data ends with a COMPLETE run; persistent data stays
    ]


def first_id(engine: Engine, name: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(t.jobs.c.jobid).where(t.jobs.c.name == name)).scalar_one())


def test_job_code_logs_to_the_job_log(engine: Engine, jobs: JobManager, logs: Logs) -> None:
    add_job(engine, "LOGGER", "UserApi.logInfo('hello %s', 'job')\njobapi.logWarn('careful')")
    jobs.run_now(first_id(engine, "LOGGER"))
    msgs = logs.messages("LOGGER")
    assert "hello job" in msgs and "careful" in msgs
    assert any("ended COMPLETE" in m for m in msgs)


def test_set_trigger_runs_earlier(engine: Engine, jobs: JobManager, clock: ManualClock) -> None:
    SEEN["trigger"] = []
    jobid = add_job(
        engine,
        "TRIGGERED",
        "from tests.helpers.jobs import SEEN\n"
        "import datetime\n"
        "if not SEEN['trigger']:\n"
        "    SEEN['trigger'].append(jobapi.setTrigger(datetime.timedelta(minutes=5)))\n"
        "    SEEN['trigger'].append(jobapi.setTrigger(-60))",
        schedule="0 * * * *",
    )
    jobs.tick()
    clock.set(T0 + timedelta(hours=1))
    tick_and_wait(jobs)
    assert SEEN["trigger"] == [True, False]
    assert next_trigger(engine, jobid) == T0 + timedelta(hours=1, minutes=5)
    clock.advance(minutes=5)
    assert len(tick_and_wait(jobs)) == 1
    assert next_trigger(engine, jobid) == T0 + timedelta(hours=2)


def test_audit_rows_of_jobs(engine: Engine, jobs: JobManager, clock: ManualClock, api: Any) -> None:
    jobid = add_job(engine, "AUDITED", schedule="* * * * *")
    jobs.tick()
    clock.advance(minutes=1)
    [run] = tick_and_wait(jobs)
    api("jobs.set-active", id="AUDITED", active=False)
    ae = t.audit_events
    with engine.connect() as conn:
        rows = conn.execute(
            select(ae.c.audit_event_code, ae.c.jobid, ae.c.job_instanceid).where(
                ae.c.jobid == jobid
            )
        ).all()
    codes = {name: code for name, code in AUDIT_CODE_BY_NAME.items()}
    got = [(c, j, i) for c, j, i in rows]
    assert (codes["JOB-START"], jobid, None) in got
    assert (codes["JOB-INSTANCE-START"], jobid, run.job_instanceid) in got
    assert (codes["JOB-INSTANCE-STOP"], jobid, run.job_instanceid) in got
    assert (codes["JOB-STOP"], jobid, None) in got


def test_no_audit_rows_without_the_jobs_code(
    engine: Engine, clock: ManualClock, logs: Logs
) -> None:
    server = make_server(engine, audit=["system"])
    mgr = start_jobs(server, clock, logger_factory=lambda n: logs("job", n))
    try:
        jobid = add_job(engine, "QUIET")
        mgr.tick()
        mgr.run_now(jobid)
    finally:
        mgr.stop()
    with engine.connect() as conn:
        rows = conn.execute(select(t.audit_events).where(t.audit_events.c.jobid == jobid)).all()
    assert rows == []


def test_the_loop_thread_follows_the_clock(
    engine: Engine, server: TestServer, clock: ManualClock, logs: Logs
) -> None:
    """The background loop waits on the clock: moving it runs the job, no real waiting."""
    mgr = start_jobs(server, clock, logger_factory=lambda n: logs("job", n), loop=True)
    try:
        jobid = add_job(engine, "LOOPED", schedule="*/10 * * * *")
        mgr.wake()
        deadline = threading.Event()
        for _ in range(500):
            if next_trigger(engine, jobid) is not None:
                break
            deadline.wait(0.02)
        clock.advance(minutes=10)
        for _ in range(1500):
            with engine.connect() as conn:
                done = conn.execute(
                    select(t.job_instance.c.jobstatus).where(t.job_instance.c.jobid == jobid)
                ).all()
            if done and done[0][0] == "C":
                break
            deadline.wait(0.02)
        assert [r[0] for r in done] == ["C"]
    finally:
        mgr.stop()
