"""The event operations through the registry (as REST and every RPC protocol call them):
get-last-event-id, get-last-events with count and filters, wait-for-events with timeouts and
filters, the -or / -and forms, the events a user may see, the bound on waits, the end of waits
at shutdown; and the events the engine raises as orders run."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from qorus_core.db.orders import create_order
from qorus_core.model.errors import QorusError
from qorus_core.rbac import Principal
from qorus_server.api import REGISTRY, CallContext
from qorus_server.api import events as event_ops
from qorus_server.engine.manager import WorkflowManager
from tests.helpers.definitions import add_workflow, noop_step
from tests.helpers.engine import Logs, TestServer, make_server, next_tag, wait_orders

pytestmark = pytest.mark.integration


def call(server: TestServer, rpc: str, *params: Any, user: Any = None) -> Any:
    """An RPC method with positional params, as XML-RPC would send them."""
    from qorus_server.api.rpc import resolve

    c = resolve(REGISTRY, rpc, list(params))
    ctx = CallContext(server=server, user=user, transport="xml-rpc", request=f"RPC: {rpc}")  # type: ignore[arg-type]
    return REGISTRY.call(c.op, ctx, c.args)


@pytest.fixture
def server(engine: Engine) -> TestServer:
    return make_server(engine, **{"max-events": 50})


def names(answer: dict[str, Any]) -> list[str]:
    return [e["eventstr"] for e in answer.get("events", [])]


def test_last_id_and_last_events(server: TestServer) -> None:
    assert call(server, "omq.system.get-last-event-id") == 0
    assert call(server, "omq.system.get-last-events", 10) == {"lastid": 0}
    for i in range(60):
        server.events.post("WORKFLOW_START" if i % 2 else "SERVICE_START", {"n": i})
    assert call(server, "omq.system.get-last-event-id") == 60
    ans = call(server, "omq.system.get-last-events", 3)
    assert ans["lastid"] == 60 and [e["id"] for e in ans["events"]] == [58, 59, 60]
    assert len(call(server, "omq.system.get-last-events", 0)["events"]) == 50  # max-events
    ans = call(server, "omq.system.get-last-events", 10, [{"classstr": "SERVICE"}])
    assert names(ans) == ["SERVICE_START"] * 5
    ans = call(server, "omq.system.get-last-events-or", 10, [{"all": True}], [{"class": 102}])
    assert names(ans) == ["SERVICE_START"] * 5
    ans = call(server, "omq.system.get-last-events-and", 4, [{"none": 1}], [{"class": 103}])
    assert names(ans) == ["WORKFLOW_START"] * 2
    with pytest.raises(QorusError) as exc:
        call(server, "omq.system.get-last-events-or", 4)
    assert exc.value.code == "GET-EVENTS-OR-ERROR" and exc.value.http_status == 400


def test_wait_returns_at_once_waits_and_times_out(server: TestServer) -> None:
    server.events.post("SYSTEM_ERROR")
    assert names(call(server, "omq.system.wait-for-events", 1)) == ["SYSTEM_ERROR"]
    t0 = time.monotonic()
    assert call(server, "omq.system.wait-for-events", 2, 200) == {"lastid": 1}
    assert 0.15 < time.monotonic() - t0 < 5

    def later() -> None:
        time.sleep(0.2)
        server.events.post("SERVICE_START", {"serviceid": 1})
        time.sleep(0.2)
        server.events.post("USER_EVENT", {"x": 1})

    threading.Thread(target=later).start()
    ans = call(server, "omq.system.wait-for-events", 2, 10_000, [{"eventstr": "USER_EVENT"}])
    assert names(ans) == ["USER_EVENT"] and ans["lastid"] == 3
    threading.Thread(target=later).start()
    ans = call(server, "omq.system.wait-for-events-or", 4, [{"classstr": "SERVICE"}], 10_000)
    assert names(ans) == ["SERVICE_START"]
    time.sleep(0.5)
    ans = call(server, "omq.system.wait-for-events-and", 1, [{"minseverity": 0}], 0, None, None)
    assert ans["lastid"] == 5 and len(ans["events"]) == 5


def test_a_huge_timeout_is_cut_and_a_negative_one_refused(
    server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_ops, "MAX_WAIT_MS", 300)
    t0 = time.monotonic()
    assert call(server, "omq.system.wait-for-events", 1, 10**15) == {"lastid": 0}
    assert time.monotonic() - t0 < 5
    for bad in (-1, "soon", 2**70, 1.5, float("nan")):
        with pytest.raises(QorusError) as exc:
            call(server, "omq.system.wait-for-events", 1, bad)
        assert exc.value.http_status == 400 and "timeout_ms" in exc.value.desc


def test_waits_end_at_shutdown_and_are_bounded(server: TestServer) -> None:
    out: list[Any] = []
    threads = [
        threading.Thread(
            target=lambda: out.append(call(server, "omq.system.wait-for-events", 1, 30_000))
        )
        for _ in range(event_ops.MAX_WAITERS)
    ]
    for th in threads:
        th.start()
    deadline = time.monotonic() + 10
    while event_ops._waiters._value > 0 and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.02)
    with pytest.raises(QorusError) as exc:
        call(server, "omq.system.wait-for-events", 1, 30_000)
    assert exc.value.code == "EVENT-WAIT-LIMIT" and exc.value.http_status == 503
    assert exc.value.retry_after == 1
    # a wait of no time needs no place
    assert call(server, "omq.system.wait-for-events", 1, 0) == {"lastid": 0}
    t0 = time.monotonic()
    server.request_shutdown("test")
    for th in threads:
        th.join(10)
    assert time.monotonic() - t0 < 5
    assert out == [{"lastid": 0, "shutdown": True}] * event_ops.MAX_WAITERS


def _viewer(workflows: set[int]) -> Principal:
    return Principal(
        username="viewer",
        description="",
        roles=frozenset({"r"}),
        permissions=frozenset({"LOGIN"}),
        all_interfaces=False,
        group_ids=frozenset({5}),
        workflow_ids=frozenset(workflows),
        service_ids=frozenset(),
        job_ids=frozenset(),
    )


def test_a_user_only_gets_the_events_of_its_groups(server: TestServer) -> None:
    server.events.post("WORKFLOW_STATUS_CHANGED", {"workflowid": 1})
    server.events.post("WORKFLOW_STATUS_CHANGED", {"workflowid": 2})
    server.events.post("SERVICE_START", {"serviceid": 3})
    server.events.post("SYSTEM_HEALTH_CHANGED", {"health": "RED"})
    viewer = _viewer({1})
    ans = call(server, "omq.system.get-last-events", 10, user=viewer)
    assert [(e["eventstr"], e["info"].get("workflowid")) for e in ans["events"]] == [
        ("WORKFLOW_STATUS_CHANGED", 1),
        ("SYSTEM_HEALTH_CHANGED", None),
    ]
    ans = call(server, "omq.system.wait-for-events", 2, 0, user=viewer)
    assert names(ans) == ["SYSTEM_HEALTH_CHANGED"] and ans["lastid"] == 4
    # a user without LOGIN is refused by the registry
    nologin = Principal("x", "", frozenset(), frozenset(), False, frozenset(), *([frozenset()] * 3))
    with pytest.raises(QorusError) as exc:
        call(server, "omq.system.get-last-event-id", user=nologin)
    assert exc.value.http_status == 403


def test_the_engine_raises_its_events(engine: Engine, server: TestServer) -> None:
    """An order run: DATA_SUBMITTED, STATUS_CHANGED READY -> IN-PROGRESS -> COMPLETE; a failing
    step: DATA_ERROR with the error's severity as user severity; start, stop, reset and
    setAutostart: START, STOP, CACHE_RESET, UPDATED."""
    noop_step(engine, "EV1")
    noop_step(engine, "EV2", 'raise RuntimeError("bad")')
    ok = add_workflow(engine, "EVOK", ["EV1"])
    bad = add_workflow(engine, "EVBAD", ["EV2"])
    m = WorkflowManager(logger_factory=Logs(next_tag()), poll_interval=0.2)
    m.start(server)
    try:
        m.start_workflow("EVOK")
        m.start_workflow("EVBAD")
        a = create_order(engine, ok, {}, events=server.events)
        b = create_order(engine, bad, {}, events=server.events)
        assert wait_orders(engine, [a, b]) == {a: "C", b: "E"}
        m.reset("EVOK")
        m.set_autostart("EVOK", 0)
        m.stop_workflow("EVOK")
    finally:
        m.stop()
    evs = [e for e in server.events.last(100)]
    mine = [
        (e.eventstr, e.info["info"]["old"], e.info["info"]["new"])
        for e in evs
        if e.info.get("workflow_instanceid") == a and e.eventstr == "WORKFLOW_STATUS_CHANGED"
    ]
    assert mine == [
        ("WORKFLOW_STATUS_CHANGED", "READY", "IN-PROGRESS"),
        ("WORKFLOW_STATUS_CHANGED", "IN-PROGRESS", "COMPLETE"),
    ]
    [err] = [e for e in evs if e.eventstr == "WORKFLOW_DATA_ERROR"]
    assert err.info["workflow_instanceid"] == b and err.userseveritystr == "MAJOR"
    assert err.info["error"]["err"] == "RuntimeError"
    got = {e.eventstr for e in evs}
    assert {
        "WORKFLOW_DATA_SUBMITTED",
        "WORKFLOW_START",
        "WORKFLOW_STOP",
        "WORKFLOW_CACHE_RESET",
        "WORKFLOW_UPDATED",
    } <= got
    ids = [e.id for e in evs]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
