"""Steps: versioned code that workflows list; ASYNC steps name a queue, EVENT steps an
event type."""

from __future__ import annotations

from sqlalchemy import delete as sql_delete
from sqlalchemy import select

from qorus_core.db import tables as t
from qorus_core.loader import listing, pycode
from qorus_core.loader.delete import Deleter, DeleteSpec
from qorus_core.loader.kinds.registry import Kind
from qorus_core.loader.model import Definition
from qorus_core.loader.problems import Problems
from qorus_core.loader.store import Store, code_columns
from qorus_core.loader.upsert import upsert
from qorus_core.model.errors import ValidationError


def check(d: Definition, problems: Problems) -> None:
    data, doc = d.data, d.doc
    steptype = data.get("steptype", "NORMAL")
    if steptype == "ASYNC" and not data.get("queue"):
        problems.add(d.path, "an ASYNC step needs a 'queue:'", doc.mark("steptype"))
    if steptype == "EVENT" and not data.get("event"):
        problems.add(d.path, "an EVENT step needs an 'event:' (event type)", doc.mark("steptype"))
    if data.get("queue") and steptype != "ASYNC":
        problems.add(d.path, f"'queue:' is for ASYNC steps, not {steptype}", doc.mark("queue"))
    if data.get("event") and steptype != "EVENT":
        problems.add(d.path, f"'event:' is for EVENT steps, not {steptype}", doc.mark("event"))


def store(s: Store, d: Definition) -> tuple[int | None, str]:
    data = d.data
    row = code_columns(d)
    row.update(
        steptype=data.get("steptype", "NORMAL"),
        arraytype=data.get("arraytype", "NONE"),
        base_class_name=data.get("base-class-name"),
        queueid=s.named_id(t.queues, "queueid", data["queue"]) if data.get("queue") else None,
        workflow_event_typeid=(
            s.named_id(t.workflow_event_types, "workflow_event_typeid", data["event"])
            if data.get("event")
            else None
        ),
    )
    return upsert(s.conn, t.steps, "stepid", {"name": d.name, "version": d.version}, row)


def delete(dl: Deleter, spec: DeleteSpec) -> None:
    for sid, name, version in dl.ids_of(t.steps, "stepid", spec):
        users = dl.conn.execute(
            select(t.workflows.c.name, t.workflows.c.version)
            .join(t.workflow_steps, t.workflow_steps.c.workflowid == t.workflows.c.workflowid)
            .where(t.workflow_steps.c.stepid == sid)
            .distinct()
        ).all()
        if users:
            wfs = ", ".join(f"{n}:{v}" for n, v in users)
            raise ValidationError(f"step {name}:{version} is used by workflow {wfs}")
        dl.conn.execute(sql_delete(t.steps).where(t.steps.c.stepid == sid))
        dl.done.append(f"deleted step {name}:{version} (id {sid})")


def api_base(d: Definition) -> str:
    """The step API class of its steptype and arraytype."""
    return pycode.STEP_BASES[(d.data.get("steptype", "NORMAL"), d.data.get("arraytype", "NONE"))]


KIND = Kind(
    "step",
    store,
    delete,
    listing.versioned(t.steps, "stepid", "steptype"),
    check=check,
    versioned=True,
    coded=True,
    api_base=api_base,
    stage=4,
    table=t.steps,
    idcol="stepid",
)
