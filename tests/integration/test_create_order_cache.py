"""createOrder's cache of workflow briefs (issue 17): two servers ("nodes") on one database
follow oload's loads and deletes made while they run, and ``reset`` empties it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from oload_fixtures import step, workflow
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db import wfcache
from qorus_core.loader import load
from qorus_core.loader.delete import delete_objects, parse_spec
from qorus_core.model.errors import QorusError
from qorus_server.api import REGISTRY, CallContext
from qorus_server.engine.manager import WorkflowManager
from tests.helpers.engine import Logs, make_server, next_tag

pytestmark = pytest.mark.integration


@pytest.fixture
def nodes(engine: Engine) -> Iterator[list[Any]]:
    out = []
    for _ in range(2):
        s = make_server(engine)
        m = WorkflowManager(logger_factory=Logs(next_tag()), poll_interval=0.2)
        m.start(s)
        s.workflows = m
        out.append(s)
    yield out
    for s in out:
        s.workflows.stop()


def create(server: Any, **args: Any) -> int:
    res = REGISTRY.call("workflows.create-order", CallContext(server, transport="rest"), args)
    wfiid = int(res["workflow_instanceid"])
    with server.engine.connect() as conn:
        wi = t.workflow_instance
        return int(
            conn.execute(
                select(wi.c.workflowid).where(wi.c.workflow_instanceid == wfiid)
            ).scalar_one()
        )


def ids(engine: Engine) -> dict[str, int]:
    wf = t.workflows
    with engine.connect() as conn:
        return {v: int(i) for i, v in conn.execute(select(wf.c.workflowid, wf.c.version))}


def load_cache_wf(engine: Engine, tmp_path: Path) -> None:
    """Load the workflow CACHE-WF 1.0 (one step) with oload."""
    step(tmp_path, "CacheStep")
    load(
        engine,
        [
            str(tmp_path / "CacheStep-1.0.qstep.yaml"),
            str(workflow(tmp_path, "CACHE-WF", "[CacheStep]", "1.0")),
        ],
    )


def test_two_nodes_follow_oload_while_running(
    engine: Engine, nodes: list[Any], tmp_path: Path
) -> None:
    step(tmp_path, "CacheStep")
    load(
        engine,
        [
            str(tmp_path / "CacheStep-1.0.qstep.yaml"),
            str(workflow(tmp_path, "CACHE-WF", "[CacheStep]", "1.0", "keylist: [k]\n")),
        ],
    )
    v1 = ids(engine)["1.0"]
    for s in nodes:  # both caches warm, hits the second time
        assert create(s, id="CACHE-WF", staticdata={}) == v1
        assert create(s, id="CACHE-WF", staticdata={}, orderkeys={"k": "x"}) == v1
        assert s.workflows.briefs.get("CACHE-WF", None) is not None
        with pytest.raises(QorusError):
            create(s, id="CACHE-WF", staticdata={}, orderkeys={"k2": "x"})
    # a new version with a new key, loaded while the nodes run
    load(engine, [str(workflow(tmp_path, "CACHE-WF", "[CacheStep]", "2.0", "keylist: [k, k2]\n"))])
    v2 = ids(engine)["2.0"]
    for s in nodes:
        assert create(s, id="CACHE-WF", staticdata={}, orderkeys={"k2": "y"}) == v2
        assert create(s, id="CACHE-WF:1.0", staticdata={}) == v1
        assert create(s, name="CACHE-WF", staticdata={}) == v2
    # deleted again: the name is version 1.0 once more, and v2's id is gone
    with engine.begin() as conn:
        delete_objects(conn, [parse_spec("workflow:CACHE-WF:2.0")], force=True)
    for s in nodes:
        assert create(s, id="CACHE-WF", staticdata={}) == v1
        with pytest.raises(QorusError) as exc:
            create(s, id=str(v2), staticdata={})
        assert exc.value.code == "WORKFLOW-ERROR"
        with pytest.raises(QorusError):
            create(s, id="CACHE-WF", staticdata={}, orderkeys={"k2": "x"})


def test_a_stale_brief_is_looked_up_again(engine: Engine, nodes: list[Any], tmp_path: Path) -> None:
    load_cache_wf(engine, tmp_path)
    s = nodes[0]
    v1 = create(s, id="CACHE-WF", staticdata={})
    brief, stamp = s.workflows.briefs.get("CACHE-WF", None)
    with engine.begin() as conn:  # what a loader does, behind the cache's back
        wfcache.bump_stamp(conn)
        new = wfcache.read_stamp(conn)
    assert new != stamp
    assert create(s, id="CACHE-WF", staticdata={}) == v1
    assert s.workflows.briefs.get("CACHE-WF", None) == (brief, new)


def test_reset_empties_the_cache(engine: Engine, nodes: list[Any], tmp_path: Path) -> None:
    load_cache_wf(engine, tmp_path)
    s = nodes[0]
    create(s, id="CACHE-WF", staticdata={})
    assert len(s.workflows.briefs) == 1
    REGISTRY.call("workflows.reset", CallContext(s, transport="rest"), {"id": "CACHE-WF"})
    assert len(s.workflows.briefs) == 0


def test_bounded() -> None:
    c = wfcache.BriefCache(size=3)
    for i in range(10):
        c.put(f"w{i}", None, i, "s")
        assert len(c) <= 3
    c.put("x", None, 1, "other")  # a new generation replaces the old one
    assert len(c) == 1


def test_a_cached_plain_order_is_one_statement(
    engine: Engine, nodes: list[Any], tmp_path: Path
) -> None:
    load_cache_wf(engine, tmp_path)
    s = nodes[0]
    create(s, id="CACHE-WF", staticdata={})
    seen: list[str] = []

    def on_exec(_c: object, _cur: object, stmt: str, *_a: object) -> None:
        seen.append(stmt)

    event.listen(s.engine, "before_cursor_execute", on_exec)
    try:
        res = REGISTRY.call(
            "workflows.create-order",
            CallContext(s, transport="rest"),
            {"id": "CACHE-WF", "staticdata": {"a": 1}, "priority": 7},
        )
    finally:
        event.remove(s.engine, "before_cursor_execute", on_exec)
    if engine.dialect.name == "postgresql":
        # no lookup, no stamp read: one statement on the driver's cursor, none through
        # SQLAlchemy (the order's rows are checked below)
        assert seen == []
    wi, oi = t.workflow_instance, t.order_instance
    with engine.connect() as conn:
        row = conn.execute(
            select(wi.c.workflowstatus, wi.c.priority, oi.c.staticdata)
            .join(oi, oi.c.workflow_instanceid == wi.c.workflow_instanceid)
            .where(wi.c.workflow_instanceid == res["workflow_instanceid"])
        ).one()
    assert row[0] == "Y" and row[1] == 7 and json.loads(row[2]) == {"a": 1}
