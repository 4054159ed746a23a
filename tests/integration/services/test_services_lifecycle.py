"""The service manager through the operations: load, unload, calls, start()/stop() threads,
autostart (a failing service does not stop the others), enable/disable, autostart flag,
statistics, state data across managers, events and audit rows, the service's log, the call
context, internal methods, method exceptions and the service type of a call."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.model.errors import QorusError
from qorus_server.api.registry import Principal
from qorus_server.engine.manager import WorkflowManager
from qorus_server.services import ServiceManager
from tests.helpers.definitions import add_service, add_workflow, noop_step
from tests.helpers.engine import Logs, TestServer, wait_orders

pytestmark = pytest.mark.integration

Api = Callable[..., Any]

SIMPLE = """
from svc import QorusService


class Simple(QorusService):
    def init(self):
        self.inits = (svcapi.getStateData() or {}).get("inits", 0) + 1
        svcapi.saveStateData({"inits": self.inits})
        UserApi.logInfo("simple init %d", self.inits)

    def hello(self, who="world"):
        UserApi.logInfo("hello %s", who)
        return "hello %s" % who

    def add(self, x, y):
        return x + y

    def echo(self, value):
        return value

    def fail(self, kind):
        if kind == "qorus":
            class E(Exception):
                err = "MY-ERROR"
                desc = "it went wrong on purpose"
            raise E("x")
        raise ValueError("bad value %s" % kind)

    def context(self):
        return svcapi.getCallContext()

    def info(self):
        return svcapi.getServiceInfo()

    def secret(self):
        return "internal only"

    def viaself(self):
        return UserApi.callService("simple", "secret")

    def weird(self, kind):
        return float("nan") if kind == "nan" else {"x": [object()]}
"""
SIMPLE_METHODS: list[str | dict[str, Any]] = [
    "hello",
    "add",
    "echo",
    "fail",
    "context",
    "info",
    {"name": "secret", "internal": True},
    "viaself",
    "weird",
]


@pytest.fixture
def simple(engine: Engine) -> int:
    return add_service(engine, "simple", SIMPLE, SIMPLE_METHODS)


def err(api: Api, name: str, **args: Any) -> QorusError:
    with pytest.raises(QorusError) as info:
        api(name, **args)
    return info.value


def audit_rows(engine: Engine) -> list[tuple[str, int | None, int | None, int]]:
    ae, codes = t.audit_events, t.audit_event_codes
    with engine.connect() as conn:
        return [
            (r[0], r[1], r[2], int(r[3]))
            for r in conn.execute(
                select(codes.c.name, ae.c.serviceid, ae.c.related_audit_eventid, ae.c.audit_eventid)
                .join(codes, codes.c.audit_event_code == ae.c.audit_event_code)
                .order_by(ae.c.audit_eventid)
            )
        ]


def events(server: TestServer, prefix: str = "SERVICE_") -> list[tuple[str, dict[str, Any]]]:
    return [(e.eventstr, e.info) for e in server.events.last(1000) if e.eventstr.startswith(prefix)]


def test_a_call_loads_the_service_and_unload_unloads_it(
    api: Api, simple: int, server: TestServer, engine: Engine, logs: Logs
) -> None:
    info = api("services.info", id="simple")
    assert (info["status"], info["type"], info["serviceid"]) == ("unloaded", "user", simple)
    assert [m["name"] for m in info["methods"]] == [
        m if isinstance(m, str) else m["name"] for m in SIMPLE_METHODS
    ]
    secret = next(m for m in info["methods"] if m["name"] == "secret")
    assert secret["internal"] is True and secret["lock"] == "none"
    # an unloaded service is loaded by a call to one of its methods
    assert api("services.call", id="simple", method="hello", args="you") == "hello you"
    assert api("services.info", id=str(simple))["status"] == "loaded"
    assert api("services.call", id="simple:1.0", method="add", args=[2, 3]) == 5
    assert api("services.call", id="simple", method="echo", args=[[1, 2]]) == [1, 2]
    assert api("services.call", id="simple", method="echo", args={"a": 1}) == {"a": 1}
    assert api("services.call", id="simple", method="hello") == "hello world"
    # the service logs into its own log
    assert "hello you" in logs.messages("simple") and "simple init 1" in logs.messages("simple")
    res = api("services.unload", id="simple")
    assert res["unloaded"] is True and api("services.info", id="simple")["status"] == "unloaded"
    assert api("services.unload", id="simple")["unloaded"] is False
    res = api("services.load", id="simple")
    assert res["already_loaded"] is False and res["status"] == "loaded"
    assert api("services.load", id="simple")["already_loaded"] is True
    # events and audit rows (the audit option lists "services")
    evs = events(server)
    assert [e for e, _ in evs] == ["SERVICE_START", "SERVICE_STOP", "SERVICE_START"]
    assert evs[0][1]["name"] == "simple" and evs[0][1]["reason"] == "call"
    rows = [r for r in audit_rows(engine) if r[0].startswith("SERVICE")]
    assert [(r[0], r[1]) for r in rows] == [
        ("SERVICE-START", simple),
        ("SERVICE-STOP", simple),
        ("SERVICE-START", simple),
    ]
    assert rows[1][2] == rows[0][3]  # the stop row names its start row
    # init() ran at each load: its state data counts them
    assert api("services.info", id="simple")["state"] == {"inits": 2}


def test_method_errors_answer_409_and_the_service_keeps_running(api: Api, simple: int) -> None:
    e = err(api, "services.call", id="simple", method="fail", args="qorus")
    assert (e.http_status, e.code, e.desc) == (409, "MY-ERROR", "it went wrong on purpose")
    e = err(api, "services.call", id="simple", method="fail", args="x")
    assert (e.http_status, e.code, e.desc) == (409, "ValueError", "bad value x")
    e = err(api, "services.call", id="simple", method="add", args=[1])  # wrong arguments
    assert (e.http_status, e.code) == (409, "TypeError")
    assert api("services.call", id="simple", method="add", args=[1, 1]) == 2
    # a result no gateway could send is the method's error, not the server's
    for kind in ("nan", "object"):
        e = err(api, "services.call", id="simple", method="weird", args=kind)
        assert (e.http_status, e.code) == (409, "SERVICE-RESULT-ERROR"), e.desc
    info = api("services.info", id="simple")
    assert info["status"] == "loaded"
    assert info["stats"]["methods"]["fail"]["errors"] == 2
    assert (info["stats"]["calls"], info["stats"]["errors"]) == (6, 3)
    api("services.reset-stats", id="simple")
    assert api("services.info", id="simple")["stats"]["calls"] == 0


def test_unknown_services_methods_and_internal_ones(api: Api, simple: int, engine: Engine) -> None:
    assert err(api, "services.call", id="nosuch", method="x").http_status == 404
    e = err(api, "services.call", id="simple", method="nosuch")
    assert (e.http_status, e.code) == (404, "SERVICE-NO-METHOD")
    # an internal method: refused from outside, callable by the service itself
    e = err(api, "services.call", id="simple", method="secret")
    assert (e.http_status, e.code) == (403, "INTERNAL-METHOD-ERROR")
    assert api("services.call", id="simple", method="viaself") == "internal only"
    # the service type of a call must match
    e = err(api, "services.call", id="simple", method="hello", servicetype="SYSTEM")
    assert e.http_status == 404
    assert api("services.call", id="simple", method="hello", servicetype="user") == "hello world"
    e = err(api, "services.call", id="simple", method="hello", servicetype="OTHER")
    assert e.http_status == 400 and "servicetype" in e.desc
    # an unknown method of a service is also refused by GET services/{id}/{method}
    assert err(api, "services.method-info", id="simple", method="nosuch").http_status == 404
    mi = api("services.method-info", id="simple", method="secret")
    assert mi["internal"] is True and mi["service_name"] == "simple"


def test_call_context_and_service_info(api: Api, simple: int) -> None:
    user = Principal("alice", frozenset({"LOGIN", "CALL-USER-SERVICES-RW"}))
    ctx = api("services.call", user=user, transport="rest", id="simple", method="context")
    assert ctx == {
        "method": "context",
        "user": "alice",
        "source": "127.0.0.1",
        "transport": "rest",
    }
    info = api("services.call", id="simple", method="info")
    assert (info["name"], info["type"], info["status"], info["method"]) == (
        "simple",
        "user",
        "loaded",
        "info",
    )


def test_disable_enable_and_autostart_flag(api: Api, simple: int, server: TestServer) -> None:
    api("services.load", id="simple")
    res = api("services.disable", id="simple")
    assert res["enabled"] is False
    assert api("services.info", id="simple")["status"] == "unloaded"
    for op, args in (("services.call", {"method": "hello"}), ("services.load", {})):
        e = err(api, op, id="simple", **args)
        assert (e.http_status, e.code) == (409, "SERVICE-DISABLED")
    api("services.enable", id="simple")
    assert api("services.call", id="simple", method="hello") == "hello world"
    res = api("services.set-autostart", id="simple", autostart=True)
    assert res["autostart"] is True and res["updated"] is True
    assert api("services.set-autostart", id="simple", autostart="true")["updated"] is False
    assert api("services.info", id="simple")["autostart"] is True
    [(_ev, info)] = [e for e in events(server) if e[0] == "SERVICE_AUTOSTART_CHANGE"]
    assert info["autostart"] is True
    assert err(api, "services.set-autostart", id="simple").http_status == 400


def test_state_data_survives_a_new_manager(
    engine: Engine, simple: int, start_manager: Callable[..., ServiceManager], server: TestServer
) -> None:
    first = start_manager()
    first.call_from_code("simple", "hello", [])
    first.stop()
    second = start_manager()
    second.call_from_code("simple", "hello", [])
    with engine.connect() as conn:
        data = conn.execute(select(t.service_state_data.c.data)).scalar_one()
    assert '"inits": 2' in data


STARTER = """
import threading
from svc import QorusService


class Starter(QorusService):
    def init(self):
        self.stopped = threading.Event()
        self.ticks = 0

    def start(self):
        UserApi.logInfo("start() begins")
        while not self.stopped.wait(0.01):
            self.ticks += 1
        UserApi.logInfo("start() ends")

    def stop(self):
        UserApi.logInfo("stop() called")
        self.stopped.set()

    def ticks_so_far(self):
        return self.ticks

    def spawn(self, n):
        def work(i):
            UserApi.logInfo("worker %d", i)
            self.stopped.wait(30)
        for i in range(n):
            svcapi.startThread(work, i)
        return svcapi.getServiceInfo()["threads"]
"""


def test_start_runs_in_its_own_thread_and_stop_ends_it(
    api: Api, engine: Engine, logs: Logs
) -> None:
    add_service(engine, "starter", STARTER, ["ticks_so_far", "spawn"])
    api("services.load", id="starter")
    assert api("services.info", id="starter")["status"] == "running"
    time.sleep(0.1)
    assert api("services.call", id="starter", method="ticks_so_far") > 0
    assert api("services.call", id="starter", method="spawn", args=3) == 4
    assert api("services.info", id="starter")["threads"] == 4
    api("services.unload", id="starter")  # stop() ends start() and the threads; all joined
    assert not [t for t in threading.enumerate() if t.name.startswith("svc-starter")]
    msgs = logs.messages("starter")
    assert msgs.index("stop() called") < msgs.index("start() ends")
    assert sum(1 for m in msgs if m.startswith("worker")) == 3


ENDER = """
from svc import QorusService


class Ender(QorusService):
    def start(self):
        UserApi.logInfo("done at once")

    def stop(self):
        pass

    def ping(self):
        return "pong"
"""

NOSTOP = """
from svc import QorusService


class NoStop(QorusService):
    def spawn(self):
        return svcapi.startThread(lambda: None)
"""


def test_the_service_unloads_when_start_returns(
    api: Api, engine: Engine, server: TestServer
) -> None:
    add_service(engine, "ender", ENDER, ["ping"])
    api("services.load", id="ender")
    deadline = time.monotonic() + 10
    while api("services.info", id="ender")["status"] != "unloaded":
        assert time.monotonic() < deadline, "the service did not unload"
        time.sleep(0.02)
    assert [e for e, i in events(server) if i["name"] == "ender"] == [
        "SERVICE_START",
        "SERVICE_STOP",
    ]
    # a service without stop() cannot start threads
    add_service(engine, "nostop", NOSTOP, ["spawn"], class_name="NoStop")
    e = err(api, "services.call", id="nostop", method="spawn")
    assert e.code == "START-SERVICE-THREAD-ERROR"


BROKEN = """
from svc import QorusService


class Broken(QorusService):
    def init(self):
        raise RuntimeError("no database today")

    def ping(self):
        return "pong"
"""


def test_autostart_loads_services_and_a_failing_one_does_not_stop_the_others(
    engine: Engine,
    start_manager: Callable[..., ServiceManager],
    server: TestServer,
    logs: Logs,
) -> None:
    add_service(engine, "broken", BROKEN, ["ping"], autostart=True)
    add_service(engine, "simple", SIMPLE, SIMPLE_METHODS, autostart=True)
    add_service(engine, "ender", ENDER, ["ping"])  # not autostarted
    server.options.set("autostart-interfaces", True)
    sm = start_manager()
    assert sm.loaded_by_name("USER", "simple") is not None
    assert sm.loaded_by_name("USER", "broken") is None
    assert sm.loaded_by_name("USER", "ender") is None
    errors = [i for e, i in events(server) if e == "SERVICE_ERROR"]
    assert errors and errors[0]["name"] == "broken" and "no database today" in errors[0]["desc"]
    assert any("no database today" in m for m in logs.messages("broken"))
    assert sm.health() == {"loaded": 1, "running": 0}


def test_a_step_calls_a_service_in_process(
    api: Api, simple: int, engine: Engine, server: TestServer, logs: Logs
) -> None:
    """``UserApi.callService`` from step code: the service is loaded by the call, its call
    context names the order, and the service's log (not the workflow's) gets its lines."""
    noop_step(
        engine,
        "CallSvc",
        """
        ctx = UserApi.callService("simple", "context")
        hello = UserApi.callService("simple", "hello", "step")
        wfapi.updateDynamicData({"ctx": ctx, "hello": hello})
        """,
    )
    wfid = add_workflow(engine, "CALLSVC", ["CallSvc"])
    wm = WorkflowManager(logger_factory=logs, poll_interval=0.2)
    wm.start(server)  # type: ignore[arg-type]
    server.workflows = wm
    try:
        api("workflows.start", id="CALLSVC")
        wfiid = api("workflows.create-order", id="CALLSVC", staticdata={"a": 1})[
            "workflow_instanceid"
        ]
        assert wait_orders(engine, [wfiid]) == {wfiid: "C"}
    finally:
        wm.stop()
    dd = api("orders.info", id=wfiid)["dynamicdata"]
    assert dd["hello"] == "hello step"
    ctx = dd["ctx"]
    assert (ctx["user"], ctx["transport"], ctx["source"]) == (None, "internal", "workflow CALLSVC")
    assert ctx["wf"]["workflow_instanceid"] == wfiid and ctx["wf"]["workflowid"] == wfid
    assert "hello step" in logs.messages("simple")
    assert "hello step" not in logs.messages("CALLSVC")


def test_no_audit_rows_unless_the_audit_option_lists_services(
    engine: Engine, simple: int, start_manager: Callable[..., ServiceManager], server: TestServer
) -> None:
    server.options.set("audit", ["api"])
    sm = start_manager()
    sm.call_from_code("simple", "hello", [])
    sm.unload("simple")
    assert not [r for r in audit_rows(engine) if r[0].startswith("SERVICE")]
    assert [e for e, _ in events(server)] == ["SERVICE_START", "SERVICE_STOP"]


VERSIONS = """
from svc import QorusService


class Multi(QorusService):
    def which(self):
        return "{v}"
"""


def test_one_version_is_loaded_and_reset_moves_to_another(api: Api, engine: Engine) -> None:
    v1 = add_service(engine, "multi", VERSIONS.format(v="1.0"), ["which"], version="1.0")
    assert api("services.call", id="multi", method="which") == "1.0"
    v2 = add_service(engine, "multi", VERSIONS.format(v="2.0"), ["which"], version="2.0")
    # the loaded version answers a bare name; another version named explicitly is refused
    assert api("services.call", id="multi", method="which") == "1.0"
    assert api("services.info", id="multi")["version"] == "1.0"
    e = err(api, "services.call", id="multi:2.0", method="which")
    assert (e.http_status, e.code) == (409, "SERVICE-VERSION-ERROR")
    assert err(api, "services.load", id=str(v2)).code == "SERVICE-VERSION-ERROR"
    # reset by name moves to the latest version; by id to that one
    assert api("services.reset", id="multi") is True
    assert api("services.call", id="multi", method="which") == "2.0"
    assert api("services.reset", id=str(v1)) is True
    assert api("services.call", id="multi:1.0", method="which") == "1.0"
    listed = [s for s in api("services.list") if s["name"] == "multi"]
    assert [(s["version"], s["status"]) for s in listed] == [("1.0", "loaded")]
    # a service not loaded is reset only with load
    api("services.unload", id="multi")
    assert api("services.reset", id="multi") is False
    assert api("services.info", id="multi")["status"] == "unloaded"
    assert api("services.reset", id="multi", load=True) is False
    assert api("services.call", id="multi", method="which") == "2.0"


PINGER = """
from svc import QorusService


class Pinger(QorusService):
    def ping(self):
        return "pong"
"""


def test_actions_on_several_services(api: Api, engine: Engine, simple: int) -> None:
    add_service(engine, "pinger", PINGER, ["ping"])
    res = api("services.load-many", ids="simple,pinger,nosuch")
    assert [(r["arg"], r["loaded"]) for r in res] == [
        ("simple", True),
        ("pinger", True),
        ("nosuch", False),
    ]
    assert res[2]["err"] == "SERVICE-ERROR"
    reset = api("services.reset-all")
    assert sorted((r["name"], r["reset"]) for r in reset) == [("pinger", True), ("simple", True)]
    res = api("services.reset-many", ids=["simple"], load=False)
    assert res[0]["reset"] is True and res[0]["loaded"] is True
    res = api("services.unload-many", ids=["simple", "pinger"])
    assert [r["unloaded"] for r in res] == [True, True]
    assert api("services.reset-many", ids="simple")[0]["reset"] is False
    assert api("services.reset-all") == []
    with pytest.raises(QorusError) as info:
        api("services.load-many", ids=["simple", "a\x00b"])
    assert info.value.http_status == 400  # every argument is checked before any change
    assert api("services.info", id="simple")["status"] == "unloaded"
