"""Job operations: ``jobs``, ``jobs/{id|name|name:version}``, ``jobs/{id}/results`` and
``jobresults/{id}``, and the ``omq.system.job.*`` RPC methods.

A job is named by its id, its name (the latest version) or ``name:version``; the ``-id`` RPC
methods take the id only. With RBAC on, a user sees only the jobs of its interface groups.
Changes (active, schedule, expiry, enabled) are stored first; the scheduler of this node then
plans the job at once (other nodes see the change at their next tick).
"""

from __future__ import annotations

from typing import Any

from qorus_core.db import jobs as jobs_db
from qorus_core.db.jobs import JobDef
from qorus_core.db.orders_query import MAX_LIMIT
from qorus_core.model import args as a
from qorus_core.model.errors import NotFoundError, QorusError, ValidationError
from qorus_core.model.schedule import MAX_DURATION, Schedule, ScheduleError
from qorus_core.model.status import JOB_STATUS_CODES
from qorus_server.api import access
from qorus_server.api.registry import CallContext, operation
from qorus_server.api.wfcommon import readonly
from qorus_server.jobs.manager import JobManager

#: the widest job name and version (their columns)
MAX_NAME, MAX_VERSION = 160, 80
#: the longest cron schedule string taken ("m h d M dow")
MAX_SCHEDULE = 5 * 240 + 4


def scheduler(ctx: CallContext) -> JobManager | None:
    """This node's job scheduler, when it runs."""
    for comp in ctx.server.components:
        if isinstance(comp, JobManager):
            return comp
    return None


def _need_scheduler(ctx: CallContext) -> JobManager:
    mgr = scheduler(ctx)
    if mgr is None:
        raise QorusError("the job scheduler is not running on this node", code="JOB-ERROR")
    return mgr


def job_ref(value: object, name: str = "id") -> str:
    """A job named by id (0 .. 2**63-1), name or ``name:version``, as text; 400 otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(a.arg_id(value, name))
    if a.absent(value):
        raise ValidationError(f"missing argument {name!r} (a job name or id)")
    text = a.arg_text(value, name, max_len=MAX_NAME + 1 + MAX_VERSION).strip()
    if not text:
        raise ValidationError(f"argument {name!r}: a job name or id is required")
    if text.isascii() and text.isdigit():
        return str(a.arg_id(text, name))
    return text


def _sees(ctx: CallContext, jobid: int) -> bool:
    return access.visible(ctx, "job", jobid)


def resolve(ctx: CallContext, ref: object, version: object = None, arg: str = "id") -> int:
    """The jobid of ``ref`` visible to the caller: 400 when malformed, 404 JOB-ERROR when
    unknown, 403 when its interface groups hide it."""
    text = job_ref(ref, arg)
    ver = None if a.absent(version) else a.arg_text(version, "version", max_len=MAX_VERSION)
    if ver is None and ":" in text and not text.isdigit():
        text, _, after = text.partition(":")
        ver = after or None
    with readonly(ctx) as conn:
        jobid = jobs_db.find_job(conn, text, ver)
    access.check_visible(ctx, "job", jobid, ref)
    return jobid


def resolve_id(ctx: CallContext, id: object) -> int:
    """A jobid given as a number (the ``-id`` RPC methods)."""
    return resolve(ctx, str(a.arg_id(id, "id")))


def _load(ctx: CallContext, jobid: int) -> JobDef:
    with readonly(ctx) as conn:
        job = jobs_db.load_job(conn, jobid)
    if job is None:
        raise NotFoundError(f"there is no job with jobid {jobid}", code="JOB-ERROR")
    return job


def _describe(
    job: JobDef,
    counts: dict[str, int],
    groups: list[str],
    running: int | None,
    mgr: JobManager | None,
) -> dict[str, Any]:
    sched = job.schedule
    scheduled = (
        job.active
        and job.enabled
        and not (job.next_trigger is not None and job.expired(job.next_trigger))
    )
    out: dict[str, Any] = {
        "jobid": job.jobid,
        "name": job.name,
        "version": job.version,
        "description": job.description,
        "author": job.author,
        "active": job.active,
        "enabled": job.enabled,
        "run_skipped": job.run_skipped,
        "single_instance": job.single_instance,
        "expiry_date": job.expiry_date,
        "sched_type": sched.kind,
        "sched_txt": sched.describe(),
        "trigger": sched.describe(),
        "schedule": sched.expression or None,
        "duration": sched.duration,
        "recurring": sched.duration,
        **dict(
            zip(("minute", "hour", "day", "month", "wday"), sched.cron or (None,) * 5, strict=True)
        ),
        "last_executed": job.last_executed,
        "last_executed_job_instanceid": job.last_executed_job_instanceid,
        "next": job.next_trigger if scheduled else None,
        "job_instanceid": running,
        "sessionid": job.sessionid,
        "scheduled_here": mgr is not None and job.jobid in mgr.scheduled(),
        "language": job.language,
        "class_name": job.class_name,
        "groups": groups,
        "created": job.created,
        "modified": job.modified,
    }
    for name in JOB_STATUS_CODES:
        out[name] = counts.get(name, 0)
    out["TOTAL"] = sum(counts.values())
    return out


def _info(ctx: CallContext, jobid: int, *, state: bool = True) -> dict[str, Any]:
    job = _load(ctx, jobid)
    with readonly(ctx) as conn:
        counts = jobs_db.instance_counts(conn, jobid).get(jobid, {})
        groups = jobs_db.job_groups(conn, jobid).get(jobid, [])
        running = jobs_db.running_instance(conn, jobid)
        out = _describe(job, counts, groups, running, scheduler(ctx))
        if state:
            out["state"] = jobs_db.state_data(conn, jobid)
            out["persistent_state"] = jobs_db.persistent_state(conn, jobid)
    return out


def _all(ctx: CallContext, active_only: bool = False) -> list[dict[str, Any]]:
    mgr = scheduler(ctx)
    with readonly(ctx) as conn:
        jobs = jobs_db.all_jobs(conn)
        counts = jobs_db.instance_counts(conn)
        groups = jobs_db.job_groups(conn)
        out = []
        for job in jobs:
            if not _sees(ctx, job.jobid) or (active_only and not job.active):
                continue
            running = jobs_db.running_instance(conn, job.jobid)
            out.append(
                _describe(
                    job,
                    counts.get(job.jobid, {}),
                    groups.get(job.jobid, []),
                    running,
                    mgr,
                )
            )
    return out


def _refresh(ctx: CallContext) -> None:
    """Let this node's scheduler plan the change now (the others see it at their next tick)."""
    mgr = scheduler(ctx)
    if mgr is not None:
        mgr.tick()


def _update(ctx: CallContext, jobid: int, **values: Any) -> JobDef:
    with ctx.server.engine.begin() as conn:
        if not jobs_db.update_job(conn, jobid, **values):
            raise NotFoundError(f"there is no job with jobid {jobid}", code="JOB-ERROR")
    _refresh(ctx)
    return _load(ctx, jobid)


# ---------------------------------------------------------------------- queries


@operation("jobs.list", rest=[("GET", "jobs", None)])
def list_jobs(ctx: CallContext) -> list[dict[str, Any]]:
    """Every visible job: definition, schedule, next trigger and instance counts."""
    return _all(ctx)


@operation("jobs.list-active", rpc="omq.system.job.list-active")
def list_active(ctx: CallContext) -> dict[str, Any]:
    """The active jobs the caller sees, by name."""
    return {j["name"]: j for j in _all(ctx, active_only=True)}


@operation("jobs.info", rest=[("GET", "jobs/{id}", None)], rpc="omq.system.job.info")
def info(ctx: CallContext, id: object = None, version: object = None) -> Any:
    """One job with its state data; without ``id`` (RPC) every job by name."""
    if a.absent(id):
        return {j["name"]: j for j in _all(ctx)}
    return _info(ctx, resolve(ctx, id, version))


@operation("jobs.info-id", rpc="omq.system.job.info-id")
def info_id(ctx: CallContext, id: object) -> dict[str, Any]:
    """One job by jobid."""
    return _info(ctx, resolve_id(ctx, id))


@operation("jobs.results", rest=[("GET", "jobs/{id}/results", None)])
def results(
    ctx: CallContext,
    id: object,
    version: object = None,
    limit: object = None,
    offset: object = None,
) -> list[dict[str, Any]]:
    """The job's instances, newest first (``limit`` 100 by default, ``offset``)."""
    lim = a.arg_limit(limit, "limit", default=100, maximum=MAX_LIMIT)
    off = a.arg_offset(offset, "offset")
    jobid = resolve(ctx, id, version)
    with readonly(ctx) as conn:
        return jobs_db.instances(conn, jobid, limit=lim or 0, offset=off)


@operation("jobs.result", rest=[("GET", "jobresults/{id}", None)])
def result(ctx: CallContext, id: object) -> dict[str, Any]:
    """One job instance with its errors and warnings."""
    jiid = a.arg_id(id, "id")
    with readonly(ctx) as conn:
        jobid = jobs_db.instance_jobid(conn, jiid)
        if jobid is None or not _sees(ctx, jobid):
            raise NotFoundError(f"there is no job instance {jiid}", code="JOB-INSTANCE-ERROR")
        found = jobs_db.instance(conn, jiid)
    if found is None:
        raise NotFoundError(f"there is no job instance {jiid}", code="JOB-INSTANCE-ERROR")
    return found


# ---------------------------------------------------------------------- running


@operation(
    "jobs.run",
    rest=[("PUT", "jobs/{id}", "run")],
    rpc="omq.system.job.run",
    permissions=("RUN-JOB",),
    audit=True,
)
def run(ctx: CallContext, id: object, version: object = None) -> dict[str, object]:
    """Run the job now and wait for its end: ``{job_instanceid, status}`` (also an inactive
    or expired job; never a disabled one, nor while an instance of it runs)."""
    jobid = resolve(ctx, id, version)
    return _need_scheduler(ctx).run_now(jobid)


@operation("jobs.run-id", rpc="omq.system.job.run-id", permissions=("RUN-JOB",), audit=True)
def run_id(ctx: CallContext, id: object) -> dict[str, object]:
    """Run the job with this jobid now."""
    return _need_scheduler(ctx).run_now(resolve_id(ctx, id))


# ---------------------------------------------------------------------- changes


def _active(ctx: CallContext, jobid: int, active: object) -> dict[str, Any]:
    value = True if a.absent(active) else a.arg_bool(active, "active")
    job = _update(ctx, jobid, active=value)
    state = "active" if value else "inactive"
    return {
        "jobid": jobid,
        "name": job.name,
        "version": job.version,
        "active": value,
        "info": f"job {job.label()} is {state}",
    }


@operation(
    "jobs.set-active",
    rest=[("PUT", "jobs/{id}", "setActive")],
    rpc="omq.system.job.set-active",
    permissions=("MODIFY-JOB-STATUS",),
    audit=True,
)
def set_active(
    ctx: CallContext, id: object, active: object = None, version: object = None
) -> dict[str, Any]:
    """Make the job active (scheduled) or inactive (``active``, true when left out)."""
    return _active(ctx, resolve(ctx, id, version), active)


@operation(
    "jobs.set-active-id",
    rpc="omq.system.job.set-active-id",
    permissions=("MODIFY-JOB-STATUS",),
    audit=True,
)
def set_active_id(ctx: CallContext, id: object, active: object = None) -> dict[str, Any]:
    """set-active by jobid."""
    return _active(ctx, resolve_id(ctx, id), active)


def _schedule(ctx: CallContext, jobid: int, schedule: object, duration: object) -> dict[str, Any]:
    has_sched, has_dur = not a.absent(schedule), not a.absent(duration)
    if has_sched == has_dur:
        raise ValidationError(
            "give either 'schedule' (a cron string 'minutes hours days months dow') or "
            "'duration' (seconds), one of them",
            code="JOB-SCHEDULE-ERROR",
        )
    if has_sched:
        text = a.arg_text(schedule, "schedule", max_len=MAX_SCHEDULE)
        try:
            sched = Schedule.parse(text)
        except ScheduleError as exc:
            raise ScheduleError(f"argument 'schedule': {exc.desc}") from None
    else:
        seconds = a.arg_int(duration, "duration", minimum=1, maximum=MAX_DURATION - 1)
        sched = Schedule.every(seconds)
    with ctx.server.engine.begin() as conn:
        if not jobs_db.set_schedule(conn, jobid, sched):
            raise NotFoundError(f"there is no job with jobid {jobid}", code="JOB-ERROR")
    _refresh(ctx)
    job = _load(ctx, jobid)
    return {
        "jobid": jobid,
        "name": job.name,
        "version": job.version,
        "schedule": sched.expression or None,
        "duration": sched.duration,
        "info": f"job {job.label()}: {sched.describe()}",
    }


@operation(
    "jobs.schedule",
    rest=[("PUT", "jobs/{id}", "schedule")],
    rpc="omq.system.job.schedule",
    permissions=("RESCHEDULE-JOB",),
    audit=True,
)
def schedule(
    ctx: CallContext,
    id: object,
    schedule: object = None,
    duration: object = None,
    version: object = None,
) -> dict[str, Any]:
    """A new schedule: ``schedule`` (cron string ``"m h d M dow"``) or ``duration``."""
    return _schedule(ctx, resolve(ctx, id, version), schedule, duration)


@operation(
    "jobs.schedule-id",
    rpc="omq.system.job.schedule-id",
    permissions=("RESCHEDULE-JOB",),
    audit=True,
)
def schedule_id(
    ctx: CallContext, id: object, schedule: object = None, duration: object = None
) -> dict[str, Any]:
    """schedule by jobid."""
    return _schedule(ctx, resolve_id(ctx, id), schedule, duration)


def _expiry(ctx: CallContext, jobid: int, date: object) -> dict[str, Any]:
    value = None if a.absent(date) else a.arg_date(date, "date")
    job = _update(ctx, jobid, expiry_date=value)
    what = f"expires on {value} UTC" if value else "has no expiry date"
    return {
        "jobid": jobid,
        "name": job.name,
        "version": job.version,
        "expiry_date": value,
        "info": f"job {job.label()} {what}",
    }


@operation(
    "jobs.set-expiry",
    rest=[("PUT", "jobs/{id}", "setExpiry"), ("PUT", "jobs/{id}", "setExpire")],
    rpc="omq.system.job.set-expiry",
    permissions=("MODIFY-JOB-EXPIRY",),
    audit=True,
)
def set_expiry(
    ctx: CallContext, id: object, date: object = None, version: object = None
) -> dict[str, Any]:
    """A new expiry ``date`` (no trigger at or after it runs); without one, none."""
    return _expiry(ctx, resolve(ctx, id, version), date)


@operation(
    "jobs.set-expiry-id",
    rpc="omq.system.job.set-expiry-id",
    permissions=("MODIFY-JOB-EXPIRY",),
    audit=True,
)
def set_expiry_id(ctx: CallContext, id: object, date: object = None) -> dict[str, Any]:
    """set-expiry by jobid."""
    return _expiry(ctx, resolve_id(ctx, id), date)


def _enabled(ctx: CallContext, jobid: int, value: bool) -> dict[str, Any]:
    job = _update(ctx, jobid, enabled=value)
    return {
        "jobid": jobid,
        "name": job.name,
        "version": job.version,
        "info": f"{'enabled' if value else 'disabled'} job {job.label()}",
    }


@operation(
    "jobs.enable",
    rest=[("PUT", "jobs/{id}", "enable")],
    permissions=("MODIFY-JOB-STATUS",),
    audit=True,
)
def enable(ctx: CallContext, id: object, version: object = None) -> dict[str, Any]:
    """Enable the job (an active one is scheduled again)."""
    return _enabled(ctx, resolve(ctx, id, version), True)


@operation(
    "jobs.disable",
    rest=[("PUT", "jobs/{id}", "disable")],
    permissions=("MODIFY-JOB-STATUS",),
    audit=True,
)
def disable(ctx: CallContext, id: object, version: object = None) -> dict[str, Any]:
    """Disable the job: it is not scheduled and cannot be run."""
    return _enabled(ctx, resolve(ctx, id, version), False)


def _reset(ctx: CallContext, jobid: int) -> str:
    job = _load(ctx, jobid)
    mgr = scheduler(ctx)
    if mgr is not None:
        mgr.reset(jobid)
        mgr.tick()
    return f"job {job.label()} has been reset: its code is compiled again at its next run"


@operation(
    "jobs.reset",
    rest=[("PUT", "jobs/{id}", "reset")],
    rpc="omq.system.job.reset",
    permissions=("RESET-JOB",),
    audit=True,
)
def reset(ctx: CallContext, id: object, version: object = None) -> str:
    """Reload the job's definition and code without a restart."""
    return _reset(ctx, resolve(ctx, id, version))


@operation("jobs.reset-id", rpc="omq.system.job.reset-id", permissions=("RESET-JOB",), audit=True)
def reset_id(ctx: CallContext, id: object) -> str:
    """reset by jobid."""
    return _reset(ctx, resolve_id(ctx, id))


@operation(
    "jobs.reset-all",
    rest=[("PUT", "jobs", "reset")],
    rpc="omq.system.job.reset-all",
    permissions=("RESET-JOB",),
    audit=True,
)
def reset_all(ctx: CallContext) -> str:
    """Reset every job the caller sees."""
    with readonly(ctx) as conn:
        ids = [j.jobid for j in jobs_db.all_jobs(conn) if _sees(ctx, j.jobid)]
    mgr = scheduler(ctx)
    if mgr is not None:
        for jobid in ids:
            mgr.reset(jobid)
        mgr.tick()
    return f"{len(ids)} job{'s' if len(ids) != 1 else ''} reset"
