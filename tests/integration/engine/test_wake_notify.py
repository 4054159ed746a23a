"""Wake-ups across nodes: ``notify_due`` (pg_notify at commit) and the server's wake listener."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, update
from sqlalchemy.engine import Engine

from qorus_core.db import orders_ops as ops
from qorus_core.db import tables as t
from qorus_core.db.orders import create_order
from qorus_core.db.wake import CHANNEL, notify_due
from qorus_server.engine.manager import WorkflowManager
from tests.helpers.definitions import add_workflow, noop_step
from tests.helpers.engine import Logs, make_server, new_session, next_tag, wait_orders

pytestmark = pytest.mark.integration

#: manager B's poll: an order it runs well before this was woken by NOTIFY
LONG_POLL = 60.0
WITHIN = 10.0


def _statements(engine: Engine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _count(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        seen.append(statement)

    return seen


def test_notify_due_is_a_no_op_off_postgresql(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL has LISTEN/NOTIFY (see the tests below)")
    seen = _statements(engine)
    with engine.begin() as conn:
        notify_due(conn, [1, 2, 3])
    assert not [s for s in seen if "notify" in s.lower()]


def _pg_listener(engine: Engine) -> psycopg.Connection[Any]:
    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    params = {k: v for k, v in dict(cparams).items() if k != "context"}
    conn = psycopg.connect(*cargs, **params, autocommit=True)
    conn.execute(f"LISTEN {CHANNEL}")
    return conn


def _payloads(conn: psycopg.Connection[Any]) -> list[str]:
    return [n.payload for n in conn.notifies(timeout=0.5)]


def test_notify_due_sends_once_per_workflow_at_commit(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("NOTIFY exists only on PostgreSQL; other dialects poll")
    listener = _pg_listener(engine)
    try:
        seen = _statements(engine)
        with engine.begin() as conn:
            notify_due(conn, [7, 7, 8])
            notify_due(conn, [8])  # already sent in this transaction: no statement
            notify_due(conn, [9])
            assert len([s for s in seen if "pg_notify" in s]) == 2
        assert sorted(_payloads(listener)) == ["7", "8", "9"]
        with engine.connect() as conn:
            with conn.begin() as tx:
                notify_due(conn, [10])
                tx.rollback()
            with conn.begin():
                notify_due(conn, [7])  # a new transaction on the same connection sends again
        assert _payloads(listener) == ["7"]
    finally:
        listener.close()


@pytest.fixture
def two_nodes(engine: Engine) -> Iterator[tuple[WorkflowManager, WorkflowManager, Any]]:
    """Managers A (fast poll) and B (long poll), each with its own session, on one database."""
    if engine.dialect.name != "postgresql":
        pytest.skip("cross-node wake-ups use LISTEN/NOTIFY, which only PostgreSQL has")
    server_a, server_b = make_server(engine), make_server(engine)
    a = WorkflowManager(logger_factory=Logs(next_tag()), poll_interval=0.2)
    b = WorkflowManager(logger_factory=Logs(next_tag()), poll_interval=LONG_POLL)
    a.start(server_a)
    b.start(server_b)
    try:
        assert b.wake_listener is not None and b.wake_listener.wait_listening(WITHIN)
        yield a, b, server_a
    finally:
        a.stop()
        b.stop()


def _wait_idle(m: WorkflowManager, name: str) -> None:
    """Until the instance has claimed (nothing) and sleeps for its whole poll interval."""
    deadline = time.monotonic() + WITHIN
    while time.monotonic() < deadline:
        if all(e["status"] == "waiting" for e in m.list_executions() if e["name"] == name):
            return
        time.sleep(0.02)
    raise AssertionError(f"the execution instance of {name} never went idle")


def test_new_order_on_one_node_wakes_another(
    engine: Engine, two_nodes: tuple[WorkflowManager, WorkflowManager, Any]
) -> None:
    a, b, server_a = two_nodes
    noop_step(engine, "Wk1")
    wfid = add_workflow(engine, "WAKEB", ["Wk1"], options={"workflow-workers": 1})
    b.start_workflow("WAKEB")  # only B runs it
    _wait_idle(b, "WAKEB")
    assert b.wake_listener is not None
    before = b.wake_listener.received
    # A's process-local path: its own event bus wakes only A's instances (none of WAKEB)
    wfiid = create_order(engine, wfid, {}, events=server_a.events)
    assert wait_orders(engine, [wfiid], timeout=WITHIN)[wfiid] == "C"
    assert b.wake_listener.received > before
    assert a.list_executions() == []


def test_retry_elsewhere_wakes_the_node(
    engine: Engine, two_nodes: tuple[WorkflowManager, WorkflowManager, Any]
) -> None:
    _a, b, _server_a = two_nodes
    noop_step(
        engine,
        "Wk2",
        'n = (wfapi.getDynamicData("n") or 0) + 1\n'
        'wfapi.updateDynamicData({"n": n})\n'
        'if n == 1:\n    raise RuntimeError("first time")',
    )
    wfid = add_workflow(engine, "WAKER", ["Wk2"], options={"workflow-workers": 1})
    b.start_workflow("WAKER")
    _wait_idle(b, "WAKER")
    wfiid = create_order(engine, wfid, {})
    assert wait_orders(engine, [wfiid], final="E", timeout=WITHIN)[wfiid] == "E"
    _wait_idle(b, "WAKER")
    ops.retry_order(engine, wfiid)  # e.g. an operator on another node: no local event
    assert wait_orders(engine, [wfiid], final="C", timeout=WITHIN)[wfiid] == "C"


def test_a_new_order_notifies_only_when_another_node_is_active(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("NOTIFY exists only on PostgreSQL; other dialects poll")
    noop_step(engine, "Wk3")
    wfid = add_workflow(engine, "WAKEONE", ["Wk3"])
    s = t.sessions
    with engine.begin() as conn:  # whatever earlier tests left: no ACTIVE session
        conn.execute(update(s).where(s.c.sessionid != 0).values(sessionstatus="CLOSED"))
    listener = _pg_listener(engine)
    try:
        new_session(engine)  # one node: nobody else to wake
        create_order(engine, wfid, {})
        assert _payloads(listener) == []
        new_session(engine)  # a second node
        create_order(engine, wfid, {})
        assert _payloads(listener) == [str(wfid)]
    finally:
        listener.close()
