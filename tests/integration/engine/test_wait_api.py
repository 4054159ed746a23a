"""The asynchronous queue and synchronization event operations through the registry, and the
wait fields of the order details and the user API around them (``postSyncEvent``,
``leaveParentFeedback``, ``getChildFeedback``).

Queue entries and event bindings are made with :mod:`qorus_core.db.waits` directly on orders
of a loaded workflow, as the engine's steps make them; the execution instances are a recorder
of the wake-ups the operations send."""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db import waits
from qorus_core.db.orders import create_order
from qorus_core.db.refdata import now
from qorus_core.model.errors import QorusError
from qorus_core.model.status import OrderStatus as S
from qorus_server.api import REGISTRY, CallContext, Principal
from qorus_server.engine.manager import WorkflowManager
from qorus_server.userapi import context
from qorus_server.userapi.userapi import UserApi
from qorus_server.userapi.wfapi import WorkflowApi
from tests.helpers.definitions import add_step, add_workflow
from tests.helpers.engine import Logs, error_rows, statuses

pytestmark = pytest.mark.integration

WF = "WAITWF/1.0"


class Waker:
    """Stands in for the workflow manager: records the workflows woken."""

    def __init__(self) -> None:
        self.woken: list[int] = []

    def notify(self, workflowid: int) -> None:
        self.woken.append(workflowid)


@pytest.fixture
def waker(server: SimpleNamespace) -> Waker:
    w = Waker()
    server.workflows = w
    return w


@pytest.fixture
def api(server: SimpleNamespace, waker: Waker) -> Any:
    def call(name: str, user: Any = None, **args: Any) -> Any:
        return REGISTRY.call(name, CallContext(server=server, user=user), args)

    return call


def err(api: Any, name: str, user: Any = None, **args: Any) -> QorusError:
    with pytest.raises(QorusError) as info:
        api(name, user, **args)
    return info.value


class Defs:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.async_step = add_step(
            engine,
            "WAsync",
            "class WAsync(wf.QorusAsyncStep):\n    def primary(self):\n        pass\n",
            steptype="ASYNC",
            queue="WQ",
        )
        self.event_step = add_step(
            engine,
            "WEvent",
            "class WEvent(wf.QorusEventStep):\n    def primary(self):\n        pass\n",
            steptype="EVENT",
            event="WEV",
        )
        self.wfid = add_workflow(engine, "WAITWF", ["WAsync", "WEvent"])
        with engine.connect() as conn:
            self.queueid = waits.find_queue(conn, "WQ")["queueid"]
            self.typeid = waits.find_event_type(conn, "WEV")["id"]

    def order(self, status: S = S.READY, parent: int | None = None) -> int:
        fields: dict[str, Any] = {}
        if parent is not None:
            fields["parent_workflow_instanceid"] = parent
        wfiid = create_order(self.engine, self.wfid, {"x": 1}, **fields)
        if status != S.READY:
            self.set_status(wfiid, status)
        return wfiid

    def set_status(self, wfiid: int, status: S) -> None:
        wi = t.workflow_instance
        with self.engine.begin() as conn:
            conn.execute(
                update(wi).where(wi.c.workflow_instanceid == wfiid).values(workflowstatus=status)
            )

    def step(self, wfiid: int, stepid: int, status: S) -> None:
        """A step instance row, as the engine writes it when the step starts waiting."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(t.step_instance).values(
                    workflow_instanceid=wfiid,
                    stepid=stepid,
                    ind=0,
                    stepstatus=status,
                    retries=0,
                    skip=False,
                    started=now(),
                )
            )

    def submit(self, wfiid: int, key: str) -> None:
        with self.engine.begin() as conn:
            waits.submit_key(conn, self.queueid, wfiid, self.async_step, 0, key, now())

    def bind(self, wfiid: int, key: str) -> bool:
        with self.engine.begin() as conn:
            return waits.bind_event(conn, self.typeid, key, wfiid, self.event_step, 0, now())

    def trigger(self, wfiid: int) -> Any:
        wi = t.workflow_instance
        with self.engine.connect() as conn:
            return conn.execute(
                select(wi.c.retry_trigger).where(wi.c.workflow_instanceid == wfiid)
            ).scalar()

    def entries(self) -> list[tuple[str, str, Any]]:
        qd = t.queue_data
        with self.engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    select(qd.c.queuekey, qd.c.queue_data_status, qd.c.data).order_by(
                        qd.c.queue_dataid
                    )
                )
            ]


@pytest.fixture
def defs(engine: Engine) -> Defs:
    return Defs(engine)


# ---------------------------------------------------------------------- queues


def test_queue_list_info_and_unknowns(api: Any, defs: Defs) -> None:
    assert api("async-queues.list") == [{"queueid": defs.queueid, "name": "WQ", "desc": "queue WQ"}]
    assert api("async-queues.info", queue="WQ")["queueid"] == defs.queueid
    assert api("async-queues.info", queue=str(defs.queueid))["name"] == "WQ"
    assert api("async-queues.info", queue=defs.queueid)["name"] == "WQ"
    for name in ("async-queues.info", "async-queues.status"):
        e = err(api, name, queue="NOSUCH")
        assert (e.http_status, e.code) == (404, "UNKNOWN-QUEUE")
    e = err(api, "async-queues.key-info", queue="WQ", key="nokey")
    assert (e.http_status, e.code) == (404, "INVALID-KEY")
    e = err(api, "async-queues.key-info", queue="NOSUCH", key="k")
    assert (e.http_status, e.code) == (404, "UNKNOWN-QUEUE")
    for bad in ("", "x" * 241, ["k"], {"k": 1}, "a\x00b"):
        e = err(api, "async-queues.key-info", queue="WQ", key=bad)
        assert e.http_status == 400 and "'key'" in e.desc
    for bad in ("", "q" * 161, [1], "9223372036854775808", -1):
        assert err(api, "async-queues.info", queue=bad).http_status == 400


def test_queue_entries_filters_and_summary(api: Any, defs: Defs, waker: Waker) -> None:
    ids = [defs.order(S.ASYNC_WAITING) for _ in range(3)]
    for n, wfiid in enumerate(ids, 1):
        defs.submit(wfiid, f"k{n}")
    assert api("async-queues.update", queue="WQ", key="k2", data={"v": 2}) == "OK"
    assert api("async-queues.cancel", queue="WQ", key="k3") == "OK"
    assert waker.woken == [defs.wfid, defs.wfid]

    def keys(**args: Any) -> list[str]:
        return [e["queuekey"] for e in api("async-queues.entries", queue="WQ", **args)]

    assert keys() == ["k1", "k2"]  # all but USED
    assert keys(status="WAITING") == ["k1"] and keys(status="W") == ["k1"]
    assert keys(status="received") == ["k2"] and keys(status="X") == ["k3"]
    assert keys(status="USED") == ["k3"] and keys(status="ERROR") == []
    assert keys(limit=1) == ["k1"] and keys(offset=1) == ["k2"] and keys(limit="1") == ["k1"]
    assert keys(limit=0) == []
    [k2] = api("async-queues.entries", queue="WQ", status="RECEIVED")
    assert k2["data"] == {"v": 2} and k2["workflow_instanceid"] == ids[1]
    assert k2["queue_data_status"] == "RECEIVED" and k2["stepid"] == defs.async_step
    for bad in ({"status": "BOGUS"}, {"limit": -1}, {"offset": -1}, {"limit": "x"}):
        e = err(api, "async-queues.entries", queue="WQ", **bad)
        assert e.http_status == 400 and next(iter(bad)) in e.desc
    assert keys(limit=2**62) == ["k1", "k2"]  # a huge limit is capped
    assert api("async-queues.status", queue="WQ") == {WF: {"WAITING": 1, "RECEIVED": 1, "USED": 1}}
    info = api("async-queues.key-info", queue="WQ", key="k1")
    assert info["queue_data_status"] == "WAITING" and "data" not in info


def test_update_and_cancel(api: Any, defs: Defs, waker: Waker) -> None:
    waiting = defs.order(S.ASYNC_WAITING)
    defs.submit(waiting, "key-1")
    ready = defs.order()
    defs.submit(ready, "key-2")
    before = defs.entries()
    # refusals change nothing
    e = err(api, "async-queues.update", queue="WQ", key="nokey", data=1)
    assert (e.http_status, e.code) == (404, "INVALID-KEY")
    e = err(api, "async-queues.update", queue="NOSUCH", key="key-1", data=1)
    assert (e.http_status, e.code) == (404, "UNKNOWN-QUEUE")
    e = err(api, "async-queues.update", queue="WQ", key="key-1")
    assert e.http_status == 400 and "'data'" in e.desc
    deep: Any = 1
    for _ in range(100):
        deep = [deep]
    for bad in (float("nan"), {"a": float("inf")}, deep):
        e = err(api, "async-queues.update", queue="WQ", key="key-1", data=bad)
        assert e.http_status == 400 and "'data'" in e.desc
    e = err(api, "async-queues.cancel", queue="WQ", key="nokey")
    assert (e.http_status, e.code) == (404, "INVALID-KEY")
    assert defs.entries() == before and waker.woken == []
    assert defs.trigger(waiting) is None
    # data for a waiting key: RECEIVED, the order due now and its workflow woken
    assert api("async-queues.update", queue="WQ", key="key-1", data=[1, "two", None]) == "OK"
    info = api("async-queues.key-info", queue="WQ", key="key-1")
    assert info["queue_data_status"] == "RECEIVED" and info["data"] == [1, "two", None]
    assert waker.woken == [defs.wfid] and defs.trigger(waiting) is not None
    # a second update or a cancel of a RECEIVED entry: 400 INVALID-STATUS
    for name, extra in (("async-queues.update", {"data": 2}), ("async-queues.cancel", {})):
        e = err(api, name, queue="WQ", key="key-1", **extra)
        assert (e.http_status, e.code) == (400, "INVALID-STATUS")
    # an order that does not wait (READY) gets its data but is not woken
    assert api("async-queues.update", queue="WQ", key="key-2", data="text") == "OK"
    assert waker.woken == [defs.wfid]
    assert api("async-queues.key-info", queue="WQ", key="key-2")["data"] == "text"


def test_change_key(api: Any, defs: Defs) -> None:
    a, b = defs.order(S.ASYNC_WAITING), defs.order(S.ASYNC_WAITING)
    defs.submit(a, "old")
    defs.submit(b, "other")
    assert api("async-queues.key", queue="WQ", oldkey="old", newkey="new") == "OK"
    assert err(api, "async-queues.key-info", queue="WQ", key="old").http_status == 404
    entry = api("async-queues.key-info", queue="WQ", key="new")
    assert entry["workflow_instanceid"] == a and entry["queue_data_status"] == "WAITING"
    assert api("async-queues.key", queue="WQ", oldkey="new", newkey="new") == "OK"
    before = defs.entries()
    e = err(api, "async-queues.key", queue="WQ", oldkey="new", newkey="other")
    assert (e.http_status, e.code) == (409, "DUPLICATE-KEY")
    e = err(api, "async-queues.key", queue="WQ", oldkey="nokey", newkey="x")
    assert (e.http_status, e.code) == (404, "INVALID-KEY")
    for bad in ({"newkey": "n" * 241}, {"newkey": ""}, {"newkey": ["x"]}):
        e = err(api, "async-queues.key", queue="WQ", oldkey="new", **bad)
        assert e.http_status == 400 and "'newkey'" in e.desc
    e = err(api, "async-queues.key", queue="WQ", newkey="x")
    assert e.http_status == 400 and "'oldkey'" in e.desc
    api("async-queues.update", queue="WQ", key="other", data=1)
    before = defs.entries()
    e = err(api, "async-queues.key", queue="WQ", oldkey="other", newkey="x")
    assert (e.http_status, e.code) == (400, "INVALID-STATUS")
    assert defs.entries() == before


# ---------------------------------------------------------------------- events


def test_event_types(api: Any, defs: Defs) -> None:
    assert api("sync-events.list") == [{"id": defs.typeid, "name": "WEV", "desc": "event WEV"}]
    assert api("sync-events.info", eventtype="WEV")["id"] == defs.typeid
    assert api("sync-events.info", eventtype=str(defs.typeid))["name"] == "WEV"
    for name, args in (
        ("sync-events.info", {}),
        ("sync-events.events", {}),
        ("sync-events.post", {"eventkey": "k"}),
        ("sync-events.event", {"eventkey": "k"}),
    ):
        e = err(api, name, eventtype="NOSUCH", **args)
        assert (e.http_status, e.code) == (404, "UNKNOWN-EVENT"), name
    assert api("sync-events.events") == []


def test_post_before_bind_and_twice(api: Any, defs: Defs, waker: Waker) -> None:
    assert api("sync-events.post", eventtype="WEV", eventkey="early") is True
    assert api("sync-events.post", eventtype=str(defs.typeid), eventkey="early") is False
    event = api("sync-events.event", eventtype="WEV", eventkey="early")
    assert (event["id"], event["name"], event["eventkey"]) == (defs.typeid, "WEV", "early")
    assert event["posted"] is True
    assert waker.woken == []
    # a step binding to it later completes at once
    wfiid = defs.order(S.IN_PROGRESS)
    assert defs.bind(wfiid, "early") is True
    e = err(api, "sync-events.event", eventtype="WEV", eventkey="never")
    assert (e.http_status, e.code) == (404, "UNKNOWN-EVENT-KEY")
    for bad in ("", "k" * 241, ["k"], {"k": "v"}, "a\x00b", True):
        e = err(api, "sync-events.post", eventtype="WEV", eventkey=bad)
        assert e.http_status == 400 and "'eventkey'" in e.desc
    assert [ev["eventkey"] for ev in api("sync-events.events")] == ["early"]


def test_post_wakes_the_bound_orders(api: Any, defs: Defs, waker: Waker) -> None:
    first, second = defs.order(S.EVENT_WAITING), defs.order(S.EVENT_WAITING)
    assert defs.bind(first, "shared") is False
    assert defs.bind(second, "shared") is False
    assert defs.bind(defs.order(S.EVENT_WAITING), "other") is False
    unposted = api("sync-events.event", eventtype="WEV", eventkey="shared")
    assert unposted["posted"] is False
    assert defs.trigger(first) is None
    assert api("sync-events.post", eventtype="WEV", eventkey="shared") is True
    assert waker.woken == [defs.wfid]
    assert defs.trigger(first) is not None and defs.trigger(second) is not None

    def found(**args: Any) -> list[tuple[str, bool]]:
        return [(e["eventkey"], e["posted"]) for e in api("sync-events.events", **args)]

    assert found() == [("other", False), ("shared", True)]
    assert found(posted="true") == [("shared", True)]
    assert found(posted=False) == [("other", False)]
    assert found(eventkey="other") == [("other", False)]
    assert found(eventtype="WEV", limit=1) == [("other", False)]
    assert found(eventtype=defs.typeid, offset=1) == [("shared", True)]
    for bad in ({"posted": "maybe"}, {"limit": -1}, {"offset": "x"}, {"eventkey": "k" * 241}):
        e = err(api, "sync-events.events", **bad)
        assert e.http_status == 400 and next(iter(bad)) in e.desc


def test_permissions(api: Any, defs: Defs) -> None:
    wfiid = defs.order(S.ASYNC_WAITING)
    defs.submit(wfiid, "k")
    reader = Principal("reader", frozenset({"LOGIN"}))
    submitter = Principal("submitter", frozenset({"LOGIN", "SUBMIT-ORDER"}))
    poster = Principal("poster", frozenset({"LOGIN", "POST-WORKFLOW-EVENT"}))
    before = defs.entries()
    for name, args in (
        ("async-queues.update", {"queue": "WQ", "key": "k", "data": 1}),
        ("async-queues.cancel", {"queue": "WQ", "key": "k"}),
        ("async-queues.key", {"queue": "WQ", "oldkey": "k", "newkey": "k2"}),
    ):
        for user in (reader, poster):
            assert err(api, name, user, **args).http_status == 403
    e = err(api, "sync-events.post", submitter, eventtype="WEV", eventkey="k")
    assert (e.http_status, e.code) == (403, "AUTHORIZATION-ERROR")
    assert defs.entries() == before
    assert api("sync-events.events") == []
    # reads need LOGIN only
    assert api("async-queues.entries", reader, queue="WQ")[0]["queuekey"] == "k"
    assert api("async-queues.status", reader, queue="WQ") == {WF: {"WAITING": 1}}
    assert api("sync-events.list", reader)[0]["name"] == "WEV"
    assert api("sync-events.post", poster, eventtype="WEV", eventkey="k") is True
    assert api("async-queues.cancel", submitter, queue="WQ", key="k") == "OK"


def test_rpc_names() -> None:
    assert REGISTRY.by_rpc("omq.system.update-async-queue").name == "async-queues.update"
    assert REGISTRY.by_rpc("omq.system.cancel-async-queue").name == "async-queues.cancel"
    assert REGISTRY.by_rpc("omq.system.post-event").name == "sync-events.post"
    assert REGISTRY.get("sync-events.post").permissions == ("POST-WORKFLOW-EVENT",)
    for name in ("async-queues.update", "async-queues.cancel", "async-queues.key"):
        op = REGISTRY.get(name)
        assert op.permissions == ("SUBMIT-ORDER",) and op.audit


# ---------------------------------------------------------------------- a running engine

E2E_ASYNC = """
class E2EAsync(wf.QorusAsyncStep):
    def primary(self):
        self.submitAsyncKey("k-%d" % wfapi.getWfiid())

    def end(self, data):
        wfapi.updateDynamicData({"got": data})
"""
E2E_EVENT = """
class E2EEvent(wf.QorusEventStep):
    def primary(self):
        self.bindEvent("e-%d" % wfapi.getWfiid())
"""


def _wait_status(engine: Engine, wfiid: int, code: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while statuses(engine, [wfiid]).get(wfiid) != code:
        if time.monotonic() > deadline:
            errors = [(e["error"], e["description"]) for e in error_rows(engine, wfiid)]
            raise AssertionError(f"order {wfiid}: {statuses(engine, [wfiid])}, {errors}")
        time.sleep(0.05)


def test_the_operations_wake_a_running_instance(
    engine: Engine, server: SimpleNamespace, logs: Logs
) -> None:
    """Queue data and a posted event sent through the operations run the waiting order on at
    once: the instance polls only every minute, so the operations' wake-up is what runs it."""
    add_step(engine, "E2EAsync", E2E_ASYNC, steptype="ASYNC", queue="E2EQ")
    add_step(engine, "E2EEvent", E2E_EVENT, steptype="EVENT", event="E2EEV")
    wfid = add_workflow(engine, "E2EWF", ["E2EAsync", "E2EEvent"])
    manager = WorkflowManager(logger_factory=logs, poll_interval=60.0)
    manager.start(server)
    server.workflows = manager
    try:
        manager.start_workflow("E2EWF")
        wfiid = create_order(engine, wfid, {"x": 1})
        manager.notify(wfid)
        _wait_status(engine, wfiid, S.ASYNC_WAITING)

        def call(name: str, **args: Any) -> Any:
            return REGISTRY.call(name, CallContext(server=server), args)

        entry = call("async-queues.key-info", queue="E2EQ", key=f"k-{wfiid}")
        assert entry["queue_data_status"] == "WAITING"
        assert call("async-queues.update", queue="E2EQ", key=f"k-{wfiid}", data={"n": 7}) == "OK"
        _wait_status(engine, wfiid, S.EVENT_WAITING, timeout=10.0)
        assert call("sync-events.post", eventtype="E2EEV", eventkey=f"e-{wfiid}") is True
        _wait_status(engine, wfiid, S.COMPLETE, timeout=10.0)
        info = call("orders.info", id=wfiid)
        assert info["dynamicdata"] == {"got": {"n": 7}}
        steps = {s["stepname"]: s for s in info["StepInstances"]}
        assert steps["E2EAsync"]["queuekey"] == f"k-{wfiid}"
        assert steps["E2EAsync"]["queue_data_status"] == "RECEIVED"
        assert (steps["E2EEvent"]["eventkey"], steps["E2EEvent"]["posted"]) == (f"e-{wfiid}", True)
    finally:
        manager.stop()


# ---------------------------------------------------------------------- order details


def test_order_details_show_the_waits(api: Any, defs: Defs) -> None:
    parent = defs.order(S.WAITING)
    defs.step(parent, defs.async_step, S.ASYNC_WAITING)
    defs.step(parent, defs.event_step, S.EVENT_WAITING)
    defs.submit(parent, "pkey")
    defs.bind(parent, "pevent")
    child = defs.order(parent=parent)
    with defs.engine.begin() as conn:
        # the child bound to a step of the parent (as a SUBWORKFLOW step would)
        waits.bind_child(conn, parent, defs.event_step, 1, child)
        waits.leave_feedback(conn, parent, child, "result", {"ok": True})
    info = api("orders.info", id=parent)
    steps = {s["stepid"]: s for s in info["StepInstances"]}
    a, e = steps[defs.async_step], steps[defs.event_step]
    assert (a["queuekey"], a["queue_data_status"], a["queue"]) == ("pkey", "WAITING", "WQ")
    assert a["stepstatus"] == "ASYNC-WAITING" and "eventkey" not in a
    assert (e["eventkey"], e["event"], e["posted"]) == ("pevent", "WEV", False)
    assert e["stepstatus"] == "EVENT-WAITING" and "queuekey" not in e
    [sub] = info["SubWorkflowInstances"]
    assert (sub["subworkflow_instanceid"], sub["stepid"], sub["ind"]) == (
        child,
        defs.event_step,
        1,
    )
    assert (sub["name"], sub["workflowstatus"]) == ("WAITWF", "READY")
    assert info["feedback"] == {"result": {"ok": True}}
    # the fields the order details had before are all there
    assert info["workflowstatus"] == "WAITING" and info["staticdata"] == {"x": 1}
    assert {"ErrorInstances", "notes", "AuditEvents", "keys"} <= set(info)
    plain = api("orders.info", id=child)
    assert plain["SubWorkflowInstances"] == [] and plain["feedback"] == {}
    assert api("async-queues.update", queue="WQ", key="pkey", data=1) == "OK"
    api("sync-events.post", eventtype="WEV", eventkey="pevent")
    steps = {s["stepid"]: s for s in api("orders.info", id=parent)["StepInstances"]}
    assert steps[defs.async_step]["queue_data_status"] == "RECEIVED"
    assert steps[defs.event_step]["posted"] is True


# ---------------------------------------------------------------------- the user API


@pytest.fixture
def runtime(engine: Engine, server: SimpleNamespace) -> Any:
    woken: list[int] = []
    rt = context.Runtime(
        engine=engine, options=server.options, sessionid=0, on_new_order=woken.append
    )
    context.bind_runtime(rt)
    yield SimpleNamespace(rt=rt, woken=woken)
    context.unbind_runtime(rt)


def _order_context(rt: context.Runtime, defs: Defs, wfiid: int, parent: int | None) -> Any:
    return context.OrderContext(
        runtime=rt,
        logger=logging.getLogger("qorus.test.waitapi"),
        workflowid=defs.wfid,
        workflow_name="WAITWF",
        workflow_version="1.0",
        workflow_instanceid=wfiid,
        parent_workflow_instanceid=parent,
        staticdata={},
        dynamicdata={},
        workflow_options={},
    )


def test_user_api_post_sync_event(runtime: Any, defs: Defs, api: Any) -> None:
    wfiid = defs.order(S.EVENT_WAITING)
    defs.bind(wfiid, "from-code")
    assert UserApi.postSyncEvent("WEV", "from-code") is True
    assert runtime.woken == [defs.wfid] and defs.trigger(wfiid) is not None
    assert UserApi.postSyncEvent("WEV", "from-code") is False
    assert UserApi.postSyncEvent("WEV", "nobody-waits") is True
    assert runtime.woken == [defs.wfid]
    with pytest.raises(QorusError) as info:
        UserApi.postSyncEvent("NOSUCH", "k")
    assert info.value.code == "UNKNOWN-EVENT"
    with pytest.raises(QorusError):
        UserApi.postSyncEvent("WEV", "k" * 241)
    posted = api("sync-events.events", posted=True)
    assert [e["eventkey"] for e in posted] == ["from-code", "nobody-waits"]


def test_feedback_between_child_and_parent(runtime: Any, defs: Defs) -> None:
    parent = defs.order(S.WAITING)
    child = defs.order(parent=parent)
    orphan = defs.order()

    def as_order(wfiid: int, parent_id: int | None) -> Any:
        return context.set_current(_order_context(runtime.rt, defs, wfiid, parent_id))

    token = as_order(child, parent)
    try:
        WorkflowApi.leaveParentFeedback("status", "done")
        WorkflowApi.leaveParentFeedback("count", 3)
        WorkflowApi.leaveParentFeedback("count", 4)  # the last value wins
        for key, value in (("k", None), ("", 1), ("k" * 161, 1), ("k", float("nan"))):
            with pytest.raises(QorusError) as info:
                WorkflowApi.leaveParentFeedback(key, value)
            assert info.value.code == "FEEDBACK-ERROR"
        assert WorkflowApi.getChildFeedback() == {}  # the child's own: none
    finally:
        context.reset_current(token)
    token = as_order(orphan, None)
    try:
        with pytest.raises(QorusError) as info:
            WorkflowApi.leaveParentFeedback("k", 1)
        assert info.value.code == "FEEDBACK-ERROR"
    finally:
        context.reset_current(token)
    token = as_order(parent, None)
    try:
        assert WorkflowApi.getChildFeedback() == {"status": "done", "count": 4}
        assert WorkflowApi.getChildFeedback("count") == 4
        assert WorkflowApi.getChildFeedback("nokey") is None
    finally:
        context.reset_current(token)
    # a finished parent takes no more feedback
    defs.set_status(parent, S.COMPLETE)
    token = as_order(child, parent)
    try:
        with pytest.raises(QorusError) as info:
            WorkflowApi.leaveParentFeedback("late", 1)
        assert info.value.code == "STATUS-ERROR"
    finally:
        context.reset_current(token)
