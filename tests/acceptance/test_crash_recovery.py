"""kill -9 a real ``qorus`` with orders in flight; the restart recovers them, each step once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import resil
from qorus_proc import run_qorus
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t

pytestmark = [pytest.mark.acceptance, pytest.mark.integration, pytest.mark.slow]

OPTS = ("audit=system", "workflow-workers=4", "heartbeat-interval=1")


def test_kill_9_with_500_orders_in_flight(
    omq_dir: Path, engine: Engine, tmp_path: Path, start_qorus: Any
) -> None:
    resil.load(omq_dir)
    markers = tmp_path / "markers.txt"
    ids = resil.submit(engine, markers, 500)

    q = start_qorus(omq_dir, *OPTS)
    resil.wait_for("50 complete orders", lambda: resil.counts(engine)["C"] >= 50)
    q.kill()  # SIGKILL: no shutdown step runs
    at_kill = resil.counts(engine)
    assert at_kill["I"] > 0, at_kill  # the premise: orders were in flight
    assert at_kill["C"] < 500

    # without auto-recover the start is refused, and the message says how to recover
    res = run_qorus(omq_dir, *OPTS, "auto-recover=false", "http-server=127.0.0.1:0")
    assert res.returncode == 7, res.stderr
    assert "crashed session" in res.stderr
    assert "schema-tool --recover" in res.stderr and "auto-recover=true" in res.stderr
    assert resil.counts(engine)["I"] == at_kill["I"]  # the refusal changed nothing

    q2 = start_qorus(omq_dir, *OPTS, "auto-recover=true")
    resil.wait_for("every order to end", lambda: resil.counts(engine)["C"] == 500)
    resil.no_in_progress(engine)
    committed = resil.check_each_step_once(engine, ids, markers)
    assert sum(committed.values()) == 1500

    with engine.connect() as conn:
        sessions = dict(
            conn.execute(
                select(t.sessions.c.pid, t.sessions.c.sessionstatus).where(
                    t.sessions.c.sessionid != 0
                )
            ).all()
        )
    assert sessions == {q.proc.pid: "RECOVERED", q2.proc.pid: "ACTIVE"}
    codes = resil.audit_names(engine)
    assert codes.count(4) == 1 and codes.count(5) == 1  # SYSTEM-RECOVERY-START / -COMPLETE
    code, err = q2.terminate()
    assert code == 0, err
