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

Manual runs (``PUT jobs/{id}?action=run``) run in the caller's thread and leave the schedule
alone; they run inactive and expired jobs too (as in Qorus), but never a disabled one and
never while an instance of the job runs.

JOB_START / JOB_STOP (and the JOB-START / JOB-STOP audit rows) tell when the scheduler starts
and stops scheduling a job; JOB_INSTANCE_START / JOB_INSTANCE_STOP (JOB-INSTANCE-START /
-STOP) frame each run; JOB_ERROR is posted for each error or warning a run records.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from qorus_core.db import audit
from qorus_core.db import jobs as jobs_db
from qorus_core.db.engine import READONLY
from qorus_core.db.group_status import stopping_group
from qorus_core.db.jobs import JobDef
from qorus_core.model.errors import NotFoundError, QorusError
from qorus_core.model.status import JobStatus
from qorus_server.contract import ServerContract
from qorus_server.jobs.clock import Clock, SystemClock
from qorus_server.jobs.code import JobCode
from qorus_server.userapi import context, install
from qorus_server.userapi.jobapi import JobRun, reset_job, set_job

LoggerFactory = Callable[[str], logging.Logger]

#: a trigger missed by more than this many seconds when the scheduler takes the job was
#: missed while no node ran it (a younger one is only late and runs)
MISSED_GRACE = 60
#: how often the scheduler reads the jobs again with no trigger due (changes by other nodes)
POLL_INTERVAL = 30.0
#: how long a stopping scheduler waits for running instances before it ends them ERROR
STOP_WAIT = 30.0


@dataclass
class Run:
    """One job instance running in this process."""

    job: JobDef
    job_instanceid: int
    started: datetime
    thread: threading.Thread | None = None
    done: threading.Event = field(default_factory=threading.Event)
    status: JobStatus | None = None
    #: the JOB-INSTANCE-START audit row (named by JOB-INSTANCE-STOP)
    audit_id: int | None = None


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
        self._logger_factory = logger_factory
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
                self._abandon(run)
        with self._lock:
            scheduled = list(self._scheduled.values())
            self._scheduled.clear()
        for job in scheduled:
            self._stopped(job, "the system is stopping")
        if self.server is not None and self.server.sessionid is not None:
            try:
                with self._api().begin() as conn:
                    jobs_db.release_jobs(conn, self.server.sessionid)
            except SQLAlchemyError as exc:
                self.log.error("cannot release the single-instance jobs: %s", exc)

    def _abandon(self, run: Run) -> None:
        """A run still going when the scheduler stops ends ERROR (its thread is left)."""
        self.log.error(
            "job %s instance %d did not end within %.0f s of the stop; it is set to ERROR",
            run.job.label(),
            run.job_instanceid,
            self.stop_wait,
        )
        try:
            with self._engine().begin() as conn:
                jobs_db.add_error(
                    conn,
                    run.job_instanceid,
                    severity="MAJOR",
                    error="JOB-STOPPED",
                    description="the system stopped while the job ran",
                    info=None,
                    business=False,
                )
                jobs_db.finish_instance(conn, run.job_instanceid, JobStatus.ERROR, self.clock.now())
        except SQLAlchemyError as exc:
            self.log.error("cannot end job instance %d: %s", run.job_instanceid, exc)

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
        if self._logger_factory is not None:
            return self._logger_factory(name)
        logs = self.server.logs if self.server is not None else None
        if logs is None:
            return logging.getLogger(f"qorus.JOB.{name}")
        return logs.get_logger("JOB", name)

    def _wake_workflow(self, workflowid: int) -> None:
        # without a workflow engine here other nodes poll for the new order
        with contextlib.suppress(QorusError):
            self._srv().workflows.notify(workflowid)

    def _exec_sync(
        self, name: str | int, version: str | None, fields: Mapping[str, object]
    ) -> dict[str, object]:
        return self._srv().workflows.exec_synchronous(name, version, fields)

    def _post(
        self,
        event: str,
        info: dict[str, object],
        severity: str = "INFO",
        user_severity: str | None = None,
    ) -> None:
        srv = self.server
        if srv is not None:
            srv.events.post(
                event, info, severity=severity, caller="jobs", user_severity=user_severity
            )

    def _audit(
        self,
        event: str,
        job: JobDef,
        info1: str,
        jiid: int | None = None,
        conn: Connection | None = None,
        **kw: Any,
    ) -> int | None:
        """A job's audit row under the trail in force (an API call's, else the server's): in
        ``conn``'s transaction when given (a job instance's row and its audit row commit
        together), else on its own."""
        srv = self.server
        if srv is None or srv.auditor is None:
            return None
        if conn is not None:
            return srv.auditor.event(
                event, conn, info1=info1, jobid=job.jobid, job_instanceid=jiid, **kw
            )
        try:
            return srv.auditor.event(event, info1=info1, jobid=job.jobid, job_instanceid=jiid, **kw)
        except SQLAlchemyError as exc:
            self.log.error("cannot write the %s audit row of job %s: %s", event, job.name, exc)
            return None

    def _instance_started(
        self, conn: Connection, job: JobDef, res: int | str, why: str
    ) -> int | None:
        """The JOB-INSTANCE-START row of a job instance just started in ``conn``."""
        if not isinstance(res, int):
            return None
        return self._audit("JOB-INSTANCE-START", job, why, res, conn)

    def _job_info(self, job: JobDef) -> dict[str, object]:
        return {"name": job.name, "version": job.version, "jobid": job.jobid}

    def _started(self, job: JobDef, nxt: datetime | None) -> None:
        self.job_logger(job.name).info(
            "job %s scheduled: %s; next trigger %s UTC", job.label(), job.schedule.describe(), nxt
        )
        self._post("JOB_START", {**self._job_info(job), "next": str(nxt) if nxt else None})
        self._audit("JOB-START", job, f"scheduled: {job.schedule.describe()}", info2=f"next: {nxt}")

    def _stopped(self, job: JobDef, why: str) -> None:
        self.job_logger(job.name).info("job %s no longer scheduled: %s", job.label(), why)
        self._post("JOB_STOP", {**self._job_info(job), "reason": why})
        self._audit("JOB-STOP", job, why)

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
                        self._stopped(job, f"expired on {job.expiry_date} UTC")
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
                self._started(job, job.next_trigger)
            if job.next_trigger <= now:
                run = self._start_due(job, now)
                if run is not None:
                    started.append(run)
        with self._lock:
            gone = [j for jid, j in self._scheduled.items() if jid not in seen]
            for j in gone:
                del self._scheduled[j.jobid]
        for j in gone:
            self._stopped(j, "inactive, disabled or deleted")
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
            rid = self._instance_started(conn, job, res, f"trigger {due} UTC")
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
            self._stopped(job, f"expired on {job.expiry_date} UTC")
        run = Run(job, res, now, audit_id=rid)
        with self._lock:
            self._running[job.jobid] = run
        run.thread = threading.Thread(
            target=self._execute, args=(run,), name=f"qorus-job-{job.jobid}", daemon=True
        )
        run.thread.start()
        return run

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

    def _execute(self, run: Run) -> JobStatus:
        """Run the job's code once and end the instance; its final status. What it changes
        is audited under the API call that ran it, else as the server's doing."""
        rt = self.runtime
        with audit.using(audit.current() or (rt.audit if rt is not None else None)):
            return self._execute_run(run)

    def _execute_run(self, run: Run) -> JobStatus:
        job, jiid = run.job, run.job_instanceid
        rt = self.runtime
        assert rt is not None and self.code is not None
        logger = self.job_logger(job.name)
        info = {**self._job_info(job), "job_instanceid": jiid}
        self._post("JOB_INSTANCE_START", info)
        logger.info("JI %d: job %s started", jiid, job.label())

        def on_error(severity: str, error: str, desc: str | None, _info: Any) -> None:
            self._post(
                "JOB_ERROR",
                {**info, "severity": severity, "error": error, "description": desc},
                user_severity=severity,
            )

        jrun = JobRun(
            runtime=rt,
            logger=logger,
            job=job,
            job_instanceid=jiid,
            started=run.started,
            next_trigger=lambda: self.next_trigger(job.jobid),
            move_trigger=lambda at: self._move_trigger(job, at),
            now=self.clock.now,
            on_error=on_error,
        )
        tokens = (
            set_job(jrun),
            context.set_interface_logger(logger),
            context.set_code_runtime(rt),
        )
        try:
            try:
                obj = self.code.job_class(job)()
                obj.run()
            except Exception as exc:
                logger.error("JI %d: %s", jiid, "".join(traceback.format_exception(exc)).strip())
                code = exc.code if isinstance(exc, QorusError) else type(exc).__name__
                desc = exc.desc if isinstance(exc, QorusError) else str(exc)
                try:
                    jrun.raise_error(code, desc, None, "MAJOR", False)
                except SQLAlchemyError as db_exc:
                    logger.error("JI %d: cannot record the error: %s", jiid, db_exc)
                    jrun.failed = True
        finally:
            context.reset_code_runtime(tokens[2])
            context.reset_interface_logger(tokens[1])
            reset_job(tokens[0])
        status = JobStatus.ERROR if jrun.failed else JobStatus.COMPLETE
        completed = self.clock.now()
        try:
            took = (completed - run.started).total_seconds()
            with self._engine().begin() as conn:
                ended = jobs_db.finish_instance(conn, jiid, status, completed)
                if ended:
                    self._audit(
                        "JOB-INSTANCE-STOP",
                        job,
                        status,
                        jiid,
                        conn,
                        info2=f"{status.api_name} after {took:.3f} s",
                        related=run.audit_id,
                    )
        except SQLAlchemyError as exc:
            logger.error("JI %d: cannot store the status %s: %s", jiid, status.api_name, exc)
            ended = False
        if not ended:
            logger.error("JI %d: the instance was no longer IN-PROGRESS", jiid)
        logger.info(
            "JI %d: job %s ended %s (%.3f s)",
            jiid,
            job.label(),
            status.api_name,
            (completed - run.started).total_seconds(),
        )
        nxt = self.next_trigger(job.jobid)
        self._post(
            "JOB_INSTANCE_STOP",
            {
                **info,
                "status": status.api_name,
                "started": str(run.started),
                "completed": str(completed),
                "next": str(nxt) if nxt else None,
            },
            severity="INFO" if status == JobStatus.COMPLETE else "MAJOR",
        )
        run.status = status
        with self._lock:
            if self._running.get(job.jobid) is run:
                del self._running[job.jobid]
        run.done.set()
        self.wake()  # a trigger that came meanwhile runs now
        return status

    def run_now(self, jobid: int) -> dict[str, object]:
        """Run a job once now in this thread: ``{job_instanceid, status}``."""
        srv = self._srv()
        with self._api().connect() as conn:
            job = jobs_db.load_job(conn, jobid)
        if job is None:
            raise NotFoundError(f"there is no job with jobid {jobid}", code="JOB-ERROR")
        if not job.enabled:
            raise QorusError(f"job {job.label()} is disabled and cannot run", code="JOB-ERROR")
        with self._api().connect() as conn:
            group = stopping_group(conn, "job", jobid)
        if group is not None:
            raise QorusError(
                f"job {job.label()} is a member of the disabled interface group {group!r}: "
                "enable the group to run it",
                code="GROUP-DISABLED",
            )
        now = self.clock.now()
        with self._lock:
            busy = self._running.get(jobid)
            if busy is None:
                with self._engine().begin() as conn:
                    res = jobs_db.start_instance(conn, jobid, srv.sessionid or 0, now)
                    rid = self._instance_started(conn, job, res, "run now")
                if isinstance(res, int):
                    run = Run(job, res, now, audit_id=rid)
                    self._running[jobid] = run
        if busy is not None:
            res = jobs_db.RUNNING
        if res == jobs_db.GONE:
            raise NotFoundError(f"there is no job with jobid {jobid}", code="JOB-ERROR")
        if isinstance(res, str):
            raise QorusError(
                f"job {job.label()} is running (an instance is IN-PROGRESS); a job never runs "
                "twice at the same time",
                code="JOB-RUNNING-ERROR",
            )
        status = self._execute(run)
        return {"job_instanceid": run.job_instanceid, "status": status.api_name}

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
