"""Running job instances: a scheduled run on its own thread, a manual run in the caller's.

Manual runs (``PUT jobs/{id}?action=run``) run in the caller's thread and leave the schedule
alone; they run inactive and expired jobs too (as in Qorus), but never a disabled one and
never while an instance of the job runs.

The runner takes what it needs from the scheduler explicitly: the registry of the runs in
progress with the lock that guards it (shared with the scheduler, which reads it to plan), and
the schedule's next trigger, moving the trigger and waking the scheduler as callables.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from qorus_core.db import audit
from qorus_core.db import jobs as jobs_db
from qorus_core.db.group_status import stopping_group
from qorus_core.db.jobs import JobDef
from qorus_core.model.errors import NotFoundError, QorusError
from qorus_core.model.status import JobStatus
from qorus_server.contract import ServerContract
from qorus_server.jobs.clock import Clock
from qorus_server.jobs.code import JobCode
from qorus_server.jobs.report import JobReporter, job_info
from qorus_server.userapi import context
from qorus_server.userapi.jobapi import JobRun, reset_job, set_job


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


class JobRunner:
    """Runs job instances of this process and ends them (created when the scheduler starts)."""

    def __init__(
        self,
        *,
        server: ServerContract,
        runtime: context.Runtime,
        code: JobCode,
        api: Engine,
        clock: Clock,
        report: JobReporter,
        lock: threading.RLock,
        running: dict[int, Run],
        next_trigger: Callable[[int], datetime | None],
        move_trigger: Callable[[JobDef, datetime], bool],
        wake: Callable[[], None],
    ) -> None:
        self.server = server
        self.runtime = runtime
        self.code = code
        #: the API pool (manual runs read the job there); runs use the runtime's engine pool
        self._api = api
        self.clock = clock
        self.report = report
        self._lock = lock
        #: runs in progress in this process by jobid (the scheduler's registry)
        self._running = running
        self._next_trigger = next_trigger
        self._move_trigger = move_trigger
        self._wake = wake

    def launch(self, job: JobDef, job_instanceid: int, now: datetime, audit_id: int | None) -> Run:
        """Run a job instance the scheduler has just started on a thread of its own."""
        run = Run(job, job_instanceid, now, audit_id=audit_id)
        with self._lock:
            self._running[job.jobid] = run
        run.thread = threading.Thread(
            target=self.execute, args=(run,), name=f"qorus-job-{job.jobid}", daemon=True
        )
        run.thread.start()
        return run

    def execute(self, run: Run) -> JobStatus:
        """Run the job's code once and end the instance; its final status. What it changes
        is audited under the API call that ran it, else as the server's doing."""
        with audit.using(audit.current() or self.runtime.audit):
            return self._execute_run(run)

    def _execute_run(self, run: Run) -> JobStatus:
        job, jiid = run.job, run.job_instanceid
        rt = self.runtime
        logger = self.report.job_logger(job.name)
        info = {**job_info(job), "job_instanceid": jiid}
        self.report.post("JOB_INSTANCE_START", info)
        logger.info("JI %d: job %s started", jiid, job.label())

        def on_error(severity: str, error: str, desc: str | None, _info: Any) -> None:
            self.report.post(
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
            next_trigger=lambda: self._next_trigger(job.jobid),
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
            with rt.engine.begin() as conn:
                ended = jobs_db.finish_instance(conn, jiid, status, completed)
                if ended:
                    self.report.audit(
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
        nxt = self._next_trigger(job.jobid)
        self.report.post(
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
        self._wake()  # a trigger that came meanwhile runs now
        return status

    def run_now(self, jobid: int) -> dict[str, object]:
        """Run a job once now in this thread: ``{job_instanceid, status}``."""
        with self._api.connect() as conn:
            job = jobs_db.load_job(conn, jobid)
        if job is None:
            raise NotFoundError(f"there is no job with jobid {jobid}", code="JOB-ERROR")
        if not job.enabled:
            raise QorusError(f"job {job.label()} is disabled and cannot run", code="JOB-ERROR")
        with self._api.connect() as conn:
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
                with self.runtime.engine.begin() as conn:
                    res = jobs_db.start_instance(conn, jobid, self.server.sessionid or 0, now)
                    rid = self.report.instance_started(conn, job, res, "run now")
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
        status = self.execute(run)
        return {"job_instanceid": run.job_instanceid, "status": status.api_name}

    def abandon(self, run: Run, waited: float) -> None:
        """A run still going ``waited`` seconds after the scheduler stopped ends ERROR (its
        thread is left)."""
        log = self.report.log
        log.error(
            "job %s instance %d did not end within %.0f s of the stop; it is set to ERROR",
            run.job.label(),
            run.job_instanceid,
            waited,
        )
        try:
            with self.runtime.engine.begin() as conn:
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
            log.error("cannot end job instance %d: %s", run.job_instanceid, exc)
