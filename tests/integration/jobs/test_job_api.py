"""The jobs operations in-process through the registry: listing and info, setActive,
schedule, setExpiry, enable and disable, reset, results; refusals (bad schedules, unknown
jobs, missing permissions) leave the job as it was."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from qorus_core.model.errors import QorusError
from qorus_server.api import REGISTRY
from qorus_server.api.registry import Principal
from qorus_server.jobs.manager import JobManager
from tests.helpers.definitions import add_job
from tests.helpers.engine import TestServer
from tests.helpers.jobs import T0, ManualClock

pytestmark = pytest.mark.integration


def err(api: Any, name: str, **args: Any) -> QorusError:
    with pytest.raises(QorusError) as info:
        api(name, **args)
    return info.value


def _state(api: Any, job: str) -> dict[str, Any]:
    info = dict(api("jobs.info", id=job))
    info.pop("scheduled_here")
    return info


def test_rpc_methods_are_registered_once() -> None:
    names = {op.rpc for op in REGISTRY if op.rpc and op.rpc.startswith("omq.system.job.")}
    assert {
        "omq.system.job.run",
        "omq.system.job.run-id",
        "omq.system.job.info",
        "omq.system.job.info-id",
        "omq.system.job.list-active",
        "omq.system.job.set-active",
        "omq.system.job.set-active-id",
        "omq.system.job.schedule",
        "omq.system.job.schedule-id",
        "omq.system.job.set-expiry",
        "omq.system.job.set-expiry-id",
        "omq.system.job.reset",
        "omq.system.job.reset-id",
        "omq.system.job.reset-all",
    } <= names


def test_list_and_info(engine: Engine, api: Any, jobs: JobManager) -> None:
    jobid = add_job(engine, "LISTED", schedule="0 6 * * mon-fri")
    add_job(engine, "OTHER", duration=3600, active=False)
    jobs.tick()
    listed = {j["name"]: j for j in api("jobs.list")}
    assert set(listed) == {"LISTED", "OTHER"}
    assert listed["LISTED"]["next"] == T0.replace(hour=6) + timedelta(days=1)
    assert listed["OTHER"]["next"] is None and listed["OTHER"]["active"] is False
    assert listed["OTHER"]["sched_txt"] == "every 3600 seconds"
    info = api("jobs.info", id=str(jobid))
    assert info == api("jobs.info", id="LISTED:1.0") | {"scheduled_here": info["scheduled_here"]}
    for key in ("jobid", "name", "version", "description", "active", "enabled", "expiry_date"):
        assert key in info
    assert info["minute"] == "0" and info["wday"] == "mon-fri"
    assert info["state"] is None and info["persistent_state"] is None
    assert api("jobs.info-id", id=jobid)["name"] == "LISTED"
    assert set(api("jobs.info")) == {"LISTED", "OTHER"}  # the RPC form without a name
    assert set(api("jobs.list-active")) == {"LISTED"}
    assert err(api, "jobs.info", id="NOSUCHJOB").http_status == 404
    assert err(api, "jobs.info", id="LISTED:9.9").code == "JOB-ERROR"


def test_set_active_schedule_and_refusals(
    engine: Engine, api: Any, jobs: JobManager, server: TestServer, clock: ManualClock
) -> None:
    jobid = add_job(engine, "CHANGING", schedule="*/5 * * * *")
    jobs.tick()
    assert jobs.scheduled() == [jobid]
    res = api("jobs.set-active", id="CHANGING", active=False)
    assert res["active"] is False and jobs.scheduled() == []
    assert "JOB_STOP" in [e.eventstr for e in server.events.since(0)]
    api("jobs.set-active", id="CHANGING", active="true")
    assert jobs.scheduled() == [jobid]
    res = api("jobs.schedule", id="CHANGING", schedule="30 12 * * *")
    assert res["schedule"] == "30 12 * * *"
    assert api("jobs.info", id="CHANGING")["next"] == T0.replace(hour=12, minute=30)
    api("jobs.schedule", id="CHANGING", duration=90)
    assert api("jobs.info", id="CHANGING")["next"] == T0 + timedelta(seconds=90)
    before = _state(api, "CHANGING")
    for args in (
        {"schedule": "61 * * * *"},
        {"schedule": "* * * *"},
        {"schedule": "* * 31 2 *"},
        {"schedule": "0 0 L * *"},
        {"schedule": "* 18-8 * * *"},
        {"schedule": "* * * * * *"},
        {"schedule": "*/5 * * * *", "duration": 60},
        {},
        {"duration": 10_000_000},
        {"duration": 0},
        {"duration": "abc"},
        {"duration": 2**70},
        {"schedule": ["*", "*"]},
        {"schedule": "x" * 5000},
    ):
        exc = err(api, "jobs.schedule", id="CHANGING", **args)
        assert exc.http_status == 400, (args, exc)
    assert _state(api, "CHANGING") == before
    for bad in ("yesterday", "2030-13-01", 5, [1]):
        assert err(api, "jobs.set-expiry", id="CHANGING", date=bad).http_status == 400
    assert err(api, "jobs.set-active", id="CHANGING", active="maybe").http_status == 400
    assert _state(api, "CHANGING") == before


def test_enable_disable_and_manual_runs(engine: Engine, api: Any, jobs: JobManager) -> None:
    jobid = add_job(engine, "TOGGLED", active=False)
    res = api("jobs.run", id="TOGGLED")  # an inactive job runs by hand
    assert res["status"] == "COMPLETE"
    api("jobs.disable", id="TOGGLED")
    assert api("jobs.info", id="TOGGLED")["enabled"] is False
    exc = err(api, "jobs.run", id="TOGGLED")
    assert exc.code == "JOB-ERROR" and exc.http_status == 409
    api("jobs.enable", id="TOGGLED")
    assert api("jobs.run-id", id=jobid)["status"] == "COMPLETE"
    assert [r["jobstatus"] for r in api("jobs.results", id="TOGGLED")] == ["COMPLETE"] * 2
    assert len(api("jobs.results", id="TOGGLED", limit=1)) == 1
    assert len(api("jobs.results", id="TOGGLED", offset=1)) == 1
    assert err(api, "jobs.result", id=999999).http_status == 404


def test_reset_reloads_the_code(engine: Engine, api: Any, jobs: JobManager) -> None:
    add_job(engine, "RELOADED", "jobapi.saveInfo({'v': 1})")
    first = api("jobs.run", id="RELOADED")
    add_job(engine, "RELOADED", "jobapi.saveInfo({'v': 2})")  # oload of new code
    assert "reset" in api("jobs.reset", id="RELOADED")
    second = api("jobs.run", id="RELOADED")
    assert api("jobs.result", id=first["job_instanceid"])["info"] == {"v": 1}
    assert api("jobs.result", id=second["job_instanceid"])["info"] == {"v": 2}
    assert api("jobs.reset-all") == "1 job reset"


def test_permissions_are_checked_and_nothing_changes(
    engine: Engine, api: Any, jobs: JobManager
) -> None:
    add_job(engine, "GUARDED", schedule="*/5 * * * *")
    jobs.tick()
    reader = Principal("reader", frozenset({"LOGIN"}))
    before = _state(api, "GUARDED")
    for op, args in (
        ("jobs.run", {}),
        ("jobs.set-active", {"active": False}),
        ("jobs.schedule", {"duration": 60}),
        ("jobs.set-expiry", {"date": "2031-01-01"}),
        ("jobs.reset", {}),
        ("jobs.enable", {}),
        ("jobs.disable", {}),
    ):
        exc = err(api, op, user=reader, id="GUARDED", **args)
        assert exc.http_status == 403, op
    assert _state(api, "GUARDED") == before
    assert api("jobs.info", user=reader, id="GUARDED")["name"] == "GUARDED"
    runner = Principal("runner", frozenset({"LOGIN", "RUN-JOB"}))
    assert api("jobs.run", user=runner, id="GUARDED")["status"] == "COMPLETE"
