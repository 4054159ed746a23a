"""Workflow rows as the API and the server read and change them: labels, autostart, options,
error definitions, steps.

The statements live here so that ``qorus_server`` builds none; oload's writes are in
:mod:`qorus_core.loader`, the engine's view of a definition in :mod:`qorus_core.db.wfdefs`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.db.refdata import now
from qorus_core.db.unit import loads

wf = t.workflows


def workflow_ids(conn: Connection) -> list[int]:
    """Every workflow id (the RBAC filter of the orders search starts from these)."""
    return [int(w) for w in conn.execute(select(wf.c.workflowid)).scalars()]


def workflow_label(conn: Connection, wfid: int) -> tuple[str, str] | None:
    """The name and version of a workflow, or None when it does not exist."""
    row = conn.execute(select(wf.c.name, wf.c.version).where(wf.c.workflowid == wfid)).first()
    return None if row is None else (str(row[0]), str(row[1]))


def workflow_labels(conn: Connection, wfids: Iterable[int]) -> list[tuple[int, str, str]]:
    """``(workflowid, name, version)`` of the given workflows (unknown ids are left out)."""
    ids = list(wfids)
    rows = conn.execute(
        select(wf.c.workflowid, wf.c.name, wf.c.version).where(wf.c.workflowid.in_(ids))
    ).all()
    return [(int(r[0]), r[1], r[2]) for r in rows]


def workflow_autostart(conn: Connection, wfid: int) -> Any:
    """The stored autostart of a workflow (None when the workflow does not exist)."""
    return conn.execute(select(wf.c.autostart).where(wf.c.workflowid == wfid)).scalar()


def workflow_options(conn: Connection, wfid: int) -> dict[str, Any] | None:
    """The stored options of a workflow, or None when no such workflow: the caller reads,
    changes and stores them in its own transaction."""
    row = conn.execute(select(wf.c.options).where(wf.c.workflowid == wfid)).first()
    return None if row is None else dict(loads(row[0]))


def store_workflow_options(conn: Connection, wfid: int, options: dict[str, Any]) -> None:
    """Store a workflow's options (as JSON) and mark it modified."""
    conn.execute(
        update(wf)
        .where(wf.c.workflowid == wfid)
        .values(options=json.dumps(options), modified=now())
    )


def workflow_errors(conn: Connection, wfid: int) -> list[dict[str, Any]]:
    """A workflow's own error definitions, by error name; ``business`` as a boolean."""
    we = t.workflow_errors
    out = []
    for r in conn.execute(select(we).where(we.c.workflowid == wfid).order_by(we.c.error)):
        m = dict(r._mapping)
        m["business"] = bool(m.get("business"))
        out.append(m)
    return out


def workflow_steps(conn: Connection, wfid: int) -> list[dict[str, Any]]:
    """The steps of a workflow with their types, classes and predecessors (``dependson``)."""
    ws, st = t.workflow_steps, t.steps
    steps: dict[int, dict[str, Any]] = {}
    for r in conn.execute(
        select(
            st.c.stepid,
            st.c.name,
            st.c.version,
            st.c.steptype,
            st.c.arraytype,
            st.c.class_name,
            st.c.language,
            ws.c.dependson_stepid,
        )
        .join(ws, ws.c.stepid == st.c.stepid)
        .where(ws.c.workflowid == wfid)
        .order_by(st.c.stepid, ws.c.dependson_stepid)
    ):
        m = r._mapping
        entry = steps.setdefault(
            int(m["stepid"]),
            {
                "stepid": int(m["stepid"]),
                "name": m["name"],
                "version": m["version"],
                "steptype": m["steptype"],
                "arraytype": m["arraytype"],
                "class_name": m["class_name"],
                "language": m["language"],
                "dependson": [],
            },
        )
        if int(m["dependson_stepid"]):
            entry["dependson"].append(int(m["dependson_stepid"]))
    return list(steps.values())
