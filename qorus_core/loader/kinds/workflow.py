"""Workflows: versioned code with a step graph, its segments, keys and errors."""

from __future__ import annotations

from sqlalchemy import delete as sql_delete

from qorus_core.db import tables as t
from qorus_core.loader import listing, pycode
from qorus_core.loader.catalog import dumps
from qorus_core.loader.delete import Deleter, DeleteSpec
from qorus_core.loader.kinds.registry import Kind
from qorus_core.loader.model import Definition, resolved_list
from qorus_core.loader.problems import Problems
from qorus_core.loader.steps import StepListError, parse_steps
from qorus_core.loader.store import Store, code_columns, json_value
from qorus_core.loader.upsert import Children, upsert
from qorus_core.model.errors import ValidationError


def check(d: Definition, problems: Problems) -> None:
    data, doc = d.data, d.doc
    try:
        d.graph = parse_steps(data["steps"])
    except StepListError as exc:
        problems.add(d.path, exc.message, doc.mark(*exc.key))
    for key in ("autostart", "sla_threshold", "max_instances"):
        if key in data and data[key] is not None and data[key] < 0:
            problems.add(d.path, f"{key} must not be negative", doc.mark(key))
    keys = data.get("keylist") or []
    for i, k in enumerate(keys):
        if k in keys[:i]:
            problems.add(d.path, f"key {k!r} appears twice in keylist", doc.mark("keylist", i))
    for name, desc in (data.get("options") or {}).items():
        if not isinstance(name, str) or not (desc is None or isinstance(desc, str)):
            problems.add(
                d.path,
                "options must map each option name to its description",
                doc.mark("options", name),
            )


def store(s: Store, d: Definition) -> tuple[int | None, str]:
    data = d.data
    assert d.graph is not None and d.segments is not None
    sid = {ref: s.id_of("step", ref) for ref in d.graph.order}
    row = code_columns(d)
    row.pop("config_items")
    row.update(
        autostart=data.get("autostart", 1),
        max_instances=data.get("max_instances"),
        sla_threshold=data.get("sla_threshold", 1800),
        steps_def=dumps(resolved_list(data["steps"], d.resolved)),
        errors_name=d.errors_name,
        options=json_value(
            {k: {"desc": v, "value": None} for k, v in (data.get("options") or {}).items()}
        ),
        staticdata_type=json_value(data.get("staticdata-type")),
        custom_statuses=json_value(data.get("statuses")),
        config_items=json_value(data.get("config-item-values")),
    )
    deps = [
        {"stepid": sid[s], "dependson_stepid": sid[p] if p else 0}
        for s in d.graph.order
        for p in (d.graph.deps[s] or [""])
    ]
    segs = [{"stepid": sid[s], "segmentid": seg} for s, seg in d.segments.of_step.items()]
    segdeps = [
        {"segmentid": seg, "dependson_segmentid": dep}
        for seg, ds in d.segments.deps.items()
        for dep in ds
    ]
    keys = [{"keyname": k} for k in data.get("keylist") or []]
    children = [
        Children(t.workflow_steps, "workflowid", deps),
        Children(t.segment_steps, "workflowid", segs),
        Children(t.segment_dependencies, "workflowid", segdeps),
        Children(t.workflow_keys, "workflowid", keys),
        Children(t.workflow_errors, "workflowid", s.workflow_errors(d.errors_name)),
    ]
    return upsert(
        s.conn,
        t.workflows,
        "workflowid",
        {"name": d.name, "version": d.version},
        row,
        children,
        insert_only={"enabled": True},
    )


def delete(dl: Deleter, spec: DeleteSpec) -> None:
    for wid, name, version in dl.ids_of(t.workflows, "workflowid", spec):
        wi = t.workflow_instance
        orders = dl.count(wi, wi.c.workflowid == wid)
        if orders:
            if not (dl.force or dl.wants_orders_deleted(name, version)):
                raise ValidationError(
                    f"workflow {name}:{version} has {orders} orders; delete them too "
                    f"(-X wfinstances:{name}:{version}) or use -f"
                )
            dl.delete_orders(wid)
            dl.done.append(f"deleted {orders} orders of workflow {name}:{version}")
        for table in (
            t.workflow_steps,
            t.segment_steps,
            t.segment_dependencies,
            t.workflow_keys,
            t.workflow_errors,
            t.group_workflows,
        ):
            dl.conn.execute(sql_delete(table).where(table.c.workflowid == wid))
        dl.conn.execute(sql_delete(t.workflows).where(t.workflows.c.workflowid == wid))
        dl.done.append(f"deleted workflow {name}:{version} (id {wid})")


KIND = Kind(
    "workflow",
    store,
    delete,
    listing.versioned(t.workflows, "workflowid", "autostart"),
    check=check,
    versioned=True,
    coded=True,
    api_base=lambda _d: pycode.TYPE_BASES["workflow"],
    stage=5,
    table=t.workflows,
    idcol="workflowid",
    aliases=("wf", "wfs"),
)
