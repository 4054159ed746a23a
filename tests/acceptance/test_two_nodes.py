"""Two real ``qorus`` nodes on one database share a workflow's orders; when one is killed, the
other recovers its session once the heartbeat is stale and finishes its orders."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import resil
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t

pytestmark = [pytest.mark.acceptance, pytest.mark.integration, pytest.mark.slow]

OPTS = (
    "audit=system",
    "workflow-workers=2",
    "heartbeat-interval=1",
    "session-stale-timeout=3",
)


def _sessions(engine: Engine) -> dict[str, tuple[int, str, int]]:
    s = t.sessions.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(s.node, s.sessionid, s.sessionstatus, s.pid).where(s.sessionid != 0)
        ).all()
    return {str(n): (int(i), str(st), int(p)) for n, i, st, p in rows}


def _owned_by(engine: Engine, sessionid: int) -> int:
    wi = t.workflow_instance
    with engine.connect() as conn:
        return len(
            conn.execute(
                select(wi.c.workflow_instanceid).where(
                    wi.c.status_sessionid == sessionid, wi.c.workflowstatus == "I"
                )
            ).all()
        )


def test_two_nodes_share_orders_then_one_dies(
    omq_dir: Path, engine: Engine, tmp_path: Path, start_qorus: Any
) -> None:
    resil.load(omq_dir)
    markers = tmp_path / "markers.txt"
    a = start_qorus(omq_dir, *OPTS, "node=node-a")
    b = start_qorus(omq_dir, *OPTS, "node=node-b")
    nodes = _sessions(engine)
    assert {n: st for n, (_i, st, _p) in nodes.items()} == {"node-a": "ACTIVE", "node-b": "ACTIVE"}
    sid_a, sid_b = nodes["node-a"][0], nodes["node-b"][0]

    ids = resil.submit(engine, markers, 800)

    def both_busy() -> bool:
        # a node has at most one step run per worker uncommitted: 30 runs mean committed ones
        runs = Counter(m.session for m in resil.read_markers(markers)) if markers.exists() else {}
        return min(runs.get(sid_a, 0), runs.get(sid_b, 0)) >= 30

    resil.wait_for("both nodes to process orders", both_busy)
    b.kill()  # SIGKILL: node B's session stays ACTIVE with its orders IN-PROGRESS
    in_flight = _owned_by(engine, sid_b)
    assert in_flight > 0  # the premise: the dead node held orders
    assert resil.counts(engine)["C"] < 800

    resil.wait_for("node A to finish every order", lambda: resil.counts(engine)["C"] == 800)
    resil.no_in_progress(engine)
    committed = resil.check_each_step_once(engine, ids, markers)
    assert committed[sid_a] > 0 and committed[sid_b] > 0
    assert committed[sid_a] + committed[sid_b] == 3 * 800
    nodes = _sessions(engine)
    assert nodes["node-b"][1] == "RECOVERED" and nodes["node-a"][1] == "ACTIVE"
    codes = resil.audit_names(engine)
    assert codes.count(4) == 1 and codes.count(5) == 1  # node A recovered B exactly once
    code, err = a.terminate()
    assert code == 0, err
