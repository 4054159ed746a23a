"""TEST-ONLY: insert workflow definitions the way oload stores them.

This is not a loader. It exists so engine tests do not depend on oload, and it follows the
storage contract of the definitions tables:

- ``steps.code`` is the step's full Python source, ``steps.class_name`` its class,
  ``steps.classes`` a JSON list of library class names (``classes`` table);
- ``workflow_steps`` has one row per direct predecessor; a first step has one row with
  ``dependson_stepid = 0``. For ``[A, [B, [C, D]], E]``: A<-0, B<-A, C<-A, D<-C, E<-B, E<-D;
- ``segment_steps``: segment 0 first, a new segment after every ASYNC/EVENT/SUBWORKFLOW step,
  with ``segment_dependencies``;
- ``workflow_keys`` is the keylist; ``workflows.options`` is ``{name: {"desc", "value"}}``;
- ``workflow_errors`` rows per workflow.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.refdata import now

StepsSpec = list[Any]


def add_class(engine: Engine, name: str, code: str, *, version: str = "1.0") -> int:
    with engine.begin() as conn:
        res = conn.execute(
            insert(t.classes).values(
                name=name,
                version=version,
                language="python",
                class_name=name,
                code=textwrap.dedent(code),
                created=now(),
            )
        )
        pk = res.inserted_primary_key
        assert pk is not None
        return int(pk[0])


def add_step(
    engine: Engine,
    name: str,
    code: str,
    *,
    version: str = "1.0",
    steptype: str = "NORMAL",
    arraytype: str = "NONE",
    class_name: str | None = None,
    classes: list[str] | None = None,
) -> int:
    with engine.begin() as conn:
        res = conn.execute(
            insert(t.steps).values(
                name=name,
                version=version,
                steptype=steptype,
                arraytype=arraytype,
                language="python",
                class_name=class_name or name,
                code=textwrap.dedent(code),
                classes=json.dumps(classes or []),
                created=now(),
            )
        )
        pk = res.inserted_primary_key
        assert pk is not None
        return int(pk[0])


def noop_step(engine: Engine, name: str, body: str = "pass", **kw: Any) -> int:
    """A NORMAL step whose ``primary()`` runs ``body`` (indented for you)."""
    code = f"class {name}(QorusNormalStep):\n    def primary(self):\n"
    code += textwrap.indent(textwrap.dedent(body).strip() + "\n", "        ")
    return add_step(engine, name, "from wf import QorusNormalStep\n\n" + code, **kw)


def _dependencies(spec: StepsSpec) -> list[tuple[str, str | None]]:
    """(step, predecessor) pairs per the contract; predecessor None = a first step."""
    pairs: list[tuple[str, str | None]] = []

    def series(seq: list[Any], preds: list[str]) -> list[str]:
        for elem in seq:
            preds = element(elem, preds)
        return preds

    def element(elem: Any, preds: list[str]) -> list[str]:
        if isinstance(elem, str):
            if preds:
                pairs.extend((elem, p) for p in preds)
            else:
                pairs.append((elem, None))
            return [elem]
        out: list[str] = []
        for branch in elem:
            out.extend(
                series(branch, preds) if isinstance(branch, list) else element(branch, preds)
            )
        return out

    series(spec, [])
    return pairs


def add_workflow(
    engine: Engine,
    name: str,
    steps: StepsSpec,
    *,
    version: str = "1.0",
    keys: list[str] | None = None,
    autostart: int = 0,
    options: dict[str, Any] | None = None,
    errors: dict[str, dict[str, Any]] | None = None,
    code: str | None = None,
    class_name: str | None = None,
) -> int:
    """``steps`` names steps already added (name or ``name:version``)."""
    pairs = _dependencies(steps)
    with engine.begin() as conn:
        ids: dict[str, tuple[int, str]] = {}
        for stepname in {p[0] for p in pairs}:
            sname, _, sver = stepname.partition(":")
            q = select(t.steps.c.stepid, t.steps.c.steptype).where(t.steps.c.name == sname)
            if sver:
                q = q.where(t.steps.c.version == sver)
            row = conn.execute(q.order_by(t.steps.c.stepid.desc())).first()
            assert row is not None, f"no step {stepname}"
            ids[stepname] = (int(row[0]), row[1])
        res = conn.execute(
            insert(t.workflows).values(
                name=name,
                version=version,
                description=f"test workflow {name}",
                autostart=autostart,
                enabled=True,
                deprecated=False,
                steps_def=json.dumps(steps),
                language="python",
                class_name=class_name,
                code=textwrap.dedent(code) if code else None,
                classes="[]",
                options=json.dumps(
                    {k: {"desc": k, "value": v} for k, v in (options or {}).items()}
                ),
                created=now(),
            )
        )
        pk = res.inserted_primary_key
        assert pk is not None
        wfid = int(pk[0])
        conn.execute(
            insert(t.workflow_steps),
            [
                {"workflowid": wfid, "stepid": ids[s][0], "dependson_stepid": ids[p][0] if p else 0}
                for s, p in pairs
            ],
        )
        # segments: a new one after every ASYNC / EVENT / SUBWORKFLOW step
        seg: dict[str, int] = {}
        for s, p in pairs:  # pairs come in dependency order
            base = 0 if p is None else seg[p] + (0 if ids[p][1] == "NORMAL" else 1)
            seg[s] = max(seg.get(s, 0), base)
        conn.execute(
            insert(t.segment_steps),
            [{"workflowid": wfid, "stepid": ids[s][0], "segmentid": n} for s, n in seg.items()],
        )
        seg_deps = {(seg[s], seg[p]) for s, p in pairs if p is not None and seg[s] != seg[p]}
        if seg_deps:
            conn.execute(
                insert(t.segment_dependencies),
                [
                    {"workflowid": wfid, "segmentid": a, "dependson_segmentid": b}
                    for a, b in seg_deps
                ],
            )
        if keys:
            conn.execute(
                insert(t.workflow_keys), [{"workflowid": wfid, "keyname": k} for k in keys]
            )
        for err, spec in (errors or {}).items():
            conn.execute(
                insert(t.workflow_errors).values(
                    workflowid=wfid,
                    error=err,
                    description=spec.get("description", err),
                    severity=spec.get("severity", "MAJOR"),
                    status=spec.get("status", "ERROR"),
                    business=spec.get("business", False),
                    retry_delay=spec.get("retry_delay"),
                    level="WORKFLOW",
                    created=now(),
                )
            )
        return wfid
