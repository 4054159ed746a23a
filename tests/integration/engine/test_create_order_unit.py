"""createOrder is one transaction: the order and its API-CALL audit row commit together (one
commit per order, issue 17), and a refused order leaves neither."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.model.errors import QorusError
from qorus_server.api import REGISTRY, CallContext
from qorus_server.engine.manager import WorkflowManager
from tests.helpers.definitions import add_workflow, noop_step
from tests.helpers.engine import Logs, make_server, next_tag


@pytest.fixture
def server(engine: Engine) -> Iterator[Any]:
    noop_step(engine, "CoStep")
    add_workflow(engine, "CO-WF", ["CoStep"], keys=["k"])
    s = make_server(engine, audit=["api"])
    m = WorkflowManager(logger_factory=Logs(next_tag()), poll_interval=0.2)
    m.start(s)
    s.workflows = m
    yield s
    m.stop()


def _audit_rows(engine: Engine) -> list[str]:
    ae = t.audit_events
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(ae.c.info2).where(
                    ae.c.audit_event_code == 15, ae.c.info2 == "workflows.create-order"
                )
            ).scalars()
        )


def test_order_and_audit_row_in_one_commit(engine: Engine, server: Any) -> None:
    me = threading.get_ident()
    commits: list[int] = []

    def on_commit(_conn: object) -> None:
        if threading.get_ident() == me:  # not the engine's own threads
            commits.append(1)

    event.listen(engine, "commit", on_commit)
    try:
        ctx = CallContext(server, transport="rest")
        res = REGISTRY.call("workflows.create-order", ctx, {"id": "CO-WF", "staticdata": {}})
    finally:
        event.remove(engine, "commit", on_commit)
    assert isinstance(res["workflow_instanceid"], int)
    assert _audit_rows(engine) == ["workflows.create-order"]
    assert len(commits) == 1
    assert ctx.pending_audit is None


def test_refused_order_leaves_no_audit_row(engine: Engine, server: Any) -> None:
    wi = t.workflow_instance
    with engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(wi)).scalar()
    ctx = CallContext(server, transport="rest")
    with pytest.raises(QorusError):
        REGISTRY.call("workflows.create-order", ctx, {"id": "CO-WF", "orderkeys": {"nokey": "v"}})
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(wi)).scalar() == before
    assert _audit_rows(engine) == []
