"""Jobs and job instances: every statement the scheduler, the job API and the ``jobs``
operations run.

A run of a job is a ``job_instance`` row: IN-PROGRESS while it runs, then COMPLETE or ERROR
(CRASH when crash recovery finds it IN-PROGRESS, see :mod:`qorus_core.db.sessions`), with the
errors and warnings its code raised in ``job_errors``.

Starting a run is one transaction (:func:`start_instance`) that locks the job's row first
(``SELECT ... FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE`` serialises it anyway), so of several
nodes sharing a database exactly one runs a given scheduled trigger (the run compares the
stored ``next_trigger`` with the trigger it was planned for and moves it on), and no run
starts while another instance of the job is IN-PROGRESS under a live session.

Job state data (``saveStateData``) belongs to the job until a run ends COMPLETE: it is kept on
the instance row, and a run starts with the state of the previous run when that one did not
complete (ERROR or CRASH). Persistent state data (``jobs.persistent_state``) stays across runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.db.dialects import dialect_for
from qorus_core.db.group_status import not_stopped
from qorus_core.db.refdata import now
from qorus_core.db.unit import dumps
from qorus_core.db.versions import find_version
from qorus_core.model.errors import NotFoundError
from qorus_core.model.schedule import Schedule
from qorus_core.model.status import SESSION_ACTIVE, JobStatus

j = t.jobs
ji = t.job_instance
je = t.job_errors

#: why :func:`start_instance` did not start a run
TAKEN = "taken"  # the trigger was run by another node, or the job was re-planned
RUNNING = "running"  # an instance of the job is IN-PROGRESS under a live session
OWNED = "owned"  # a single-instance job scheduled by another live node
GONE = "gone"  # the job was deleted

_DEF_COLUMNS = (
    j.c.jobid,
    j.c.name,
    j.c.version,
    j.c.description,
    j.c.author,
    j.c.active,
    j.c.enabled,
    j.c.run_skipped,
    j.c.single_instance,
    j.c.expiry_date,
    j.c.minute,
    j.c.hour,
    j.c.day,
    j.c.month,
    j.c.wday,
    j.c.recurring,
    j.c.language,
    j.c.class_name,
    j.c.classes,
    j.c.sessionid,
    j.c.last_executed,
    j.c.last_executed_job_instanceid,
    j.c.next_trigger,
    j.c.created,
    j.c.modified,
)


@dataclass(frozen=True)
class JobDef:
    """A job as stored (without its code)."""

    jobid: int
    name: str
    version: str
    description: str | None
    author: str | None
    active: bool
    enabled: bool
    run_skipped: bool
    single_instance: bool
    expiry_date: datetime | None
    schedule: Schedule
    language: str
    class_name: str | None
    classes: tuple[str, ...]
    sessionid: int
    last_executed: datetime | None
    last_executed_job_instanceid: int | None
    next_trigger: datetime | None
    created: datetime | None = None
    modified: datetime | None = None

    def label(self) -> str:
        return f"{self.name} v{self.version} ({self.jobid})"

    def expired(self, at: datetime) -> bool:
        """Whether the expiry date stops a trigger at ``at`` (it runs only before it)."""
        return self.expiry_date is not None and self.expiry_date <= at


def _classes(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    try:
        value = json.loads(text)
    except ValueError:
        value = text.split(",")
    if isinstance(value, str):
        value = [value]
    return tuple(str(v).strip() for v in value if str(v).strip())


def _def(row: Any) -> JobDef:
    m = dict(row._mapping)
    return JobDef(
        jobid=int(m["jobid"]),
        name=m["name"],
        version=m["version"],
        description=m["description"],
        author=m["author"],
        active=bool(m["active"]),
        enabled=bool(m["enabled"]),
        run_skipped=bool(m["run_skipped"]),
        single_instance=bool(m["single_instance"]),
        expiry_date=m["expiry_date"],
        schedule=Schedule.of_row(m),
        language=m["language"] or "python",
        class_name=m["class_name"],
        classes=_classes(m["classes"]),
        sessionid=int(m["sessionid"] or 0),
        last_executed=m["last_executed"],
        last_executed_job_instanceid=m["last_executed_job_instanceid"],
        next_trigger=m["next_trigger"],
        created=m["created"],
        modified=m["modified"],
    )


# ---------------------------------------------------------------------- finding and reading


def find_job(conn: Connection, ref: str, version: str | None = None) -> int:
    """The jobid of ``ref``: an id, or a name (its latest version unless ``version``);
    404 JOB-ERROR when there is none."""
    by_id = ref.isascii() and ref.isdigit() and version is None
    if by_id and conn.execute(select(j.c.jobid).where(j.c.jobid == int(ref))).first():
        return int(ref)
    found = find_version(conn, j, ref, version)
    if found is None:
        what = f"{ref}:{version}" if version else ref
        raise NotFoundError(f"there is no job {what!r}", code="JOB-ERROR")
    return found[0]


def load_job(conn: Connection, jobid: int) -> JobDef | None:
    row = conn.execute(select(*_DEF_COLUMNS).where(j.c.jobid == jobid)).first()
    return None if row is None else _def(row)


def job_code(conn: Connection, jobid: int) -> str | None:
    return conn.execute(select(j.c.code).where(j.c.jobid == jobid)).scalar()


def all_jobs(conn: Connection) -> list[JobDef]:
    """Every job, by name then version as stored."""
    rows = conn.execute(select(*_DEF_COLUMNS).order_by(j.c.name, j.c.jobid))
    return [_def(r) for r in rows]


def schedulable_jobs(conn: Connection) -> list[JobDef]:
    """The active and enabled jobs that no disabled interface group stops: the ones the
    scheduler runs on their schedule."""
    rows = conn.execute(
        select(*_DEF_COLUMNS)
        .where(j.c.active.is_(True), j.c.enabled.is_(True), not_stopped("job", j.c.jobid))
        .order_by(j.c.jobid)
    )
    return [_def(r) for r in rows]


def instance_counts(conn: Connection, jobid: int | None = None) -> dict[int, dict[str, int]]:
    """Job instances by status name per job (``{jobid: {"COMPLETE": 3, ...}}``)."""
    q = select(ji.c.jobid, ji.c.jobstatus, func.count()).group_by(ji.c.jobid, ji.c.jobstatus)
    if jobid is not None:
        q = q.where(ji.c.jobid == jobid)
    out: dict[int, dict[str, int]] = {}
    for jid, status, count in conn.execute(q):
        out.setdefault(int(jid), {})[JobStatus(status).api_name] = int(count)
    return out


def job_groups(conn: Connection, jobid: int | None = None) -> dict[int, list[str]]:
    """The names of the interface groups each job is a member of."""
    gj, g = t.group_jobs, t.groups
    q = select(gj.c.jobid, g.c.name).join(g, g.c.groupid == gj.c.groupid).order_by(g.c.name)
    if jobid is not None:
        q = q.where(gj.c.jobid == jobid)
    out: dict[int, list[str]] = {}
    for jid, name in conn.execute(q):
        out.setdefault(int(jid), []).append(name)
    return out


def running_instance(conn: Connection, jobid: int) -> int | None:
    """The IN-PROGRESS instance of a job under a live session, if any."""
    s = t.sessions
    row = conn.execute(
        select(ji.c.job_instanceid)
        .join(s, s.c.sessionid == ji.c.sessionid)
        .where(
            ji.c.jobid == jobid,
            ji.c.jobstatus == JobStatus.IN_PROGRESS,
            s.c.sessionstatus == SESSION_ACTIVE,
        )
        .order_by(ji.c.job_instanceid.desc())
        .limit(1)
    ).first()
    return None if row is None else int(row[0])


def state_data(conn: Connection, jobid: int) -> dict[str, Any] | None:
    """The job's state data as the next run will see it (None once a run completed)."""
    row = conn.execute(
        select(ji.c.state_data, ji.c.jobstatus)
        .where(ji.c.jobid == jobid)
        .order_by(ji.c.job_instanceid.desc())
        .limit(1)
    ).first()
    if row is None or row[0] is None or row[1] == JobStatus.COMPLETE:
        return None
    return _load_hash(row[0])


def persistent_state(conn: Connection, jobid: int) -> dict[str, Any] | None:
    return _load_hash(conn.execute(select(j.c.persistent_state).where(j.c.jobid == jobid)).scalar())


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _load_hash(text: str | None) -> dict[str, Any] | None:
    value = _load(text)
    return value if isinstance(value, dict) else None


def _dump(data: Any) -> str | None:
    return None if data is None else dumps(data)


# ---------------------------------------------------------------------- changing a job


def update_job(conn: Connection, jobid: int, **values: Any) -> bool:
    """Change columns of a job (``active``, ``enabled``, ``expiry_date``, ``next_trigger``);
    False when there is no such job."""
    res = conn.execute(update(j).where(j.c.jobid == jobid).values(**values, modified=now()))
    return res.rowcount == 1


def set_schedule(conn: Connection, jobid: int, schedule: Schedule) -> bool:
    """Store a new schedule; the job is planned afresh (its next trigger is forgotten)."""
    return update_job(conn, jobid, **schedule.columns(), next_trigger=None)


def forget_next_trigger(conn: Connection, jobid: int) -> None:
    """The scheduler plans the job afresh (its definition changed)."""
    conn.execute(update(j).where(j.c.jobid == jobid).values(next_trigger=None))


def plan(conn: Connection, jobid: int, old: datetime | None, new: datetime) -> bool:
    """Set the next trigger to ``new`` only if it is still ``old`` (another node may have
    planned or run it meanwhile); True when this call set it."""
    cond = j.c.next_trigger.is_(None) if old is None else j.c.next_trigger == old
    res = conn.execute(update(j).where(j.c.jobid == jobid, cond).values(next_trigger=new))
    return res.rowcount == 1


def set_trigger(conn: Connection, jobid: int, before: datetime, at: datetime) -> bool:
    """Move the next trigger forward to ``at`` while it is still ``before`` (``setTrigger``)."""
    res = conn.execute(
        update(j).where(j.c.jobid == jobid, j.c.next_trigger == before).values(next_trigger=at)
    )
    return res.rowcount == 1


def release_jobs(conn: Connection, sessionid: int) -> None:
    """A stopping node gives up the single-instance jobs it scheduled."""
    conn.execute(update(j).where(j.c.sessionid == sessionid).values(sessionid=0))


def save_persistent_state(conn: Connection, jobid: int, data: Any) -> None:
    conn.execute(update(j).where(j.c.jobid == jobid).values(persistent_state=_dump(data)))


# ---------------------------------------------------------------------- runs


def start_instance(
    conn: Connection,
    jobid: int,
    sessionid: int,
    started: datetime,
    *,
    due: datetime | None = None,
    next_trigger: datetime | None = None,
) -> int | str:
    """Start a run in the caller's transaction: the new job_instanceid, or why not
    (:data:`TAKEN`, :data:`RUNNING`, :data:`OWNED`, :data:`GONE`).

    ``due`` is the trigger a scheduled run was planned for: it runs only while the stored
    next trigger is still that one, and moves it on to ``next_trigger``; a single-instance job
    is then owned by this session until it stops. A manual run (``due`` None) leaves the
    schedule alone."""
    s = t.sessions
    row = conn.execute(
        dialect_for(conn).lock_rows(
            select(j.c.next_trigger, j.c.sessionid, j.c.single_instance).where(j.c.jobid == jobid)
        )
    ).first()
    if row is None:
        return GONE
    stored, owner, single = row
    if due is not None:
        if stored is None or stored.replace(microsecond=0) != due.replace(microsecond=0):
            return TAKEN
        if single and owner and int(owner) != sessionid:
            live = conn.execute(
                select(s.c.sessionid).where(
                    s.c.sessionid == owner, s.c.sessionstatus == SESSION_ACTIVE
                )
            ).first()
            if live is not None:
                return OWNED
    if running_instance(conn, jobid) is not None:
        return RUNNING
    carried = state_data(conn, jobid)
    res = conn.execute(
        insert(ji).values(
            jobid=jobid,
            sessionid=sessionid,
            jobstatus=JobStatus.IN_PROGRESS,
            started=started,
            state_data=_dump(carried),
            modified=started,
        )
    )
    pk = res.inserted_primary_key
    assert pk is not None
    jiid = int(pk[0])
    values: dict[str, Any] = {"last_executed": started, "last_executed_job_instanceid": jiid}
    if due is not None:
        values["next_trigger"] = next_trigger
        if single:
            values["sessionid"] = sessionid
    conn.execute(update(j).where(j.c.jobid == jobid).values(**values))
    return jiid


def finish_instance(conn: Connection, jiid: int, status: JobStatus, completed: datetime) -> bool:
    """End a run COMPLETE or ERROR (a COMPLETE run clears the job's state data); False when
    the instance is no longer IN-PROGRESS (crash recovery took it as CRASH meanwhile)."""
    values: dict[str, Any] = {"jobstatus": status, "completed": completed, "modified": completed}
    if status == JobStatus.COMPLETE:
        values["state_data"] = None
    res = conn.execute(
        update(ji)
        .where(ji.c.job_instanceid == jiid, ji.c.jobstatus == JobStatus.IN_PROGRESS)
        .values(**values)
    )
    return res.rowcount == 1


def save_info(conn: Connection, jiid: int, info: Any) -> None:
    conn.execute(
        update(ji).where(ji.c.job_instanceid == jiid).values(info=_dump(info), modified=now())
    )


def save_state(conn: Connection, jiid: int, data: Any) -> None:
    conn.execute(
        update(ji).where(ji.c.job_instanceid == jiid).values(state_data=_dump(data), modified=now())
    )


def instance_state(conn: Connection, jiid: int) -> Any:
    return _load(conn.execute(select(ji.c.state_data).where(ji.c.job_instanceid == jiid)).scalar())


def add_error(
    conn: Connection,
    jiid: int,
    *,
    severity: str,
    error: str,
    description: str | None,
    info: Any,
    business: bool,
) -> int:
    res = conn.execute(
        insert(je).values(
            job_instanceid=jiid,
            severity=severity[:20],
            error=error[:240],
            description=None if description is None else description[:4000],
            info=_dump(info),
            business_error=business,
            created=now(),
        )
    )
    pk = res.inserted_primary_key
    assert pk is not None
    return int(pk[0])


# ---------------------------------------------------------------------- results


def _instance(m: dict[str, Any]) -> dict[str, Any]:
    out = dict(m)
    out["jobstatus"] = JobStatus(m["jobstatus"]).api_name
    out["info"] = _load(m.get("info"))
    out.pop("state_data", None)
    return out


def instances(conn: Connection, jobid: int, *, limit: int, offset: int) -> list[dict[str, Any]]:
    """The runs of a job, newest first."""
    q = (
        select(ji, j.c.name, j.c.version)
        .join(j, j.c.jobid == ji.c.jobid)
        .where(ji.c.jobid == jobid)
        .order_by(ji.c.job_instanceid.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_instance(dict(r._mapping)) for r in conn.execute(q)]


def instance(conn: Connection, jiid: int) -> dict[str, Any] | None:
    """One run with its errors and warnings (oldest first)."""
    row = conn.execute(
        select(ji, j.c.name, j.c.version)
        .join(j, j.c.jobid == ji.c.jobid)
        .where(ji.c.job_instanceid == jiid)
    ).first()
    if row is None:
        return None
    out = _instance(dict(row._mapping))
    errors = []
    for r in conn.execute(select(je).where(je.c.job_instanceid == jiid).order_by(je.c.job_errorid)):
        e = dict(r._mapping)
        e["info"] = _load(e.get("info"))
        e["business_error"] = bool(e["business_error"])
        errors.append(e)
    out["errors"] = errors
    return out


def instance_jobid(conn: Connection, jiid: int) -> int | None:
    jid = conn.execute(select(ji.c.jobid).where(ji.c.job_instanceid == jiid)).scalar()
    return None if jid is None else int(jid)


def crashed_instances(conn: Connection, sessionid: int) -> list[tuple[int, int]]:
    """``(job_instanceid, jobid)`` of a session's IN-PROGRESS runs (what recovery turns to
    CRASH), locked until the caller's transaction ends."""
    q = select(ji.c.job_instanceid, ji.c.jobid).where(
        and_(ji.c.sessionid == sessionid, ji.c.jobstatus == JobStatus.IN_PROGRESS)
    )
    return [(int(a), int(b)) for a, b in conn.execute(q.with_for_update())]
