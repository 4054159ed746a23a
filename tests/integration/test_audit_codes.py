"""The audit table, one test per audit option code: only that code enabled, the thing done,
its rows there with the reference's columns; nothing written for a code not enabled; an
order's status change and its audit row commit together, and auditing never adds a commit.

Runs on SQLite, PostgreSQL and MariaDB (``--db``)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from qorus_core.db import audit as audit_rows
from qorus_core.db import fastexec
from qorus_core.db import tables as t
from qorus_core.db.orders import create_order, create_orders
from qorus_core.db.refdata import AUDIT_EVENT_CODES
from qorus_core.db.unit import after_commit
from qorus_core.model.errors import QorusError
from qorus_core.omqdir import OmqDir
from qorus_core.options import load_options
from qorus_server import session as app_session
from qorus_server.api import REGISTRY, CallContext
from qorus_server.engine.manager import WorkflowManager
from qorus_server.events import group_status_changed
from qorus_server.server import QorusServer
from qorus_server.services import ServiceManager
from tests.acceptance.qorus_proc import tool
from tests.helpers.definitions import add_job, add_service, add_workflow, noop_step
from tests.helpers.engine import Logs, TestServer, make_server, new_session, next_tag, wait_orders
from tests.helpers.jobs import T0, ManualClock, start_jobs

pytestmark = pytest.mark.integration

#: every audit option code of the reference (``alerts``: no alert mechanism exists yet)
CODES = (
    "system",
    "workflows",
    "workflow-data",
    "jobs",
    "job-data",
    "services",
    "api",
    "user-events",
    "oload",
    "groups",
)


def rows(engine: Engine, **where: Any) -> list[dict[str, Any]]:
    """The audit rows (with their event name as ``event``), oldest first."""
    ae = t.audit_events
    q = select(ae).order_by(ae.c.audit_eventid)
    for k, v in where.items():
        q = q.where(ae.c[k] == v)
    with engine.connect() as conn:
        out = [dict(r._mapping) for r in conn.execute(q)]
    for r in out:
        r["event"] = AUDIT_EVENT_CODES[r["audit_event_code"]]
    return out


def events(engine: Engine) -> list[str]:
    return [r["event"] for r in rows(engine)]


@pytest.fixture
def logs() -> Logs:
    return Logs(next_tag())


def _manager(server: TestServer, logs: Logs) -> WorkflowManager:
    m = WorkflowManager(logger_factory=logs, poll_interval=0.2)
    m.start(server)
    server.workflows = m
    return m


def _call(server: TestServer, name: str, user: Any = None, **args: Any) -> Any:
    ctx = CallContext(
        server=server,  # type: ignore[arg-type]
        user=user,
        transport="rest",
        source="10.1.2.3:4567",
        request=f"REST PUT /api/latest/{name}",
    )
    return REGISTRY.call(name, ctx, args)


# ---------------------------------------------------------------------- system


def test_system(omq_dir: Path, engine: Engine) -> None:
    """SYSTEM-STARTUP and SYSTEM-SHUTDOWN (naming the startup row) of a server, and
    SYSTEM-RECOVERY-START / COMPLETE around the recovery of a crashed session."""
    omq = OmqDir(omq_dir)
    options = load_options(omq, ["http-server=127.0.0.1:0", "audit=system"])
    server = QorusServer(omq, options, version="test", components=[])
    server.step1_options()
    server.step2_logs()
    server.start()
    try:
        assert server.call("system.ping") == "OK"
    finally:
        server.request_shutdown("audit test over")
        server.shutdown_steps()
        server._close_sockets()
        server.logs.close()
    got = rows(server.engine)
    server.engine.dispose()
    assert [r["event"] for r in got] == ["SYSTEM-STARTUP", "SYSTEM-SHUTDOWN"]
    start, stop = got
    assert start["who"].startswith("UNIX: user ") and start["source"]
    assert start["info1"] == str(server.sessionid)
    assert stop["related_audit_eventid"] == start["audit_eventid"]
    assert stop["reason"] == "audit test over" and stop["who"] == "Qorus"


def test_system_recovery(engine: Engine) -> None:
    from qorus_core.options import Options
    from qorus_server.audit import Auditor

    noop_step(engine, "R1")
    wfid = add_workflow(engine, "RECOVERED", ["R1"])
    dead = new_session(engine)
    ids = create_orders(engine, wfid, [{"staticdata": {"i": i}} for i in range(3)])
    wi = t.workflow_instance
    with engine.begin() as conn:
        conn.execute(
            wi.update()
            .where(wi.c.workflow_instanceid.in_(ids))
            .values(workflowstatus="I", status_sessionid=dead)
        )
    auditor = Auditor(engine, Options({"audit": ["system"]}))
    import logging

    with engine.begin() as conn:
        from qorus_core.db import sessions as sess

        [old] = [s for s in sess.active_sessions(conn) if s.sessionid == dead]
        app_session._recover(conn, old, auditor, logging.getLogger("t"), "crashed")
    got = rows(engine)
    assert [r["event"] for r in got] == ["SYSTEM-RECOVERY-START", "SYSTEM-RECOVERY-COMPLETE"]
    assert got[1]["related_audit_eventid"] == got[0]["audit_eventid"]
    assert got[0]["info1"] == str(dead) and "crashed" in got[0]["source"]


# ---------------------------------------------------------------------- workflows


def test_workflows(engine: Engine, logs: Logs) -> None:
    """WORKFLOW-START and WORKFLOW-STOP of an execution instance, with the caller of the API
    call that started it; nothing of the orders (that is workflow-data)."""
    noop_step(engine, "W1")
    wfid = add_workflow(engine, "STARTED", ["W1"])
    server = make_server(engine, audit=["workflows"])
    m = _manager(server, logs)
    try:
        info = _call(server, "workflows.start", id="STARTED")
        wfiid = create_order(engine, wfid, {}, events=server.events)
        assert wait_orders(engine, [wfiid])[wfiid] == "C"
        _call(server, "workflows.stop", id="STARTED")
    finally:
        m.stop()
    got = rows(engine)
    assert [r["event"] for r in got] == ["WORKFLOW-START", "WORKFLOW-STOP"]
    start, stop = got
    execid = str(info["ids"][0])
    assert start["workflowid"] == wfid and start["info1"] == execid
    assert (start["who"], start["source"]) == (None, "10.1.2.3:4567")
    assert start["reason"] == "REST PUT /api/latest/workflows.start"
    assert stop["related_audit_eventid"] == start["audit_eventid"] and stop["info1"] == execid


# ---------------------------------------------------------------------- workflow-data


def test_workflow_data(engine: Engine, logs: Logs) -> None:
    """WORKFLOW-DATA-CREATED with the order, WORKFLOW-STATUS-CHANGE for each status change
    (one-letter codes old -> new) by the engine (who Qorus) and by an API call (its caller),
    all shown with the order as AuditEvents."""
    noop_step(engine, "D1")
    noop_step(engine, "D2", 'raise RuntimeError("no")')
    wfid = add_workflow(engine, "DATA", ["D1", "D2"])
    server = make_server(engine, audit=["workflow-data"])
    m = _manager(server, logs)
    try:
        res = _call(server, "workflows.create-order", id="DATA", staticdata={"a": 1})
        wfiid = int(res["workflow_instanceid"])
        m.start_workflow("DATA")
        m.notify(wfid)
        assert wait_orders(engine, [wfiid])[wfiid] == "E"
        _call(server, "orders.block", id=wfiid)
    finally:
        m.stop()
    got = rows(engine, workflow_instanceid=wfiid)
    assert [(r["event"], r["info1"], r["info2"]) for r in got][1:] == [
        ("WORKFLOW-STATUS-CHANGE", "Y", "I"),
        ("WORKFLOW-STATUS-CHANGE", "I", "E"),
        ("WORKFLOW-STATUS-CHANGE", "E", "B"),
    ]
    created = got[0]
    assert created["event"] == "WORKFLOW-DATA-CREATED" and created["workflowid"] == wfid
    assert created["info1"].startswith("status: READY")
    assert created["source"] == "10.1.2.3:4567"
    assert got[1]["who"] == "Qorus" and got[2]["who"] == "Qorus"
    assert got[3]["reason"] == "REST PUT /api/latest/orders.block"
    assert got[3]["source"] == "10.1.2.3:4567"
    shown = _call(server, "orders.info", id=wfiid)["AuditEvents"]
    assert [a["event"] for a in shown] == [r["event"] for r in got]
    assert all(v is not None for a in shown for v in a.values())  # NULLs are left out
    assert {"audit_eventid", "audit_event_code", "created", "reason"} <= set(shown[0])


def test_a_refused_change_leaves_no_audit_row(engine: Engine) -> None:
    """The row is in the change's transaction: a change rolled back takes it along."""
    noop_step(engine, "RB1")
    wfid = add_workflow(engine, "ROLLBACK", ["RB1"])
    wfiid = create_order(engine, wfid, {})
    server = make_server(engine, audit=["workflow-data"])
    from qorus_core.db import orders_ops as ops

    with (
        pytest.raises(RuntimeError),
        audit_rows.using(server.auditor.system),
        after_commit(engine, None) as (conn, _),
    ):
        ops.block_order(conn, wfiid)
        assert [r["event"] for r in _rows_in(conn)] == ["WORKFLOW-STATUS-CHANGE"]
        raise RuntimeError("after the change, before the commit")
    assert rows(engine, workflow_instanceid=wfiid) == []


def _rows_in(conn: Any) -> list[dict[str, Any]]:
    out = [dict(r._mapping) for r in conn.execute(select(t.audit_events))]
    for r in out:
        r["event"] = AUDIT_EVENT_CODES[r["audit_event_code"]]
    return out


class Counter:
    """Commits of transactions that wrote something (an idle claim that found nothing is no
    commit of an order), and statements on the audit table. Statements the engine runs on
    the driver's cursor (``fastexec``, PostgreSQL) are seen through a wrapper, since they
    pass no SQLAlchemy event."""

    def __init__(self, engine: Engine) -> None:
        self.commits = 0
        self.audit_statements = 0
        self.engine = engine
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "before_cursor_execute", self._stmt)
        self._real = real = fastexec.execute

        def seen(conn: Any, stmt: Any, params: dict[str, Any]) -> int:
            self._stmt(conn, None, str(stmt))
            return real(conn, stmt, params)

        fastexec.execute = seen  # type: ignore[assignment]

    def _commit(self, conn: Any) -> None:
        if conn.info.pop("wrote", False):
            self.commits += 1

    def _stmt(self, conn: Any, cursor: Any, statement: str, *a: Any) -> None:
        if "audit_events" in statement:
            self.audit_statements += 1
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            conn.info["wrote"] = True

    def close(self) -> None:
        fastexec.execute = self._real  # type: ignore[assignment]
        event.remove(self.engine, "commit", self._commit)
        event.remove(self.engine, "before_cursor_execute", self._stmt)


def test_auditing_adds_statements_never_commits(engine: Engine, logs: Logs) -> None:
    """The engine's commits per order are the same with workflow-data audited or not (one
    per step, the claim batched); with auditing off not one statement touches the audit
    table."""
    for n in ("C1", "C2", "C3"):
        noop_step(engine, n)
    wfs = {
        name: add_workflow(engine, name, ["C1", "C2", "C3"], options={"workflow-workers": 1})
        for name in ("QUIET", "AUDITED")
    }
    batches = {
        name: create_orders(engine, wfid, [{"staticdata": {"i": i}} for i in range(20)])
        for name, wfid in wfs.items()
    }
    server = make_server(engine, audit=[])
    m = _manager(server, logs)
    seen: dict[str, tuple[int, int]] = {}
    try:
        for name in ("QUIET", "AUDITED"):
            if name == "AUDITED":
                server.options.set("audit", ["workflow-data"])
            counter = Counter(engine)
            try:
                m.start_workflow(name)
                m.notify(wfs[name])
                assert set(wait_orders(engine, batches[name]).values()) == {"C"}
                m.stop_workflow(name)
            finally:
                counter.close()
            seen[name] = (counter.commits, counter.audit_statements)
    finally:
        m.stop()
    assert seen["QUIET"][1] == 0
    assert seen["AUDITED"][1] > 0
    assert seen["AUDITED"][0] == seen["QUIET"][0], seen
    assert len(rows(engine)) == 40  # Y -> I and I -> C of each audited order


# ---------------------------------------------------------------------- jobs, job-data


def _jobs(engine: Engine, codes: list[str], logs: Logs) -> tuple[int, list[dict[str, Any]]]:
    jobid = add_job(engine, "AUDITJOB", schedule="* * * * *")
    server = make_server(engine, audit=codes)
    clock = ManualClock(T0)
    mgr = start_jobs(server, clock, logger_factory=lambda n: logs("job", n))
    try:
        mgr.tick()
        res = _call(server, "jobs.run", id="AUDITJOB")
        assert res["status"] == "COMPLETE"
        _call(server, "jobs.set-active", id="AUDITJOB", active=False)
    finally:
        mgr.stop()
    return jobid, rows(engine, jobid=jobid)


def test_jobs(engine: Engine, logs: Logs) -> None:
    _, got = _jobs(engine, ["jobs"], logs)
    assert [r["event"] for r in got] == ["JOB-START", "JOB-STOP"]
    assert got[0]["info1"].startswith("scheduled: ")
    assert got[1]["source"] == "10.1.2.3:4567"  # stopped by the API call


def test_job_data(engine: Engine, logs: Logs) -> None:
    _, got = _jobs(engine, ["job-data"], logs)
    assert [r["event"] for r in got] == ["JOB-INSTANCE-START", "JOB-INSTANCE-STOP"]
    start, stop = got
    assert start["job_instanceid"] == stop["job_instanceid"] is not None
    assert stop["related_audit_eventid"] == start["audit_eventid"]
    assert stop["info1"] == "C" and stop["info2"].startswith("COMPLETE")
    assert start["reason"] == "REST PUT /api/latest/jobs.run"  # run by the API call


# ---------------------------------------------------------------------- services

SVC = """\
from svc import QorusService


class Audited(QorusService):
    def ping(self):
        return "pong"
"""


def test_services(engine: Engine, logs: Logs) -> None:
    serviceid = add_service(engine, "audited", SVC, ["ping"])
    server = make_server(engine, audit=["services"])
    sm = ServiceManager(logger_factory=logs, system_release=False, thread_wait=0.5)
    sm.start(server)  # type: ignore[arg-type]
    server.services = sm
    try:
        assert _call(server, "services.call", id="audited", method="ping") == "pong"
        _call(server, "services.unload", id="audited")
    finally:
        sm.stop()
    got = rows(engine)
    assert [r["event"] for r in got] == ["SERVICE-START", "SERVICE-STOP"]
    assert {r["serviceid"] for r in got} == {serviceid}
    assert got[1]["related_audit_eventid"] == got[0]["audit_eventid"]
    assert got[0]["info1"] == "user audited v1.0"


# ---------------------------------------------------------------------- api


def test_api(engine: Engine) -> None:
    """API-CALL of an operation that changes something: who, source, reason as the
    reference writes them, the arguments (secrets masked) and the operation; none for a read
    unless api-read is named."""
    server = make_server(engine, audit=["api"])
    from qorus_server.api.registry import Principal

    admin = Principal("admin", frozenset({"LOGIN", "OPTION-CONTROL"}))
    _call(server, "system.options.set", user=admin, **{"max-retries": 7})
    _call(server, "system.health", user=admin)
    [row] = rows(engine)
    assert row["event"] == "API-CALL"
    assert (row["who"], row["source"]) == ("admin", "10.1.2.3:4567")
    assert row["reason"] == "REST PUT /api/latest/system.options.set"
    assert row["info1"] == '{"max-retries": 7}' and row["info2"] == "system.options.set"
    server.options.set("audit", ["api-read"])
    _call(server, "system.health", user=admin)
    assert [r["info2"] for r in rows(engine)] == ["system.options.set", "system.health"]


# ---------------------------------------------------------------------- user-events


def test_user_events(engine: Engine, logs: Logs) -> None:
    noop_step(
        engine,
        "U1",
        'UserApi.auditUserEvent("SHIPPED", "parcel 7", "via post")\n'
        'UserApi.postUserEvent("MINOR", {"parcel": 7})',
    )
    wfid = add_workflow(engine, "USEREV", ["U1"])
    server = make_server(engine, audit=["user-events"])
    m = _manager(server, logs)
    try:
        m.start_workflow("USEREV")
        wfiid = create_order(engine, wfid, {}, events=server.events)
        assert wait_orders(engine, [wfiid])[wfiid] == "C"
    finally:
        m.stop()
    [row] = rows(engine)
    assert row["event"] == "USER-EVENT" and row["audit_user_event"] == "SHIPPED"
    assert (row["workflowid"], row["workflow_instanceid"]) == (wfid, wfiid)
    assert row["stepid"] is not None and row["ind"] == 0
    assert (row["info1"], row["info2"], row["who"]) == ("parcel 7", "via post", "Qorus")
    [ev] = [e for e in server.events.last(100) if e.eventstr == "USER_EVENT"]
    assert ev.userseveritystr == "MINOR" and ev.scope == ("workflow", wfid)


# ---------------------------------------------------------------------- oload


def test_oload_offline(omq_dir: Path, engine: Engine, tmp_path: Path) -> None:
    """SOURCE-FILE-LOADED rows written by the oload tool itself (no server running)."""
    opts = omq_dir / "etc" / "options"
    opts.write_text(opts.read_text() + "qorus.audit = oload\n")
    files = tmp_path / "files"
    files.mkdir()
    (files / "OLS-1.0.qstep.yaml").write_text(
        "type: step\nname: OLS\nversion: '1.0'\nsteptype: NORMAL\narraytype: NONE\n"
        "lang: python\ncode: OLS-1.0.qstep.py\nclass-name: OLS\n"
    )
    (files / "OLS-1.0.qstep.py").write_text(
        textwrap.dedent(
            """\
            from wf import QorusNormalStep


            class OLS(QorusNormalStep):
                def primary(self):
                    pass
            """
        )
    )
    res = tool("oload", "--qorus-dir", str(omq_dir), str(files / "OLS-1.0.qstep.yaml"))
    assert res.returncode == 0, res.stderr + res.stdout
    [row] = rows(engine)
    assert row["event"] == "SOURCE-FILE-LOADED" and row["stepid"] is not None
    assert row["info1"] == "step" and row["info2"].startswith("OLS v1.0 (")
    assert row["reason"].startswith("oload pid ") and row["source"].endswith("OLS-1.0.qstep.yaml")
    assert row["who"]


# ---------------------------------------------------------------------- groups


def test_groups_through_the_shared_helper(engine: Engine) -> None:
    """group_status_changed (REST and RPC group enable / disable call it): the row in the
    change's transaction under the caller's trail, GROUP_STATUS_CHANGED after the commit."""
    from qorus_core import rbac

    server = make_server(engine, audit=["groups"])
    with engine.begin() as conn:
        rbac.add_group(conn, "G1", "a group")
    ctx = CallContext(server=server, transport="rest", source="10.9.9.9:1", request="REST PUT x")  # type: ignore[arg-type]
    with (
        audit_rows.using(server.auditor.call_trail(ctx)),
        after_commit(engine, server.events) as (conn, later),
    ):
        rbac.set_group_enabled(conn, "G1", False)
        group_status_changed(conn, later, name="G1", groupid=None, enabled=False)
        assert server.events.last(10) == []  # not before the commit
    [row] = rows(engine)
    assert row["event"] == "GROUP-STATUS-CHANGED"
    assert (row["info1"], row["info2"], row["source"]) == ("G1", "disabled", "10.9.9.9:1")
    [ev] = server.events.last(10)
    assert ev.eventstr == "GROUP_STATUS_CHANGED" and ev.info["enabled"] is False


def test_groups_offline_by_user_tool(omq_dir: Path, engine: Engine) -> None:
    opts = omq_dir / "etc" / "options"
    opts.write_text(opts.read_text() + "qorus.audit = groups\n")
    d = ["--qorus-dir", str(omq_dir)]
    res = tool("user_tool", *d, "-g", "G2:desc=two")
    assert res.returncode == 0, res.stderr
    res = tool("user_tool", *d, "--disable-group", "G2")
    assert res.returncode == 0, res.stderr
    [row] = rows(engine)
    assert (row["event"], row["info1"], row["info2"]) == ("GROUP-STATUS-CHANGED", "G2", "disabled")
    assert row["reason"].startswith("user-tool pid ") and row["who"].startswith("UNIX: user ")


# ---------------------------------------------------------------------- none when off


@pytest.mark.parametrize("code", CODES)
def test_each_code_maps_only_its_events(code: str) -> None:
    on = {e for e, c in audit_rows.OPTION_OF_EVENT.items() if c == code}
    assert on, code
    trail = audit_rows.AuditTrail(audit_rows.audit_codes([code]))
    assert {e for e in audit_rows.OPTION_OF_EVENT if trail.wants(e)} == on
    assert audit_rows.audit_codes("*") == audit_rows.ALL_CODES
    assert "api-read" not in audit_rows.audit_codes(["*"])


def test_nothing_is_written_when_auditing_is_off(engine: Engine, logs: Logs) -> None:
    noop_step(engine, "OFF1", 'UserApi.auditUserEvent("X")')
    add_workflow(engine, "OFF", ["OFF1"])
    server = make_server(engine, audit=[])
    m = _manager(server, logs)
    try:
        _call(server, "workflows.start", id="OFF")
        res = _call(server, "workflows.create-order", id="OFF", staticdata={})
        wfiid = int(res["workflow_instanceid"])
        assert wait_orders(engine, [wfiid])[wfiid] == "C"
        _call(server, "workflows.stop", id="OFF")
        with pytest.raises(QorusError):
            _call(server, "orders.retry", id=wfiid)
    finally:
        m.stop()
    assert rows(engine) == []
    assert os.environ.get("QORUS_NEVER") is None
