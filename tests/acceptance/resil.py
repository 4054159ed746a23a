"""Helpers of the crash-recovery and scale-out acceptance tests.

The workflow ``RESIL-MARKED`` (``data/resil``) has three steps; each run of a step appends a
line ``order step token session`` to a marker file before its work and commits ``{step:
token}`` in the order's dynamic data together with the step's COMPLETE status. So:

- the committed token of each step must be the *last* line written for that step of that
  order: a later line is a run of a step that had already committed COMPLETE (processed twice);
- the session of the committed line says which node processed the step.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from qorus_proc import env
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.orders import create_orders
from qorus_core.db.wfdefs import find_workflow

DATA = Path(__file__).parent / "data" / "resil"
STEPS = ("ResilMark1", "ResilMark2", "ResilMark3")
wi = t.workflow_instance


def load(omq: Path) -> None:
    """Load the workflow with the real ``oload`` (the console script)."""
    oload = shutil.which("oload")
    assert oload is not None, "the oload console script is not installed"
    res = subprocess.run(
        [oload, "--qorus-dir", str(omq), str(DATA)],
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0 and "RESIL-MARKED" in res.stdout, res.stdout + res.stderr


def submit(engine: Engine, markers: Path, count: int) -> list[int]:
    with engine.connect() as conn:
        wfid = find_workflow(conn, "RESIL-MARKED", None)
    orders = [{"staticdata": {"markers": str(markers), "i": i}} for i in range(count)]
    return create_orders(engine, wfid, orders)


def counts(engine: Engine) -> Counter[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(wi.c.workflowstatus, func.count()).group_by(wi.c.workflowstatus)
        ).all()
    return Counter({str(s): int(n) for s, n in rows})


def wait_for(what: str, cond: object, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@dataclass
class Marker:
    wfiid: int
    step: str
    token: str
    session: int


def read_markers(path: Path) -> list[Marker]:
    out = []
    for line in path.read_text().splitlines():
        wfiid, step, token, session = line.split()
        out.append(Marker(int(wfiid), step, token, int(session)))
    return out


def check_each_step_once(engine: Engine, ids: list[int], markers: Path) -> Counter[int]:
    """Every order COMPLETE with three COMPLETE steps, each committed by the last run of that
    step; returns how many step runs each session committed."""
    with engine.connect() as conn:
        status = dict(
            conn.execute(
                select(wi.c.workflow_instanceid, wi.c.workflowstatus).where(
                    wi.c.workflow_instanceid.in_(ids)
                )
            ).all()
        )
        steps = conn.execute(
            select(t.step_instance.c.workflow_instanceid, t.step_instance.c.stepstatus).where(
                t.step_instance.c.workflow_instanceid.in_(ids)
            )
        ).all()
        oi = t.order_instance
        dynamic = dict(
            conn.execute(
                select(oi.c.workflow_instanceid, oi.c.dynamicdata).where(
                    oi.c.workflow_instanceid.in_(ids)
                )
            ).all()
        )
    assert Counter(status.values()) == Counter({"C": len(ids)})
    per_order = Counter(int(w) for w, _s in steps)
    assert set(per_order.values()) == {3} and len(per_order) == len(ids)
    assert {s for _w, s in steps} == {"C"}
    last: dict[tuple[int, str], Marker] = {}
    for m in read_markers(markers):
        last[(m.wfiid, m.step)] = m  # later lines overwrite earlier ones
    committed: Counter[int] = Counter()
    twice = []
    for wfiid in ids:
        data = json.loads(dynamic[wfiid] or "{}")
        for step in STEPS:
            m = last[(wfiid, step)]
            if data.get(step) != m.token:
                twice.append((wfiid, step))
            committed[m.session] += 1
    assert not twice, f"steps run again after they committed COMPLETE: {twice[:10]}"
    return committed


def no_in_progress(engine: Engine) -> None:
    with engine.connect() as conn:
        orders = conn.execute(
            select(func.count()).select_from(wi).where(wi.c.workflowstatus == "I")
        ).scalar_one()
        steps = conn.execute(
            select(func.count())
            .select_from(t.step_instance)
            .where(t.step_instance.c.stepstatus == "I")
        ).scalar_one()
    assert (orders, steps) == (0, 0)


def audit_names(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return [
            int(r[0])
            for r in conn.execute(
                select(t.audit_events.c.audit_event_code).order_by(t.audit_events.c.audit_eventid)
            )
        ]
