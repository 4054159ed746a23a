"""What the job scheduler tells of its jobs: each job's log, the events it posts and the audit
rows it writes.

JOB_START / JOB_STOP (and the JOB-START / JOB-STOP audit rows) tell when the scheduler starts
and stops scheduling a job; JOB_INSTANCE_START / JOB_INSTANCE_STOP (JOB-INSTANCE-START /
-STOP) frame each run; JOB_ERROR is posted for each error or warning a run records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from qorus_core.db.jobs import JobDef
from qorus_server.contract import ServerContract

LoggerFactory = Callable[[str], logging.Logger]


def job_info(job: JobDef) -> dict[str, object]:
    """The fields that name a job in its events."""
    return {"name": job.name, "version": job.version, "jobid": job.jobid}


class JobReporter:
    """The job scheduler's logs, events and audit rows (bound to the server at its start)."""

    def __init__(self, logger_factory: LoggerFactory | None = None) -> None:
        self._logger_factory = logger_factory
        self.server: ServerContract | None = None
        self.log = logging.getLogger("qorus.jobs")

    def bind(self, server: ServerContract) -> None:
        """Report through ``server`` (its events, audit trail, logs)."""
        self.server = server
        self.log = server.log

    def job_logger(self, name: str) -> logging.Logger:
        """The log of one job (``OMQ-$instance-JOB-NAME.log``)."""
        if self._logger_factory is not None:
            return self._logger_factory(name)
        logs = self.server.logs if self.server is not None else None
        if logs is None:
            return logging.getLogger(f"qorus.JOB.{name}")
        return logs.get_logger("JOB", name)

    def post(
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

    def audit(
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

    def instance_started(
        self, conn: Connection, job: JobDef, res: int | str, why: str
    ) -> int | None:
        """The JOB-INSTANCE-START row of a job instance just started in ``conn``."""
        if not isinstance(res, int):
            return None
        return self.audit("JOB-INSTANCE-START", job, why, res, conn)

    def started(self, job: JobDef, nxt: datetime | None) -> None:
        """The scheduler starts scheduling ``job``."""
        self.job_logger(job.name).info(
            "job %s scheduled: %s; next trigger %s UTC", job.label(), job.schedule.describe(), nxt
        )
        self.post("JOB_START", {**job_info(job), "next": str(nxt) if nxt else None})
        self.audit("JOB-START", job, f"scheduled: {job.schedule.describe()}", info2=f"next: {nxt}")

    def stopped(self, job: JobDef, why: str) -> None:
        """The scheduler no longer schedules ``job``."""
        self.job_logger(job.name).info("job %s no longer scheduled: %s", job.label(), why)
        self.post("JOB_STOP", {**job_info(job), "reason": why})
        self.audit("JOB-STOP", job, why)
