"""kill -9 a real ``qorus`` while a job instance runs: the restart recovers the instance as
CRASH (JOB-RECOVERY audit row), the job's state data saved before the crash is there for the
next run, and the job runs again."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import api, get, put, tool
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.refdata import AUDIT_CODE_BY_NAME

pytestmark = [pytest.mark.acceptance, pytest.mark.integration, pytest.mark.slow]

OPTS = ("audit=[jobs, job-data]", "heartbeat-interval=1")

JOB = (
    "type: job\nname: SLOWJOB\nversion: '1.0'\ndesc: runs until killed the first time\n"
    "lang: python\nduration: 9999999\nactive: true\ncode: SLOWJOB-1.0.qjob.py\n"
)
CODE = """\
import os

from job import QorusJob


class SLOWJOB(QorusJob):
    def run(self):
        marker = os.environ.get("SLOWJOB_MARKER") or "{marker}"
        seen = jobapi.getStateData()
        jobapi.saveInfo({{"seen": seen}})
        if seen is None:
            jobapi.saveStateData({{"step": "before the crash"}})
            open(marker, "w").write("running")
            UserApi.sleep(120)
"""


def _runs(engine: Engine) -> list[tuple[int, str]]:
    ji = t.job_instance
    with engine.connect() as conn:
        return [
            (int(a), b)
            for a, b in conn.execute(
                select(ji.c.job_instanceid, ji.c.jobstatus).order_by(ji.c.job_instanceid)
            )
        ]


def test_kill_9_while_a_job_runs(
    omq_dir: Path, engine: Engine, tmp_path: Path, start_qorus: Any
) -> None:
    marker = tmp_path / "running.txt"
    data = tmp_path / "jobs"
    data.mkdir()
    (data / "SLOWJOB-1.0.qjob.yaml").write_text(JOB)
    (data / "SLOWJOB-1.0.qjob.py").write_text(CODE.format(marker=marker))
    res = tool("oload", "--qorus-dir", str(omq_dir), str(data))
    assert res.returncode == 0, res.stdout + res.stderr

    q = start_qorus(omq_dir, *OPTS)
    answers: list[Any] = []

    def run() -> None:  # the call never answers: the server dies first
        try:
            answers.append(httpx.put(api(q, "jobs/SLOWJOB?action=run"), timeout=60))
        except httpx.HTTPError as exc:
            answers.append(exc)

    caller = threading.Thread(target=run, daemon=True)
    caller.start()
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert time.monotonic() < deadline, "the job did not start"
        time.sleep(0.05)
    [(jiid, status)] = _runs(engine)
    assert status == "I"
    q.kill()  # SIGKILL: nothing of the shutdown runs
    caller.join(30)
    assert _runs(engine) == [(jiid, "I")]

    q2 = start_qorus(omq_dir, *OPTS, "auto-recover=true")
    assert _runs(engine) == [(jiid, "Z")]
    crashed = get(q2, f"jobresults/{jiid}")
    assert crashed["jobstatus"] == "CRASH" and crashed["completed"] is not None
    ae = t.audit_events
    with engine.connect() as conn:
        rows = conn.execute(
            select(ae.c.job_instanceid).where(
                ae.c.audit_event_code == AUDIT_CODE_BY_NAME["JOB-RECOVERY"]
            )
        ).all()
    assert [r[0] for r in rows] == [jiid]
    # the crashed instance blocks nothing; the state saved before the crash is handed on
    again = put(q2, "jobs/SLOWJOB?action=run")
    assert again["status"] == "COMPLETE"
    info = get(q2, f"jobresults/{again['job_instanceid']}")["info"]
    assert info == {"seen": {"step": "before the crash"}}
    job = get(q2, "jobs/SLOWJOB")
    assert job["CRASH"] == 1 and job["COMPLETE"] == 1 and job["state"] is None
    code, err = q2.terminate()
    assert code == 0, err
