"""Interface groups hide what a user may not see, the same way for workflows, services and jobs:
a user whose role holds one group sees only that group's members in every list (workflows,
orders, execution instances, services, jobs) and is refused (403) on a direct access to any
other one; system services are visible to all, their calls governed by
CALL-SYSTEM-SERVICES-RO/RW."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from qorus_core import rbac
from qorus_core.model.errors import QorusError
from qorus_server.api import REGISTRY, CallContext
from qorus_server.engine.manager import WorkflowManager
from qorus_server.jobs.manager import JobManager
from qorus_server.services import ServiceManager
from tests.helpers.definitions import add_job, add_service, add_workflow, noop_step
from tests.helpers.engine import Logs, TestServer, make_server, next_tag
from tests.helpers.jobs import T0, ManualClock, start_jobs

pytestmark = pytest.mark.integration

SVC = """
from svc import QorusService


class {cls}(QorusService):
    def hello(self):
        return "hello from {name}"
"""
SYS = """
from svc import QorusService


class Sysinfo(QorusService):
    def ro(self):
        return "ro"

    def rw(self):
        return "rw"
"""


@dataclass
class World:
    server: TestServer
    ann: rbac.Principal
    wm: WorkflowManager
    ids: dict[str, int]
    orders: dict[str, int]

    def call(self, op: str, /, user: Any = None, **args: Any) -> Any:
        return REGISTRY.call(op, CallContext(server=self.server, user=user), args)

    def as_ann(self, op: str, /, **args: Any) -> Any:
        return self.call(op, self.ann, **args)

    def refused(self, op: str, /, **args: Any) -> QorusError:
        with pytest.raises(QorusError) as info:
            self.as_ann(op, **args)
        return info.value


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    noop_step(engine, "V1")
    ids = {
        "MINE": add_workflow(engine, "MINE", ["V1"]),
        "THEIRS": add_workflow(engine, "THEIRS", ["V1"]),
        "svc-mine": add_service(
            engine, "svc-mine", SVC.format(cls="SvcMine", name="mine"), ["hello"]
        ),
        "svc-theirs": add_service(
            engine, "svc-theirs", SVC.format(cls="SvcTheirs", name="theirs"), ["hello"]
        ),
        "sysinfo": add_service(
            engine,
            "sysinfo",
            SYS,
            ["ro", {"name": "rw", "write": True}],
            servicetype="SYSTEM",
        ),
        "JOBMINE": add_job(engine, "JOBMINE", duration=3600),
        "JOBTHEIRS": add_job(engine, "JOBTHEIRS", duration=3600),
    }
    with engine.begin() as conn:
        rbac.add_group(
            conn, "MYGROUP", "mine", workflows=["MINE"], services=["svc-mine"], jobs=["JOBMINE"]
        )
        rbac.add_role(
            conn,
            "mine-only",
            "one group",
            [
                "LOGIN",
                "WORKFLOW-CONTROL",
                "SUBMIT-ORDER",
                "SERVICE-CONTROL",
                "JOB-CONTROL",
                "CALL-USER-SERVICES-RW",
                "CALL-SYSTEM-SERVICES-RO",
            ],
            ["MYGROUP"],
        )
        rbac.add_user(conn, "ann", "Ann-Secret-1", ["mine-only"], policy=rbac.PasswordPolicy())
        ann = rbac.load_principal(conn, "ann")
    logs = Logs(next_tag())
    server = make_server(engine)
    sm = ServiceManager(logger_factory=logs, system_release=False, thread_wait=0.5)
    sm.start(server)
    server.services = sm
    wm = WorkflowManager(logger_factory=logs, poll_interval=0.2)
    wm.start(server)
    server.workflows = wm
    jm: JobManager = start_jobs(server, ManualClock(T0), logger_factory=lambda n: logs("job", n))
    w = World(server, ann, wm, ids, {})
    for name in ("MINE", "THEIRS"):
        made = w.call("workflows.create-order", id=name, staticdata={"x": 1}, status="BLOCKED")
        w.orders[name] = int(made["workflow_instanceid"])
        w.call("workflows.start", id=name)
    try:
        yield w
    finally:
        jm.stop()
        wm.stop()
        sm.stop()


def test_lists_show_only_the_callers_groups(world: World) -> None:
    w = world
    assert [x["name"] for x in w.as_ann("workflows.list")] == ["MINE"]
    assert {x["name"] for x in w.call("workflows.list")} == {"MINE", "THEIRS"}
    found = [o["workflow_instanceid"] for o in w.as_ann("orders.search")]
    assert found == [w.orders["MINE"]]
    assert w.as_ann("orders.search", workflowid=str(w.ids["THEIRS"])) == []
    assert {e["name"] for e in w.as_ann("exec.list")} == {"MINE"}
    assert {e["name"] for e in w.call("exec.list")} == {"MINE", "THEIRS"}
    # services: the user services of the group and every system service
    assert {s["name"] for s in w.as_ann("services.list")} == {"svc-mine", "sysinfo"}
    assert [j["name"] for j in w.as_ann("jobs.list")] == ["JOBMINE"]
    assert list(w.as_ann("jobs.info")) == ["JOBMINE"]  # the RPC form: every job by name


def test_direct_access_outside_the_groups_is_refused(world: World) -> None:
    w = world
    theirs_exec = next(e["executionID"] for e in w.call("exec.list") if e["name"] == "THEIRS")
    for op, args in (
        ("workflows.info", {"id": "THEIRS"}),
        ("workflows.info", {"id": str(w.ids["THEIRS"])}),
        ("workflows.create-order", {"id": "THEIRS", "staticdata": {}}),
        ("workflows.stop", {"id": "THEIRS"}),
        ("orders.info", {"id": w.orders["THEIRS"]}),
        ("orders.unblock", {"id": w.orders["THEIRS"]}),
        ("exec.info", {"id": theirs_exec}),
        ("exec.stop", {"id": theirs_exec}),
        ("services.info", {"id": "svc-theirs"}),
        ("services.load", {"id": "svc-theirs"}),
        ("services.call", {"id": "svc-theirs", "method": "hello"}),
        ("jobs.info", {"id": "JOBTHEIRS"}),
        ("jobs.run", {"id": "JOBTHEIRS"}),
        ("jobs.set-active", {"id": "JOBTHEIRS", "active": False}),
    ):
        e = w.refused(op, **args)
        assert e.code == "AUTHORIZATION-ERROR" and e.http_status == 403, (op, e)
        assert "interface groups" in e.desc, (op, e.desc)
    # nothing changed: THEIRS still runs, its order is still BLOCKED, its job active
    assert {e["name"] for e in w.call("exec.list")} == {"MINE", "THEIRS"}
    assert w.call("orders.info", id=w.orders["THEIRS"])["workflowstatus"] == "BLOCKED"
    assert w.call("jobs.info", id="JOBTHEIRS")["active"] is True
    # and the own group's members are reachable
    assert w.as_ann("workflows.info", id="MINE")["name"] == "MINE"
    assert w.as_ann("services.call", id="svc-mine", method="hello") == "hello from mine"
    assert w.as_ann("jobs.info", id="JOBMINE")["name"] == "JOBMINE"
    assert w.as_ann("orders.unblock", id=w.orders["MINE"]) is not None


def test_system_services_follow_call_system_services(world: World) -> None:
    w = world
    # visible to every caller; CALL-SYSTEM-SERVICES-RO calls read methods only
    assert w.as_ann("services.info", id="sysinfo")["type"] == "system"
    assert w.as_ann("services.call", id="sysinfo", method="ro") == "ro"
    e = w.refused("services.call", id="sysinfo", method="rw")
    assert e.http_status == 403 and "CALL-SYSTEM-SERVICES-RW" in e.desc
    with w.server.engine.begin() as conn:
        rbac.add_user(conn, "bea", "Bea-Secret-1", ["read-only"], policy=rbac.PasswordPolicy())
        bea = rbac.load_principal(conn, "bea")
    with pytest.raises(QorusError) as info:
        w.call("services.call", bea, id="sysinfo", method="ro")
    assert info.value.http_status == 403 and "CALL-SYSTEM-SERVICES" in info.value.desc
