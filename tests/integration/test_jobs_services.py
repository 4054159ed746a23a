"""Jobs and services together: a job's run calls a service method (``UserApi.callService``)
with the job's runtime, the service's code logs into the service's log and the job's log is
the job's again after the call; the audit rows of both name their job and service; an RPC
service method name reaches the service manager's real ``services.call``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_server.api import REGISTRY, CallContext
from qorus_server.api.rpc import resolve
from qorus_server.jobs.manager import JobManager
from qorus_server.services import ServiceManager
from tests.helpers.definitions import add_job, add_service
from tests.helpers.engine import Logs, TestServer, make_server, next_tag
from tests.helpers.jobs import T0, ManualClock, start_jobs

pytestmark = pytest.mark.integration

COUNTER = """
from svc import QorusService


class Counter(QorusService):
    def bump(self, n):
        state = svcapi.getStateData() or {"count": 0}
        state["count"] += n
        svcapi.saveStateData(state)
        UserApi.logInfo("counter bumped by %d", n)
        return {"count": state["count"], **svcapi.getCallContext()}
"""

CALLER = """
UserApi.logInfo("calling the counter")
answer = UserApi.callService("counter", "bump", 2)
UserApi.logInfo("the counter says %d", answer["count"])
jobapi.saveInfo(answer)
"""


@pytest.fixture
def logs() -> Logs:
    return Logs(next_tag())


@pytest.fixture
def server(engine: Engine) -> TestServer:
    return make_server(engine, audit=["jobs", "job-data", "services"])


@pytest.fixture
def services(server: TestServer, logs: Logs) -> Iterator[ServiceManager]:
    sm = ServiceManager(logger_factory=logs, system_release=False, thread_wait=0.5)
    sm.start(server)
    server.services = sm
    yield sm
    sm.stop()


@pytest.fixture
def jobs(server: TestServer, services: ServiceManager, logs: Logs) -> Iterator[JobManager]:
    mgr = start_jobs(
        server, ManualClock(T0), logger_factory=lambda name: logs("job", name), stop_wait=5
    )
    yield mgr
    mgr.stop()


def test_a_job_calls_a_service(
    engine: Engine, server: TestServer, jobs: JobManager, logs: Logs
) -> None:
    def api(name: str, **args: Any) -> Any:
        return REGISTRY.call(name, CallContext(server=server), args)

    serviceid = add_service(engine, "counter", COUNTER, ["bump"])
    jobid = add_job(engine, "caller", CALLER, duration=9999999)
    run = api("jobs.run", id="caller")
    assert run["status"] == "COMPLETE"
    info = api("jobs.result", id=run["job_instanceid"])["info"]
    assert info == {
        "count": 2,
        "method": "bump",
        "user": None,
        "source": "UserApi",
        "transport": "internal",
    }
    assert logs.messages("counter")[-1] == "counter bumped by 2"
    job_log = logs.messages("caller")
    assert "calling the counter" in job_log and "the counter says 2" in job_log
    assert "counter bumped by 2" not in job_log
    assert api("services.info", id="counter")["state"] == {"count": 2}

    ae, codes = t.audit_events, t.audit_event_codes
    with engine.connect() as conn:
        rows = conn.execute(
            select(codes.c.name, ae.c.jobid, ae.c.job_instanceid, ae.c.serviceid)
            .join(codes, codes.c.audit_event_code == ae.c.audit_event_code)
            .order_by(ae.c.audit_eventid)
        ).all()
    jiid = run["job_instanceid"]
    assert [tuple(r) for r in rows] == [
        ("JOB-INSTANCE-START", jobid, jiid, None),
        ("SERVICE-START", None, None, serviceid),
        ("JOB-INSTANCE-STOP", jobid, jiid, None),
    ]


def test_an_rpc_service_method_reaches_the_service_manager(
    engine: Engine, server: TestServer, services: ServiceManager
) -> None:
    add_service(engine, "counter", COUNTER, ["bump"])
    call = resolve(REGISTRY, "omq.user.service.counter.bump", [5])
    ctx = CallContext(server=server, transport="json-rpc", source="10.1.2.3")
    answer = REGISTRY.call(call.op.name, ctx, call.args)
    assert answer == {
        "count": 5,
        "method": "bump",
        "user": None,
        "source": "10.1.2.3",
        "transport": "json-rpc",
    }
    # a user service is not a system service
    wrong = resolve(REGISTRY, "omq.system.service.counter.bump", [1])
    with pytest.raises(Exception, match="counter"):
        REGISTRY.call(wrong.op.name, ctx, wrong.args)
