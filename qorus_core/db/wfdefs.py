"""Read a workflow definition as oload stored it: steps, their order, keys, errors, options.

The engine, the order operations and the API all need the same view of a workflow, so it is
read in one place. Nothing here writes: definitions belong to oload.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.db.versions import find_version
from qorus_core.model.errors import NotFoundError

SEVERITIES = ("FATAL", "MAJOR", "MINOR", "WARNING", "INFO", "NONE")
#: Severities that change a step's status; lower ones are recorded as warnings.
STATUS_SEVERITIES = ("FATAL", "MAJOR")


@dataclass(frozen=True)
class StepDef:
    stepid: int
    name: str
    version: str
    steptype: str
    arraytype: str
    class_name: str | None
    code: str | None
    classes: tuple[str, ...]
    depends_on: tuple[int, ...]
    segmentid: int
    #: the async queue of an ASYNC step, the event type of an EVENT step
    queueid: int | None = None
    event_typeid: int | None = None

    @property
    def is_array(self) -> bool:
        return self.arraytype != "NONE"


@dataclass(frozen=True)
class ErrorDef:
    error: str
    description: str | None
    severity: str
    status: str
    business: bool
    retry_delay: int | None
    level: str


@dataclass
class WorkflowDef:
    workflowid: int
    name: str
    version: str
    description: str | None
    autostart: int
    enabled: bool
    class_name: str | None
    code: str | None
    classes: tuple[str, ...]
    options: dict[str, Any]
    keys: tuple[str, ...]
    steps: dict[int, StepDef] = field(default_factory=dict)
    #: step ids in a topological order (dependencies first, then by definition order)
    order: tuple[int, ...] = ()
    errors: dict[str, ErrorDef] = field(default_factory=dict)

    def option(self, name: str) -> Any:
        """A workflow option's value, or None when the workflow does not set it."""
        spec = self.options.get(name)
        if isinstance(spec, dict):
            return spec.get("value")
        return spec

    def label(self) -> str:
        return f"{self.name} v{self.version} ({self.workflowid})"


def _json(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def find_workflow(conn: Connection, name_or_id: str | int, version: str | None = None) -> int:
    """The workflowid of a workflow given by id, or by name (the latest version in natural
    version order by default)."""
    wf = t.workflows
    as_id = isinstance(name_or_id, str) and name_or_id.isascii() and name_or_id.isdigit()
    if isinstance(name_or_id, int) or as_id:
        row = conn.execute(
            select(wf.c.workflowid).where(wf.c.workflowid == int(name_or_id))
        ).first()
        if row is not None:
            return int(row[0])
    found = find_version(conn, wf, str(name_or_id), None if version is None else str(version))
    if found is None:
        label = f"{name_or_id}" + (f" v{version}" if version else "")
        raise NotFoundError(
            f"workflow {label!r} does not exist", code="WORKFLOW-ERROR", info={"workflow": label}
        )
    return found[0]


def load_workflow(conn: Connection, workflowid: int) -> WorkflowDef:
    """Everything the engine needs to run the orders of one workflow."""
    wf = t.workflows
    row = conn.execute(select(wf).where(wf.c.workflowid == workflowid)).first()
    if row is None:
        raise NotFoundError(f"workflow id {workflowid} does not exist", code="WORKFLOW-ERROR")
    m = row._mapping
    wdef = WorkflowDef(
        workflowid=workflowid,
        name=m["name"],
        version=m["version"],
        description=m["description"],
        autostart=int(m["autostart"] or 0),
        enabled=bool(m["enabled"]),
        class_name=m["class_name"],
        code=m["code"],
        classes=tuple(_json(m["classes"], [])),
        options=dict(_json(m["options"], {})),
        keys=tuple(
            r[0]
            for r in conn.execute(
                select(t.workflow_keys.c.keyname)
                .where(t.workflow_keys.c.workflowid == workflowid)
                .order_by(t.workflow_keys.c.keyname)
            )
        ),
    )
    deps: dict[int, list[int]] = {}
    for stepid, dep in conn.execute(
        select(t.workflow_steps.c.stepid, t.workflow_steps.c.dependson_stepid).where(
            t.workflow_steps.c.workflowid == workflowid
        )
    ):
        lst = deps.setdefault(int(stepid), [])
        if dep:
            lst.append(int(dep))
    segments = dict(
        conn.execute(
            select(t.segment_steps.c.stepid, t.segment_steps.c.segmentid).where(
                t.segment_steps.c.workflowid == workflowid
            )
        ).all()
    )
    if deps:
        st = t.steps
        for s in conn.execute(select(st).where(st.c.stepid.in_(list(deps)))):
            sm = s._mapping
            sid = int(sm["stepid"])
            wdef.steps[sid] = StepDef(
                stepid=sid,
                name=sm["name"],
                version=sm["version"],
                steptype=sm["steptype"],
                arraytype=sm["arraytype"] or "NONE",
                class_name=sm["class_name"],
                code=sm["code"],
                classes=tuple(_json(sm["classes"], [])),
                depends_on=tuple(sorted(deps[sid])),
                segmentid=int(segments.get(sid, 0)),
                queueid=None if sm["queueid"] is None else int(sm["queueid"]),
                event_typeid=(
                    None
                    if sm["workflow_event_typeid"] is None
                    else int(sm["workflow_event_typeid"])
                ),
            )
    wdef.order = _topological(wdef.steps)
    wdef.errors = load_errors(conn, workflowid)
    return wdef


def _topological(steps: dict[int, StepDef]) -> tuple[int, ...]:
    done: list[int] = []
    seen: set[int] = set()
    pending = sorted(steps)
    while pending:
        progressed = False
        for sid in list(pending):
            if all(d in seen or d not in steps for d in steps[sid].depends_on):
                done.append(sid)
                seen.add(sid)
                pending.remove(sid)
                progressed = True
        if not progressed:  # a cycle cannot come from oload; keep the rest in id order
            done.extend(pending)
            break
    return tuple(done)


def load_errors(conn: Connection, workflowid: int) -> dict[str, ErrorDef]:
    """Error definitions that apply to a workflow: global ones overlaid by the workflow's own."""
    out: dict[str, ErrorDef] = {}
    for table, where in (
        (t.global_workflow_errors, None),
        (t.workflow_errors, t.workflow_errors.c.workflowid == workflowid),
    ):
        q = select(table)
        if where is not None:
            q = q.where(where)
        for r in conn.execute(q):
            m = r._mapping
            out[m["error"]] = ErrorDef(
                error=m["error"],
                description=m["description"],
                severity=(m["severity"] or "MAJOR").upper(),
                status=(m["status"] or "ERROR").upper(),
                business=bool(m["business"]),
                retry_delay=m["retry_delay"],
                level=m["level"] or "AUTO",
            )
    return out
