"""Jobs: a versioned, coded kind run on a cron schedule or every ``duration`` seconds."""

from __future__ import annotations

from sqlalchemy import delete as sql_delete

from qorus_core.db import jobs as jobs_db
from qorus_core.db import tables as t
from qorus_core.loader import pycode
from qorus_core.loader.delete import Deleter, DeleteSpec
from qorus_core.loader.kinds.registry import Kind
from qorus_core.loader.listing import versioned
from qorus_core.loader.model import Definition
from qorus_core.loader.problems import Problems
from qorus_core.loader.store import Store, code_columns
from qorus_core.loader.upsert import UPDATED, upsert
from qorus_core.loader.validate import expiry
from qorus_core.model.errors import ValidationError
from qorus_core.model.schedule import MAX_DURATION, Schedule, ScheduleError, check_field


def check(d: Definition, problems: Problems) -> None:
    data, doc = d.data, d.doc
    has_sched, has_dur = "schedule" in data, "duration" in data
    if has_sched == has_dur:
        problems.add(
            d.path, "a job needs either 'schedule:' or 'duration:' (exactly one)", doc.mark()
        )
    if has_sched:
        bad = False
        for field, text in data["schedule"].items():
            why = check_field(field, str(text))
            if why:
                bad = True
                problems.add(d.path, f"schedule {why}", doc.mark("schedule", field))
        if not bad:
            try:
                Schedule.of_fields({k: str(v) for k, v in data["schedule"].items()})
            except ScheduleError as exc:
                problems.add(d.path, f"schedule: {exc.desc}", doc.mark("schedule"))
    if has_dur and not 0 < data["duration"] < MAX_DURATION:
        problems.add(
            d.path, f"duration must be 1 to {MAX_DURATION - 1} seconds", doc.mark("duration")
        )


def store(s: Store, d: Definition) -> tuple[int | None, str]:
    data = d.data
    sched = data.get("schedule") or {}
    row = code_columns(d)
    row.update(
        active=bool(data.get("active", True)),
        run_skipped=bool(data.get("run-skipped", False)),
        single_instance=bool(data.get("single-instance", False)),
        expiry_date=expiry(data.get("expiry-date")),
        minute=sched.get("minutes"),
        hour=sched.get("hours"),
        day=sched.get("days"),
        month=sched.get("months"),
        wday=sched.get("dow"),
        recurring=data.get("duration"),
    )
    jobid, outcome = upsert(
        s.conn,
        t.jobs,
        "jobid",
        {"name": d.name, "version": d.version},
        row,
        insert_only={"enabled": True},
    )
    if outcome == UPDATED:  # a changed schedule or code: the scheduler plans the job afresh
        jobs_db.forget_next_trigger(s.conn, jobid)
    return jobid, outcome


def delete(dl: Deleter, spec: DeleteSpec) -> None:
    """A job with instances goes only with ``-f`` or ``-X jobinstances:NAME`` in the same run."""
    for jid, name, version in dl.ids_of(t.jobs, "jobid", spec):
        runs = dl.count(t.job_instance, t.job_instance.c.jobid == jid)
        wanted = any(s.kind == "jobinstances" and s.name == name for s in dl.specs)
        if runs and not (dl.force or wanted):
            raise ValidationError(
                f"job {name}:{version} has {runs} job instances; delete them too "
                f"(-X jobinstances:{name}:{version}) or use -f"
            )
        dl.delete_job_instances(jid)
        dl.conn.execute(sql_delete(t.group_jobs).where(t.group_jobs.c.jobid == jid))
        dl.conn.execute(sql_delete(t.jobs).where(t.jobs.c.jobid == jid))
        dl.done.append(f"deleted job {name}:{version} (id {jid})")


KIND = Kind(
    "job",
    store,
    delete,
    versioned(t.jobs, "jobid", "active"),
    check=check,
    versioned=True,
    coded=True,
    api_base=lambda _d: pycode.TYPE_BASES["job"],
    stage=7,
    table=t.jobs,
    idcol="jobid",
)
