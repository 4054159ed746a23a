"""Interface groups that act, through the registry on a server running the workflow engine, the
service manager and the job scheduler: disabling a group stops its workflow's execution
instance, unloads its service and takes its job off the schedule (GROUP_STATUS_CHANGED and an
audit row), nothing of it starts while any group holding it is disabled, enabling it starts
them again as their autostart says; member changes, deletion and ``reloadRbac`` after an
offline change act the same; the DEFAULT group cannot be touched."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core import rbac
from qorus_core.db import tables as t
from qorus_core.db.refdata import AUDIT_CODE_BY_NAME
from qorus_core.model.errors import QorusError
from qorus_server.api import REGISTRY, CallContext
from qorus_server.engine.manager import WorkflowManager
from qorus_server.groups import GroupEnforcer
from qorus_server.jobs.manager import JobManager
from qorus_server.services import ServiceManager
from tests.helpers.definitions import add_job, add_service, add_workflow, noop_step
from tests.helpers.engine import Logs, TestServer, make_server, next_tag
from tests.helpers.jobs import T0, ManualClock, start_jobs

pytestmark = pytest.mark.integration

SVC = """
from svc import QorusService


class Gsvc(QorusService):
    def hello(self):
        return "hello"
"""


@dataclass
class Env:
    server: TestServer
    wm: WorkflowManager
    sm: ServiceManager
    jm: JobManager
    admin: rbac.Principal
    wf: int
    other_wf: int
    svc: int
    job: int

    def call(self, op: str, /, **args: Any) -> Any:
        ctx = CallContext(server=self.server, user=self.admin, transport="rest", source="t:1")
        return REGISTRY.call(op, ctx, args)

    def refused(self, op: str, /, **args: Any) -> QorusError:
        with pytest.raises(QorusError) as info:
            self.call(op, **args)
        return info.value

    def running(self) -> tuple[bool, bool, bool]:
        """Whether the group's workflow runs, its service is loaded, its job scheduled."""
        return (
            self.wf in self.wm.running_workflows(),
            self.svc in self.sm.loaded_ids(),
            self.job in self.jm.scheduled(),
        )


def _start_all(engine: Engine, server: TestServer, logs: Logs) -> tuple[Any, Any, Any]:
    sm = ServiceManager(logger_factory=logs, system_release=False, thread_wait=0.5)
    sm.start(server)
    server.services = sm
    server.components.append(sm)
    wm = WorkflowManager(logger_factory=logs, poll_interval=0.2)
    wm.start(server)
    server.workflows = wm
    server.components.append(wm)
    jm = start_jobs(server, ManualClock(T0), logger_factory=lambda n: logs("job", n), stop_wait=5)
    jm.tick()
    enf = GroupEnforcer()
    enf.start(server)
    server.components.append(enf)
    return wm, sm, jm


@pytest.fixture
def env(engine: Engine) -> Iterator[Env]:
    noop_step(engine, "GS1")
    wf = add_workflow(engine, "GWF", ["GS1"], autostart=1)
    other = add_workflow(engine, "OTHERWF", ["GS1"], autostart=1)
    svc = add_service(engine, "gsvc", SVC, ["hello"], autostart=True)
    job = add_job(engine, "GJOB", duration=3600)
    with engine.begin() as conn:
        rbac.add_user(conn, "admin", "Adm1n-Secret", ["superuser"], policy=rbac.PasswordPolicy())
        admin = rbac.load_principal(conn, "admin")
    server = make_server(engine, audit=["groups", "api"], **{"autostart-interfaces": True})
    wm, sm, jm = _start_all(engine, server, Logs(next_tag()))
    try:
        yield Env(server, wm, sm, jm, admin, wf, other, svc, job)
    finally:
        jm.stop()
        wm.stop()
        sm.stop()


def _audit_rows(engine: Engine) -> list[tuple[str, str]]:
    ae = t.audit_events
    code = AUDIT_CODE_BY_NAME["GROUP-STATUS-CHANGED"]
    with engine.connect() as conn:
        rows = conn.execute(
            select(ae.c.info1, ae.c.info2, ae.c.who)
            .where(ae.c.audit_event_code == code)
            .order_by(ae.c.audit_eventid)
        )
        return [(r[0], r[1]) for r in rows if r[2] == "admin"]


def test_disable_stops_and_enable_restarts_the_members(env: Env) -> None:
    assert env.running() == (True, True, True)
    made = env.call(
        "groups.add", group="G", desc="group", workflows="GWF", services=["gsvc"], jobs="GJOB"
    )
    assert made["enabled"] and made["size"] == 3
    assert [w["name"] for w in made["workflows"]] == ["GWF"]
    assert env.running() == (True, True, True)  # an enabled group stops nothing

    out = env.call("groups.disable", name="G")
    assert out["changed"] and not out["enabled"]
    assert len(out["acted"]["workflows"]["stopped"]) == 1
    assert len(out["acted"]["services"]["unloaded"]) == 1
    assert out["acted"]["jobs"]["descheduled"] == [env.job]
    assert env.running() == (False, False, False)
    assert env.other_wf in env.wm.running_workflows()  # not a member: untouched
    # GROUP_STATUS_CHANGED and its audit row
    ev = [e for e in env.server.events.last(50) if e.eventstr == "GROUP_STATUS_CHANGED"]
    assert ev and ev[-1].info["name"] == "G" and ev[-1].info["enabled"] is False
    assert _audit_rows(env.server.engine) == [("G", "disabled")]

    # nothing of it starts while the group is disabled
    for op, args in (
        ("workflows.start", {"id": "GWF"}),
        ("services.load", {"id": "gsvc"}),
        ("services.call", {"id": "gsvc", "method": "hello"}),
        ("jobs.run", {"id": "GJOB"}),
        ("workflows.exec-synchronous", {"id": "GWF", "staticdata": {}}),
    ):
        e = env.refused(op, **args)
        assert e.code == "GROUP-DISABLED" and "'G'" in e.desc, (op, e)
    env.jm.tick()
    assert env.running() == (False, False, False)
    # disabling again changes nothing and posts nothing
    again = env.call("groups.disable", name="G")
    assert not again["changed"] and _audit_rows(env.server.engine) == [("G", "disabled")]

    # another, enabled group holding the workflow does not release it: a member of ANY
    # disabled group is stopped (the real product's rule)
    env.call("groups.add", group="H", desc="other", workflows="GWF")
    assert not env.running()[0]

    out = env.call("groups.enable", name="G")
    assert out["changed"] and out["enabled"]
    assert (
        len(out["acted"]["workflows"]["started"]) == 1
        and len(out["acted"]["services"]["loaded"]) == 1
    )
    assert out["acted"]["jobs"]["scheduled"] == [env.job]
    assert env.running() == (True, True, True)
    assert env.call("services.call", id="gsvc", method="hello") == "hello"
    assert _audit_rows(env.server.engine) == [("G", "disabled"), ("G", "enabled")]


def test_member_changes_set_status_and_delete_act(env: Env) -> None:
    env.call("groups.add", group="OFF", desc="off", enabled=False)
    assert env.running() == (True, True, True)
    # members added to a disabled group stop at once
    out = env.call("groups.update", name="OFF", workflows="+GWF", services="gsvc")
    assert (
        len(out["acted"]["workflows"]["stopped"]) == 1
        and len(out["acted"]["services"]["unloaded"]) == 1
    )
    assert env.running() == (False, False, True)
    # a created-disabled group stops its members at once
    env.call("groups.add", group="JOBS", desc="jobs", jobs=[str(env.job)], enabled="false")
    assert env.running() == (False, False, False)
    # removed from the disabled group: released, started again
    out = env.call("groups.update", name="OFF", workflows="-GWF")
    assert len(out["acted"]["workflows"]["started"]) == 1
    assert env.running() == (True, False, False)
    # setStatus (the RPC's omq.system.group.set-status) and delete
    env.call("groups.set-status", name="JOBS", enabled=True)
    assert env.running() == (True, False, True)
    out = env.call("groups.delete", name="OFF")
    assert len(out["acted"]["services"]["loaded"]) == 1
    assert env.running() == (True, True, True)
    # update with `enabled` needs MODIFY-GROUP-STATUS as well
    with env.server.engine.begin() as conn:
        rbac.add_role(conn, "grp", "groups but not status", ["LOGIN", "MODIFY-GROUP"], ["DEFAULT"])
        rbac.add_user(conn, "gus", "Gus-Secret-1", ["grp"], policy=rbac.PasswordPolicy())
        gus = rbac.load_principal(conn, "gus")
    ctx = CallContext(server=env.server, user=gus)
    with pytest.raises(QorusError) as info:
        REGISTRY.call("groups.update", ctx, {"name": "JOBS", "enabled": False})
    assert info.value.http_status == 403
    assert REGISTRY.call("groups.update", ctx, {"name": "JOBS", "desc": "d"})["desc"] == "d"
    assert env.running() == (True, True, True)


def test_reload_rbac_applies_offline_group_changes(env: Env) -> None:
    env.call("groups.add", group="G", desc="g", workflows="GWF", services="gsvc", jobs="GJOB")
    with env.server.engine.begin() as conn:  # user-tool --disable-group G
        rbac.set_group_enabled(conn, "G", False)
    assert env.running() == (True, True, True)  # not applied before the reload
    env.call("system.reloadRbac")
    assert env.running() == (False, False, False)
    with env.server.engine.begin() as conn:  # user-tool --enable-group G
        rbac.set_group_enabled(conn, "G", True)
    env.call("system.reloadRbac")
    assert env.running() == (True, True, True)
    # the reload announced both changes as the API does (their audit rows are the offline
    # tool's, written with the change: user-tool writes them)
    ev = [e.info for e in env.server.events.last(50) if e.eventstr == "GROUP_STATUS_CHANGED"]
    assert [(i["name"], i["enabled"]) for i in ev] == [("G", False), ("G", True)]
    assert all("RBAC reloaded by admin" in str(i["reason"]) for i in ev)
    assert _audit_rows(env.server.engine) == []


def test_default_group_cannot_be_touched(env: Env) -> None:
    for op, args in (
        ("groups.disable", {"name": "DEFAULT"}),
        ("groups.enable", {"name": "DEFAULT"}),
        ("groups.set-status", {"name": "DEFAULT", "enabled": False}),
        ("groups.update", {"name": "DEFAULT", "desc": "mine"}),
        ("groups.delete", {"name": "DEFAULT"}),
    ):
        e = env.refused(op, **args)
        assert e.http_status == 403 and "DEFAULT" in e.desc, op
    info = env.call("groups.info", name="DEFAULT")
    assert info["id"] == 0 and info["enabled"] and info["is_default"]
    assert env.running() == (True, True, True)
    assert env.refused("groups.info", name="NOPE").http_status == 404
    assert env.refused("groups.add", group="DEFAULT", desc="x").http_status == 409
    e = env.refused("groups.add", group="X", desc="x", workflows="NO-SUCH-WF")
    assert e.http_status == 404
    assert env.refused("groups.add", group="X").http_status == 400  # desc is required
    # the many-groups forms answer one line per group
    env.call("groups.add", group="A1", desc="a")
    lines = env.call("groups.set-status-many", groups="A1,DEFAULT,NOPE", enabled="no")
    assert lines[0].startswith("updated group 'A1'") and "error" in lines[1] and "error" in lines[2]
    assert env.call("groups.delete-many", groups=["A1"]) == ["deleted group 'A1'"]
    by_name = env.call("groups.info")  # the RPC form: every group by name
    assert "DEFAULT" in by_name and "A1" not in by_name


def test_members_of_disabled_groups_do_not_autostart(engine: Engine) -> None:
    noop_step(engine, "GS1")
    add_workflow(engine, "GWF", ["GS1"], autostart=1)
    svc = add_service(engine, "gsvc", SVC, ["hello"], autostart=True)
    job = add_job(engine, "GJOB", duration=3600)
    with engine.begin() as conn:
        rbac.add_group(
            conn, "G", "off", workflows=["GWF"], services=["gsvc"], jobs=["GJOB"], enabled=False
        )
    server = make_server(engine, **{"autostart-interfaces": True})
    wm, sm, jm = _start_all(engine, server, Logs(next_tag()))
    try:
        assert wm.running_workflows() == set()
        assert svc not in sm.loaded_ids()
        assert job not in jm.scheduled()
    finally:
        jm.stop()
        wm.stop()
        sm.stop()
