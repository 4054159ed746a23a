"""``JobApi`` (``jobapi`` in job code): what a job's ``run()`` may ask of the running instance.

The job being run is kept in a context variable (:class:`JobRun`), set by the scheduler around
``run()``, so the calls work from any code ``run()`` calls in its thread. Errors and warnings
(``err``, ``errWithInfo``, ``warn``, ``warnWithInfo``) are written to ``job_errors`` at once and
do not stop the code; an error of a severity above WARNING makes the instance end ERROR.
Each call that stores something is its own short transaction, committed before it returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from qorus_core.db import jobs as jobs_db
from qorus_core.db.jobs import JobDef
from qorus_core.model.errors import QorusError, ValidationError

from .context import Runtime
from .fmt import qore_sprintf
from .userapi import UserApi

#: error severities from lowest to highest; WARNING and below are warnings
SEVERITIES = ("NONE", "INFO", "WARNING", "MINOR", "MAJOR", "FATAL")
_WARNING_RANK = SEVERITIES.index("WARNING")


@dataclass
class JobRun:
    """The job instance whose code runs in this context."""

    runtime: Runtime
    logger: logging.Logger
    job: JobDef
    job_instanceid: int
    started: datetime
    #: the scheduler's next trigger of the job (None when it is not scheduled)
    next_trigger: Callable[[], datetime | None]
    #: move the next trigger earlier: (new trigger, naive UTC) -> done
    move_trigger: Callable[[datetime], bool]
    #: the scheduler's clock (naive UTC)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC).replace(tzinfo=None))
    #: called after an error or warning is stored: (severity, error, description, info)
    on_error: Callable[[str, str, str | None, Any], None] | None = None
    #: an error above WARNING was raised: the instance ends ERROR
    failed: bool = False
    #: what saveInfo stored (getJobInfo)
    info: Any = None
    errors: list[dict[str, Any]] = field(default_factory=list)

    def raise_error(
        self, error: str, desc: str | None, info: Any, severity: str, business: bool
    ) -> None:
        sev = str(severity).upper()
        if sev not in SEVERITIES:
            raise ValidationError(
                f"unknown error severity {severity!r} (use {', '.join(SEVERITIES)})",
                code="JOB-ERROR",
            )
        with self.runtime.engine.begin() as conn:
            jobs_db.add_error(
                conn,
                self.job_instanceid,
                severity=sev,
                error=str(error),
                description=desc,
                info=info,
                business=bool(business),
            )
        if SEVERITIES.index(sev) > _WARNING_RANK:
            self.failed = True
        self.errors.append({"severity": sev, "error": str(error), "description": desc})
        level = logging.WARNING if SEVERITIES.index(sev) <= _WARNING_RANK else logging.ERROR
        self.logger.log(level, "JI %d: %s %s: %s", self.job_instanceid, sev, error, desc or "")
        if self.on_error is not None:
            self.on_error(sev, str(error), desc, info)


_job: ContextVar[JobRun | None] = ContextVar("qorus_job_run", default=None)


def current_job() -> JobRun | None:
    return _job.get()


def set_job(run: JobRun | None) -> Any:
    return _job.set(run)


def reset_job(token: Any) -> None:
    _job.reset(token)


def _run() -> JobRun:
    run = _job.get()
    if run is None:
        raise QorusError(
            "this JobApi call needs a running job (call it from a job's run())",
            code="JOB-CONTEXT-ERROR",
        )
    return run


def _hash(data: Any, what: str) -> dict[str, Any] | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise ValidationError(f"{what}: the data must be a hash, got {type(data).__name__}")
    return dict(data)


class JobApi(UserApi):
    """Static methods, as in Qorus (``jobapi.saveInfo({...})``); every UserApi call too."""

    # ------------------------------------------------------------------ errors and warnings

    @staticmethod
    def err(err: str, desc_fmt: str = "", *args: object) -> None:
        """Record a MAJOR business error; the instance will end ERROR (the code goes on)."""
        desc = qore_sprintf(desc_fmt, *args) if args else str(desc_fmt)
        _run().raise_error(err, desc, None, "MAJOR", True)

    @staticmethod
    def errWithInfo(
        err: str,
        desc: str = "",
        info: Any = None,
        severity: str = "MAJOR",
        business: bool = False,
    ) -> None:
        """Record an error with ``info``; at WARNING or below it is only a warning."""
        _run().raise_error(err, str(desc), info, severity, business)

    @staticmethod
    def warn(err: str, desc_fmt: str = "", *args: object) -> None:
        """Record a business warning (the instance status is not changed)."""
        desc = qore_sprintf(desc_fmt, *args) if args else str(desc_fmt)
        _run().raise_error(err, desc, None, "WARNING", True)

    @staticmethod
    def warnWithInfo(err: str, desc: str = "", info: Any = None, business: bool = False) -> None:
        _run().raise_error(err, str(desc), info, "WARNING", business)

    # ------------------------------------------------------------------ instance info

    @staticmethod
    def saveInfo(info: Any) -> None:
        """Store ``info`` with the job instance (the ``info`` of its result)."""
        run = _run()
        with run.runtime.engine.begin() as conn:
            jobs_db.save_info(conn, run.job_instanceid, info)
        run.info = info

    @staticmethod
    def getJobInfo() -> Any:
        """What :meth:`saveInfo` stored in this run (None before)."""
        return _run().info

    @staticmethod
    def getInfo() -> dict[str, object]:
        """The job and this run: jobid, job_instanceid, name, version, description, trigger,
        last_executed, last_executed_job_instanceid, next."""
        run = _run()
        d = run.job
        return {
            "jobid": d.jobid,
            "job_instanceid": run.job_instanceid,
            "name": d.name,
            "version": d.version,
            "description": d.description,
            "trigger": d.schedule.describe(),
            "started": run.started,
            "last_executed": d.last_executed,
            "last_executed_job_instanceid": d.last_executed_job_instanceid,
            "single_instance": d.single_instance,
            "run_skipped": d.run_skipped,
            "expiry_date": d.expiry_date,
            "next": run.next_trigger(),
        }

    # ------------------------------------------------------------------ state data

    @staticmethod
    def saveStateData(data: Mapping[str, Any] | None) -> None:
        """Store the job's state data: kept across runs (and restarts) until a run ends
        COMPLETE."""
        run = _run()
        value = _hash(data, "saveStateData")
        with run.runtime.engine.begin() as conn:
            jobs_db.save_state(conn, run.job_instanceid, value)

    @staticmethod
    def getStateData() -> dict[str, Any] | None:
        run = _run()
        with run.runtime.engine.connect() as conn:
            value = jobs_db.instance_state(conn, run.job_instanceid)
        return value if isinstance(value, dict) else None

    @staticmethod
    def savePersistentStateData(data: Mapping[str, Any] | None) -> None:
        """Store the job's persistent state data, kept across every run."""
        run = _run()
        value = _hash(data, "savePersistentStateData")
        with run.runtime.engine.begin() as conn:
            jobs_db.save_persistent_state(conn, run.job.jobid, value)

    @staticmethod
    def clearPersistentStateData() -> None:
        JobApi.savePersistentStateData(None)

    @staticmethod
    def getPersistentStateData() -> dict[str, Any] | None:
        run = _run()
        with run.runtime.engine.connect() as conn:
            value = jobs_db.persistent_state(conn, run.job.jobid)
        return value if isinstance(value, dict) else None

    # ------------------------------------------------------------------ trigger

    @staticmethod
    def setTrigger(ts: datetime | timedelta | float) -> bool:
        """Run the job once earlier than its next trigger: at ``ts`` (a datetime, naive = UTC,
        or a delay as a timedelta or seconds). False when ``ts`` is past or not before the
        next trigger."""
        run = _run()
        now = run.now()
        if isinstance(ts, timedelta):
            at = now + ts
        elif isinstance(ts, int | float) and not isinstance(ts, bool):
            at = now + timedelta(seconds=float(ts))
        elif isinstance(ts, datetime):
            at = ts if ts.tzinfo is None else ts.astimezone(UTC).replace(tzinfo=None)
        else:
            raise ValidationError(
                f"setTrigger: a date, a timedelta or seconds, got {type(ts).__name__}"
            )
        at = at.replace(microsecond=0)
        nxt = run.next_trigger()
        if at < now.replace(microsecond=0):
            run.logger.info("setTrigger(): %s is in the past", at)
            return False
        if nxt is not None and at >= nxt:
            run.logger.info("setTrigger(): %s is not before the next trigger %s", at, nxt)
            return False
        return run.move_trigger(at)
