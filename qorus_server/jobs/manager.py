"""The job scheduler: the server component that runs every active job on its schedule.

Each tick reads the active, enabled jobs from the database (so a change made through any
node's API, or by oload, is seen at the next tick), plans each one's next trigger, and starts
a run of every job whose trigger has come. Starting a run is one transaction in
:func:`qorus_core.db.jobs.start_instance`: of several nodes sharing a database only the one
whose update moves the stored trigger on runs it, and no run starts while another instance of
the job is IN-PROGRESS anywhere. A job whose trigger comes while it still runs starts when
that run ends.

Planning (the next trigger is ``jobs.next_trigger``, naive UTC, shared by every node):

* a job with no planned trigger (new, re-scheduled, changed by oload) is planned from now; with
  ``run-skipped`` and an earlier run, from that run (a missed trigger then runs at once);
* when the scheduler first takes a job (at start-up or when it is made active) and its trigger
  passed more than :data:`MISSED_GRACE` seconds ago, the run was missed while no node ran the
  job: with ``run-skipped`` it runs once now, otherwise it is planned afresh from now;
* a trigger at or after the ``expiry-date`` is never run: the job stops being scheduled;
* a ``single-instance`` job is scheduled by one node at a time (the session in
  ``jobs.sessionid``) until that node stops or crashes.

The runs themselves (on threads of their own, manual runs in the caller's) are
:mod:`qorus_server.jobs.execute`'s; the job logs, events and audit rows are
:mod:`qorus_server.jobs.report`'s.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from qorus_core.db import jobs as jobs_db
from qorus_core.db.engine import READONLY
from qorus_core.db.jobs import JobDef
from qorus_core.model.errors import QorusError
from qorus_server.contract import ServerContract
from qorus_server.jobs.clock import Clock, SystemClock
from qorus_server.jobs.code import JobCode
from qorus_server.jobs.execute import JobRunner, Run
from qorus_server.jobs.report import JobReporter, LoggerFactory
from qorus_server.userapi import context, install

__all__ = ["MISSED_GRACE", "POLL_INTERVAL", "STOP_WAIT", "JobManager", "LoggerFactory", "Run"]

#: a trigger missed by more than this many seconds when the scheduler takes the job was
#: missed while no node ran it (a younger one is only late and runs)
MISSED_GRACE = 60
#: how often the scheduler reads the jobs again with no trigger due (changes by other nodes)
POLL_INTERVAL = 30.0
#: how long a stopping scheduler waits for running instances before it ends them ERROR
STOP_WAIT = 30.0


class JobManager:
    """The job scheduler component (``jobs``)."""

    name = "jobs"

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        loop: bool = True,
        logger_factory: LoggerFactory | None = None,
        poll_interval: float = POLL_INTERVAL,
        stop_wait: float = STOP_WAIT,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self._loop_on = loop
        self.report = JobReporter(logger_factory)
        self.poll_interval = poll_interval
        self.stop_wait = stop_wait
        self.server: ServerContract | None = None
        self.runtime: context.Runtime | None = None
        self.code: JobCode | None = None
        self.log = logging.getLogger("qorus.jobs")
        #: jobs being scheduled by this node: jobid -> definition as last read
        self._scheduled: dict[int, JobDef] = {}
        #: runs in progress in this process by jobid
        self._running: dict[int, Run] = {}
        self._lock = threading.RLock()
        self._tick_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._api_engine: Engine | None = None
        self._runner: JobRunner | None = None

    # ------------------------------------------------------------------ life cycle

    def start(self, server: ServerContract) -> None:
        install()
        if server.sessionid is None:
            raise QorusError("the job scheduler needs an application session")
        self.server = server
        self._api_engine = server.engine
        engine = server.pools.engine if server.pools is not None else server.engine
        self.runtime = context.Runtime(
            engine=engine,
            options=server.options,
            sessionid=server.sessionid,
            events=server.events,
            omq=server.omq,
            get_logger=self._code_logger,
            on_new_order=self._wake_workflow,
            server=server,
            exec_sync=self._exec_sync,
            sensitive=server.sensitive,
            audit=server.auditor.system if server.auditor is not None else None,
        )
        self.code = JobCode(engine)
        self.log = server.log
        self.report.bind(server)
        self._runner = JobRunner(
            server=server,
            runtime=self.runtime,
            code=self.code,
            api=self._api(),
            clock=self.clock,
            report=self.report,
            lock=self._lock,
            running=self._running,
            next_trigger=self.next_trigger,
            move_trigger=self._move_trigger,
            wake=self.wake,
        )
        self._stopping.clear()
        if self._loop_on:
            self._thread = threading.Thread(target=self._loop, name="qorus-jobs", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.poll_interval + 10)
        self._thread = None
        rt = self.runtime
        if rt is not None:
            rt.stop_event.set()  # UserApi.sleep() in a running job returns
        with self._lock:
            runs = list(self._running.values())
        deadline = time.monotonic() + self.stop_wait
        for run in runs:
            if not run.done.wait(max(0.0, deadline - time.monotonic())):
                self._run().abandon(run, self.stop_wait)
        with self._lock:
            scheduled = list(self._scheduled.values())
            self._scheduled.clear()
        for job in scheduled:
            self.report.stopped(job, "the system is stopping")
        if self.server is not None and self.server.sessionid is not None:
            try:
                with self._api().begin() as conn:
                    jobs_db.release_jobs(conn, self.server.sessionid)
            except SQLAlchemyError as exc:
                self.log.error("cannot release the single-instance jobs: %s", exc)

    # ------------------------------------------------------------------ helpers

    def _srv(self) -> ServerContract:
        if self.server is None:
            raise QorusError("the job scheduler is not running", code="JOB-ERROR")
        return self.server

    def _api(self) -> Engine:
        """The API pool (operations); runs use the engine pool."""
        return self._api_engine if self._api_engine is not None else self._engine()

    def _engine(self) -> Engine:
        if self.runtime is None:
            raise QorusError("the job scheduler is not running", code="JOB-ERROR")
        return self.runtime.engine

    def _sessionid(self) -> int:
        sid = self._srv().sessionid
        assert sid is not None
        return sid

    def _code_logger(self, kind: str, name: str) -> logging.Logger:
        if kind == "job":
            return self.job_logger(name)
        return self.log

    def job_logger(self, name: str) -> logging.Logger:
        """The log of one job (``OMQ-$instance-JOB-NAME.log``)."""
        return self.report.job_logger(name)

    def _wake_workflow(self, workflowid: int) -> None:
        # without a workflow engine here other nodes poll for the new order
        with contextlib.suppress(QorusError):
            self._srv().workflows.notify(workflowid)

    def _exec_sync(
        self, name: str | int, version: str | None, fields: Mapping[str, object]
    ) -> dict[str, object]:
        return self._srv().workflows.exec_synchronous(name, version, fields)

    # ------------------------------------------------------------------ scheduling

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            started: list[Run] = []
            try:
                started = self.tick()
            except Exception:  # the database may come back; keep scheduling
                self.log.exception("job scheduler tick failed")
            if self._stopping.is_set():
                break
            until = self._next_wakeup()
            if until <= self.clock.now() and not started:
                # a trigger due but not started here (another node runs the job): no busy loop
                self._stopping.wait(0.2)
                continue
            self.clock.wait(self._wake, until)

    def _next_wakeup(self) -> datetime:
        now = self.clock.now()
        limit = now + timedelta(seconds=self.poll_interval)
        with self._lock:
            due = [
                j.next_trigger
                for jid, j in self._scheduled.items()
                if j.next_trigger is not None and jid not in self._running
            ]
        # a trigger that came while the tick ran (its clock reading was older) is due now
        return min([*due, limit]) if due else limit

    def wake(self) -> None:
        """Tick now (a job was changed)."""
        self._wake.set()

    def _initial_trigger(self, job: JobDef, now: datetime) -> datetime:
        if job.run_skipped and job.last_executed is not None:
            return job.schedule.next_after(job.last_executed, self.clock.tz)
        return job.schedule.next_after(now, self.clock.tz)

    def tick(self) -> list[Run]:
        """Read the schedulable jobs, plan them and start the runs that are due; the runs
        started (each in its own thread)."""
        if self.runtime is None or self._stopping.is_set():
            return []
        with self._tick_lock:
            return self._tick()

    def _tick(self) -> list[Run]:
        now = self.clock.now()
        with self._api().connect().execution_options(**{READONLY: True}) as conn:
            jobs = jobs_db.schedulable_jobs(conn)
        seen: set[int] = set()
        started: list[Run] = []
        for job in jobs:
            seen.add(job.jobid)
            with self._lock:
                first = job.jobid not in self._scheduled
            job = self._plan(job, now, first)
            if job.next_trigger is None:
                continue
            if job.expired(job.next_trigger):
                with self._lock:
                    was = self._scheduled.pop(job.jobid, None)
                if was is not None or first:
                    if was is not None:
                        self.report.stopped(job, f"expired on {job.expiry_date} UTC")
                    else:
                        self.job_logger(job.name).info(
                            "job %s is not scheduled: it expired on %s UTC",
                            job.label(),
                            job.expiry_date,
                        )
                continue
            with self._lock:
                self._scheduled[job.jobid] = job
            if first:
                self.report.started(job, job.next_trigger)
            if job.next_trigger <= now:
                run = self._start_due(job, now)
                if run is not None:
                    started.append(run)
        with self._lock:
            gone = [j for jid, j in self._scheduled.items() if jid not in seen]
            for j in gone:
                del self._scheduled[j.jobid]
        for j in gone:
            self.report.stopped(j, "inactive, disabled or deleted")
        return started

    def _plan(self, job: JobDef, now: datetime, first: bool) -> JobDef:
        """The job with its next trigger planned (stored unless another node was first)."""
        old = job.next_trigger
        new: datetime | None = None
        if old is None:
            new = self._initial_trigger(job, now)
        elif (
            first
            and not job.run_skipped
            and old < now - timedelta(seconds=MISSED_GRACE)
            and job.jobid not in self._running
        ):
            new = job.schedule.next_after(now, self.clock.tz)
            self.job_logger(job.name).info(
                "job %s missed its trigger %s UTC (run-skipped is off): next %s UTC",
                job.label(),
                old,
                new,
            )
        if new is None:
            return job
        with self._api().begin() as conn:
            if not jobs_db.plan(conn, job.jobid, old, new):
                reread = jobs_db.load_job(conn, job.jobid)  # another node planned it
                return reread if reread is not None else job
        return _with_trigger(job, new)

    def _start_due(self, job: JobDef, now: datetime) -> Run | None:
        due = job.next_trigger
        assert due is not None
        with self._lock:
            if job.jobid in self._running:
                return None  # runs when the current run ends
        nxt = job.schedule.next_after(max(due, now), self.clock.tz)
        with self._engine().begin() as conn:
            res = jobs_db.start_instance(
                conn, job.jobid, self._sessionid(), now, due=due, next_trigger=nxt
            )
            rid = self.report.instance_started(conn, job, res, f"trigger {due} UTC")
        if isinstance(res, str):
            self.log.debug("job %s trigger %s not run here: %s", job.label(), due, res)
            return None
        self.job_logger(job.name).info(
            "trigger %s UTC of job %s has come: job instance %d; next trigger %s UTC",
            due,
            job.label(),
            res,
            nxt,
        )
        job = _with_trigger(job, nxt)
        with self._lock:
            was = self._scheduled.pop(job.jobid, None)
            if was is not None and not job.expired(nxt):
                self._scheduled[job.jobid] = job
        if was is not None and job.expired(nxt):
            self.report.stopped(job, f"expired on {job.expiry_date} UTC")
        return self._run().launch(job, res, now, rid)

    def next_trigger(self, jobid: int) -> datetime | None:
        """The next trigger of a job this node schedules (None when it does not)."""
        with self._lock:
            job = self._scheduled.get(jobid)
        return job.next_trigger if job is not None else None

    def running_instance(self, jobid: int) -> int | None:
        with self._lock:
            run = self._running.get(jobid)
        return run.job_instanceid if run is not None else None

    def scheduled(self) -> list[int]:
        with self._lock:
            return sorted(self._scheduled)

    def _move_trigger(self, job: JobDef, at: datetime) -> bool:
        with self._lock:
            cur = self._scheduled.get(job.jobid)
        if cur is None or cur.next_trigger is None or at >= cur.next_trigger:
            return False
        with self._api().begin() as conn:
            if not jobs_db.set_trigger(conn, job.jobid, cur.next_trigger, at):
                return False
        with self._lock:
            if job.jobid in self._scheduled:
                self._scheduled[job.jobid] = _with_trigger(self._scheduled[job.jobid], at)
        self.job_logger(job.name).info("job %s: next trigger moved to %s UTC", job.label(), at)
        self.wake()
        return True

    # ------------------------------------------------------------------ running

    def _run(self) -> JobRunner:
        if self._runner is None:
            raise QorusError("the job scheduler is not running", code="JOB-ERROR")
        return self._runner

    def run_now(self, jobid: int) -> dict[str, object]:
        """Run a job once now in this thread: ``{job_instanceid, status}``."""
        return self._run().run_now(jobid)

    def reset(self, jobid: int) -> None:
        """Forget the job's compiled code; the next run compiles the code as stored now."""
        if self.code is not None:
            self.code.reset(jobid)
        self.wake()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no run of this process is in progress (tests)."""
        with self._lock:
            runs = list(self._running.values())
        return all(r.done.wait(timeout) for r in runs)


def _with_trigger(job: JobDef, at: datetime | None) -> JobDef:
    return replace(job, next_trigger=at)
