"""``workflow-commit-slots`` from careless or hostile callers (issue 17): through
``setOptions`` a negative, huge, fractional or textual value is 400 WORKFLOW-OPTION-ERROR and
changes nothing; a good value reaches a running execution instance at once (capped at its
workers), and turning sharing off while step commits wait for a slot strands none of them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from qorus_core.db import interfaces
from qorus_core.model.errors import QorusError
from qorus_server.api import REGISTRY, CallContext
from qorus_server.engine.groupcommit import GroupCommit
from qorus_server.engine.manager import WorkflowManager
from qorus_server.engine.workerdb import WorkerDb
from tests.helpers.definitions import add_workflow, noop_step
from tests.helpers.engine import Logs, make_server, next_tag

pytestmark = pytest.mark.integration


@pytest.fixture
def env(engine: Engine) -> Iterator[tuple[Any, WorkflowManager, int]]:
    server = make_server(engine)
    m = WorkflowManager(logger_factory=Logs(next_tag()), poll_interval=0.2)
    m.start(server)
    server.workflows = m
    noop_step(engine, "SlotStep")
    wfid = add_workflow(engine, "SLOTS", ["SlotStep"], options={"workflow-workers": 3})
    try:
        yield server, m, wfid
    finally:
        m.stop()


def _set(server: Any, value: object) -> Any:
    ctx = CallContext(server, transport="rest")
    args = {"id": "SLOTS", "options": {"workflow-commit-slots": value}}
    return REGISTRY.call("workflows.set-options", ctx, args)


@pytest.mark.parametrize("value", [-1, 10**9, 2.5, "many", [1], {"a": 1}, True])
def test_bad_values_are_refused_and_change_nothing(
    env: tuple[Any, WorkflowManager, int], engine: Engine, value: object
) -> None:
    server, _m, wfid = env
    with engine.connect() as conn:
        before = interfaces.workflow_options(conn, wfid)
    with pytest.raises(QorusError) as info:
        _set(server, value)
    assert info.value.code == "WORKFLOW-OPTION-ERROR", info.value
    with engine.connect() as conn:
        assert interfaces.workflow_options(conn, wfid) == before


def test_a_good_value_reaches_the_running_instance(
    env: tuple[Any, WorkflowManager, int],
) -> None:
    server, m, _wfid = env
    m.start_workflow("SLOTS")
    [inst] = m._instances.values()
    assert inst.group.slots == 0
    _set(server, 2)
    assert inst.group.slots == 2
    _set(server, 50)  # more than the instance's 3 workers: capped
    assert inst.group.slots == 3
    _set(server, 0)
    assert inst.group.slots == 0


def test_turning_sharing_off_strands_no_waiting_unit(engine: Engine) -> None:
    group = GroupCommit(slots=1)
    release = threading.Event()
    results: list[Any] = []

    def held(_conn: Any) -> str:
        release.wait(10)
        return "held"

    def run(fn: Any) -> None:
        db = WorkerDb(engine)
        try:
            results.append(group.run(db, fn))
        finally:
            db.close()

    first = threading.Thread(target=run, args=(held,))
    first.start()
    while not group._leading:
        threading.Event().wait(0.005)
    waiting = threading.Thread(target=run, args=(lambda _c: "waited",))
    waiting.start()
    while not group._queue:
        threading.Event().wait(0.005)
    group.slots = 0  # setOptions meanwhile
    release.set()
    first.join(10)
    waiting.join(10)
    assert not waiting.is_alive() and sorted(results) == ["held", "waited"]
