"""The jobs operations from a hostile or careless caller, against one real server with RBAC
on: bad cron strings, durations out of range, wrong types, NUL characters, dates that do not
exist, no login, a user without RUN-JOB / MODIFY-JOB-STATUS / RESCHEDULE-JOB /
MODIFY-JOB-EXPIRY / RESET-JOB, unknown jobs and job instances.

Each is answered with a clear 4xx (``{err, desc}``, no database words) and afterwards the job
rows and its instances in the database are exactly as they were."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import Qorus, free_port, tool
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.engine import create_system_engine

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

DATA = Path(__file__).resolve().parents[1] / "acceptance" / "data" / "wf"
ADMIN = ("admin", "Adm1n-Secret")
VIEWER = ("viewer", "V1ew-Secret")  # read-only: LOGIN only
LEAKS = re.compile(r"bigint|LIMIT|psycopg|pymysql|sqlalchemy|sqlite3|SQL|Traceback|\(0x00\)")

JOB = (
    "type: job\nname: HOSTJOB\nversion: '1.0'\ndesc: hostile target\nlang: python\n"
    "schedule:\n  minutes: '0'\n  hours: '3'\n  days: '*'\n  months: '*'\n  dow: '*'\n"
    "code: HOSTJOB-1.0.qjob.py\n"
)
CODE = "from job import QorusJob\n\n\nclass HOSTJOB(QorusJob):\n    def run(self):\n        pass\n"

BAD_SCHEDULES: list[Any] = [
    "60 * * * *",
    "* 24 * * *",
    "* * 0 * *",
    "* * * 13 *",
    "* * * * 8",
    "* * * * funday",
    "* * * jan-foo *",
    "*/0 * * * *",
    "* 18-8 * * *",
    "* * L * *",
    "* * * * 5#2",
    "? * * * *",
    "H * * * *",
    "* * * * * *",
    "* * * *",
    "",
    "   ",
    "* * 31 2 *",
    "1,,2 * * * *",
    "-1 * * * *",
    "a\x00b * * * *",
    "9" * 5000,
    ["*", "*", "*", "*", "*"],
    {"minutes": "*"},
    5,
    True,
]
BAD_DURATIONS: list[Any] = [0, -1, 10_000_000, 2**63, "1e3", "abc", 1.5, True, [60], "60\x00"]
BAD_DATES: list[Any] = ["tomorrow", "2030-02-30", "9999-12-31T23:59:59-01:00", 5, [1], "1" * 5000]


@pytest.fixture(scope="module")
def setup(db_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    base = tmp_path_factory.mktemp("jobsapi")
    root = base / "omq"
    for sub in ("etc", "log", "user", "var"):
        (root / sub).mkdir(parents=True)
    db_url = db_factory.fresh()
    url = db_url.render_as_string(hide_password=False)
    (root / "etc" / "options").write_text(f"qorus.systemdb = {url}\n")
    shutil.copytree(DATA, base / "data")
    (base / "data" / "HOSTJOB-1.0.qjob.yaml").write_text(JOB)
    (base / "data" / "HOSTJOB-1.0.qjob.py").write_text(CODE)
    d = ["--qorus-dir", str(root)]
    res = tool("oload", *d, str(base / "data"))
    assert res.returncode == 0, res.stderr + res.stdout
    for name, pw, role in [(*ADMIN, "superuser"), (*VIEWER, "read-only")]:
        res = tool("user_tool", *d, "-A", f"{name},{pw},{role},{name}")
        assert res.returncode == 0, res.stderr
    engine = create_system_engine(db_url)
    q = Qorus(root, free_port(), ["rbac-security=true"])
    try:
        q.wait_ready(auth=ADMIN)
        yield q, engine
    finally:
        q.kill()
        engine.dispose()


def snapshot(engine: Engine) -> Any:
    with engine.connect() as conn:
        jobs = [tuple(r) for r in conn.execute(select(t.jobs).order_by(t.jobs.c.jobid))]
        runs = [
            tuple(r)
            for r in conn.execute(select(t.job_instance).order_by(t.job_instance.c.job_instanceid))
        ]
    return jobs, runs


def call(q: Qorus, method: str, path: str, auth: Any = ADMIN, **kw: Any) -> httpx.Response:
    return httpx.request(method, f"{q.url}/api/latest/{path}", auth=auth, timeout=30, **kw)


def refused(r: httpx.Response, status: int, arg: str | None = None) -> str | None:
    """Why ``r`` is not the clear refusal expected, or None."""
    if r.status_code != status:
        return f"status {r.status_code}: {r.text[:200]}"
    if LEAKS.search(r.text):
        return f"leaks database words: {r.text[:200]}"
    body = r.json()
    if not body.get("err") or not body.get("desc"):
        return f"no err and desc: {r.text[:200]}"
    if arg is not None and arg not in body["desc"]:
        return f"does not name {arg!r}: {body['desc'][:200]}"
    return None


def test_bad_schedules_durations_and_dates(setup: Any) -> None:
    q, engine = setup
    before = snapshot(engine)
    problems = []
    for value in BAD_SCHEDULES:
        r = call(q, "PUT", "jobs/HOSTJOB?action=schedule", json={"schedule": value})
        if why := refused(r, 400, "schedule"):
            problems.append(f"schedule={value!r:.50}: {why}")
    for value in BAD_DURATIONS:
        r = call(q, "PUT", "jobs/HOSTJOB/schedule", json={"duration": value})
        if why := refused(r, 400, "duration"):
            problems.append(f"duration={value!r:.50}: {why}")
    for body in ({}, {"schedule": "* * * * *", "duration": 60}):
        if why := refused(call(q, "PUT", "jobs/HOSTJOB?action=schedule", json=body), 400):
            problems.append(f"{body}: {why}")
    for value in BAD_DATES:
        r = call(q, "PUT", "jobs/HOSTJOB?action=setExpiry", json={"date": value})
        if why := refused(r, 400, "date"):
            problems.append(f"date={value!r:.50}: {why}")
    for value in ("maybe", [1], {"a": 1}, 1.5):
        r = call(q, "PUT", "jobs/HOSTJOB?action=setActive", json={"active": value})
        if why := refused(r, 400, "active"):
            problems.append(f"active={value!r:.50}: {why}")
    assert not problems, "\n".join(problems)
    assert snapshot(engine) == before


def test_unknown_jobs_and_odd_ids(setup: Any) -> None:
    q, engine = setup
    before = snapshot(engine)
    for method, path in (
        ("GET", "jobs/NOSUCHJOB"),
        ("PUT", "jobs/NOSUCHJOB?action=run"),
        ("PUT", "jobs/999999/run"),
        ("GET", "jobs/HOSTJOB:9.9"),
        ("GET", "jobresults/999999"),
        ("GET", "jobs/NOSUCHJOB/results"),
    ):
        assert refused(call(q, method, path), 404) is None, path
    for path in ("jobs/9223372036854775808", "jobresults/-1", "jobresults/abc"):
        assert refused(call(q, "GET", path), 400) is None, path
    r = call(q, "PUT", "jobs/HOSTJOB?action=run", json={"nonsense": 1})
    assert refused(r, 400, "nonsense") is None
    r = call(q, "GET", "jobs/HOSTJOB/results", params={"limit": "-5"})
    assert refused(r, 400, "limit") is None
    assert snapshot(engine) == before


def test_no_login_and_missing_permissions(setup: Any) -> None:
    q, engine = setup
    before = snapshot(engine)
    changes = [
        ("jobs/HOSTJOB?action=run", {}),
        ("jobs/HOSTJOB?action=setActive", {"active": False}),
        ("jobs/HOSTJOB?action=schedule", {"duration": 60}),
        ("jobs/HOSTJOB?action=setExpiry", {"date": "2031-01-01"}),
        ("jobs/HOSTJOB?action=reset", {}),
        ("jobs/HOSTJOB?action=enable", {}),
        ("jobs/HOSTJOB?action=disable", {}),
        ("jobs?action=reset", {}),
    ]
    for path, body in changes:
        r = call(q, "PUT", path, auth=None, json=body)
        assert r.status_code == 401 and r.json()["err"] == "AUTHENTICATION-ERROR", path
        r = call(q, "PUT", path, auth=VIEWER, json=body)
        assert r.status_code == 403 and r.json()["err"] == "AUTHORIZATION-ERROR", path
    assert call(q, "GET", "jobs/HOSTJOB", auth=VIEWER).status_code == 200
    assert snapshot(engine) == before
    # the same calls as superuser work: the refusals were about who asked
    r = call(q, "PUT", "jobs/HOSTJOB?action=run")
    assert r.status_code == 200 and r.json()["status"] == "COMPLETE", r.text
    jiid = r.json()["job_instanceid"]
    assert call(q, "GET", f"jobresults/{jiid}").json()["jobstatus"] == "COMPLETE"


def test_jobs_over_json_rpc(setup: Any) -> None:
    """The omq.system.job.* methods with positional params, as Qorus clients send them; a bad
    schedule is a fault, a user without RESCHEDULE-JOB is refused, nothing changes then."""
    q, engine = setup

    def rpc(method: str, params: list[Any], auth: Any = ADMIN) -> Any:
        body = {"jsonrpc": "2.0", "method": method, "params": params, "id": 1}
        r = httpx.post(f"{q.url}/JSON", json=body, auth=auth, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    before = snapshot(engine)
    bad = rpc("omq.system.job.schedule", ["HOSTJOB", "61 * * * *"])
    assert "error" in bad and "schedule" in str(bad["error"]) and not LEAKS.search(str(bad))
    refused_call = rpc("omq.system.job.schedule", ["HOSTJOB", "0 4 * * *"], auth=VIEWER)
    assert "AUTHORIZATION-ERROR" in str(refused_call["error"])
    assert snapshot(engine) == before
    res = rpc("omq.system.job.schedule", ["HOSTJOB", "0 4 * * *"])["result"]
    assert res["schedule"] == "0 4 * * *"
    info = rpc("omq.system.job.info", ["HOSTJOB"])["result"]
    assert info["schedule"] == "0 4 * * *" and info["next"]
    ran = rpc("omq.system.job.run", ["HOSTJOB"])["result"]
    assert ran["status"] == "COMPLETE"
    assert rpc("omq.system.job.set-active", ["HOSTJOB", False])["result"]["active"] is False
    assert rpc("omq.system.job.info-id", [info["jobid"]])["result"]["active"] is False
