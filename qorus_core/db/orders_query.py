"""Reading orders and workflows for the API: search, order info, workflow lists with counts.

Answers use status names (the API convention), never the one-letter codes.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from qorus_core.db import sensitive, waits
from qorus_core.db import tables as t
from qorus_core.db.orders import parse_timestamp
from qorus_core.db.refdata import AUDIT_EVENT_CODES
from qorus_core.db.unit import ConnOrEngine, loads, unit
from qorus_core.db.wfdefs import find_workflow
from qorus_core.model.errors import NotFoundError, ValidationError
from qorus_core.model.status import ORDER_STATUS_CODES, ORDER_STATUS_NAMES, order_code

wi = t.workflow_instance
wf = t.workflows

MAX_LIMIT = 10000
_SORTABLE = {
    "workflow_instanceid": wi.c.workflow_instanceid,
    "started": wi.c.started,
    "modified": wi.c.modified,
    "completed": wi.c.completed,
    "priority": wi.c.priority,
    "workflowstatus": wi.c.workflowstatus,
    "scheduled": wi.c.scheduled,
    "workflowid": wi.c.workflowid,
}


def _list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, Iterable):
        return list(value)
    return [value]


def _summary(m: Any) -> dict[str, Any]:
    return {
        "workflow_instanceid": int(m["workflow_instanceid"]),
        "workflowid": int(m["workflowid"]),
        "name": m["name"],
        "version": m["version"],
        "workflowstatus": ORDER_STATUS_NAMES[m["workflowstatus"]],
        "workflowstatus_orig": ORDER_STATUS_NAMES.get(m["workflowstatus_orig"] or ""),
        "status_sessionid": int(m["status_sessionid"]),
        "parent_workflow_instanceid": m["parent_workflow_instanceid"],
        "priority": int(m["priority"]),
        "scheduled": m["scheduled"],
        "started": m["started"],
        "completed": m["completed"],
        "modified": m["modified"],
        "custom_status": m["custom_status"],
        "retries": int(m["retries"]),
        "error_count": int(m["errors"]),
        "warning_count": int(m["warnings"]),
        "note_count": int(m["note_count"]),
        "business_error": bool(m["business_error"]),
        "operator_lock": m["operator_lock"],
        "synchronous": bool(m["synchronous"]),
        "external_order_instanceid": m.get("external_order_instanceid"),
    }


def search_orders(
    target: ConnOrEngine,
    *,
    workflowid: Any = None,
    ids: Any = None,
    status: Any = None,
    statuses: Any = None,
    keyname: str | None = None,
    keyvalue: Any = None,
    modified: Any = None,
    date: Any = None,
    maxmodified: Any = None,
    minstarted: Any = None,
    maxstarted: Any = None,
    limit: Any = 100,
    offset: Any = 0,
    sort: Any = None,
    desc: Any = True,
) -> list[dict[str, Any]]:
    """The GET orders search: filters of the reference (section 7), paging and sorting."""
    q = (
        select(wi, wf.c.name, wf.c.version, t.order_instance.c.external_order_instanceid)
        .join(wf, wf.c.workflowid == wi.c.workflowid)
        .join(t.order_instance, t.order_instance.c.workflow_instanceid == wi.c.workflow_instanceid)
    )
    conds: list[ColumnElement[bool]] = []
    wfids = _list(workflowid)
    if wfids:
        conds.append(wi.c.workflowid.in_([int(w) for w in wfids]))
    order_ids = _list(ids)
    if order_ids:
        conds.append(wi.c.workflow_instanceid.in_([int(i) for i in order_ids]))
    codes = _list(status) + _list(statuses)
    if codes:
        try:
            conds.append(wi.c.workflowstatus.in_([order_code(str(s)) for s in codes]))
        except ValueError as exc:
            raise ValidationError(str(exc), code="ORDER-SEARCH-ERROR") from None
    if keyname or keyvalue is not None:
        k = t.order_instance_keys
        sub = select(k.c.workflow_instanceid)
        if keyname:
            sub = sub.where(k.c.keyname == keyname)
        values = _list(keyvalue)
        if values:
            sub = sub.where(k.c.value.in_([str(v) for v in values]))
        conds.append(wi.c.workflow_instanceid.in_(sub))
    for arg, col, op in (
        (modified if modified is not None else date, wi.c.modified, ">="),
        (maxmodified, wi.c.modified, "<="),
        (minstarted, wi.c.started, ">="),
        (maxstarted, wi.c.started, "<="),
    ):
        when = parse_timestamp(arg, "date filter") if arg is not None else None
        if when is not None:
            conds.append(col >= when if op == ">=" else col <= when)
    if conds:
        q = q.where(and_(*conds))
    keys = _list(sort) or ["started", "workflow_instanceid"]
    descending = str(desc).lower() not in ("0", "false", "no")
    for key in keys:
        sort_col = _SORTABLE.get(str(key))
        if sort_col is None:
            raise ValidationError(
                f"cannot sort by {key!r} (use {', '.join(sorted(_SORTABLE))})",
                code="ORDER-SEARCH-ERROR",
            )
        q = q.order_by(sort_col.desc() if descending else sort_col.asc())
    if "workflow_instanceid" not in keys:
        q = q.order_by(wi.c.workflow_instanceid.desc() if descending else wi.c.workflow_instanceid)
    try:
        lim, off = int(limit if limit is not None else 100), int(offset or 0)
    except (TypeError, ValueError):
        raise ValidationError(
            "limit and offset must be integers", code="ORDER-SEARCH-ERROR"
        ) from None
    if lim < 0 or off < 0:
        raise ValidationError("limit and offset must not be negative", code="ORDER-SEARCH-ERROR")
    q = q.limit(min(lim, MAX_LIMIT)).offset(off)
    with unit(target, None) as (conn, _):
        return [_summary(r._mapping) for r in conn.execute(q)]


def get_order_info(target: ConnOrEngine, wfiid: Any) -> dict[str, Any]:
    """The GET orders/{id} answer: the order, its data, keys, steps (with what each waits on:
    ``queuekey``, ``queue_data_status``, ``queue``, ``eventkey``, ``event``, ``posted``,
    ``subworkflow_instanceid``), child orders (``SubWorkflowInstances``), the feedback of
    its children (``feedback``), errors and notes."""
    try:
        ident = int(wfiid)
    except (TypeError, ValueError):
        raise ValidationError(f"invalid workflow_instanceid {wfiid!r}") from None
    with unit(target, None) as (conn, _):
        row = conn.execute(
            select(wi, wf.c.name, wf.c.version, t.order_instance)
            .join(wf, wf.c.workflowid == wi.c.workflowid)
            .join(
                t.order_instance, t.order_instance.c.workflow_instanceid == wi.c.workflow_instanceid
            )
            .where(wi.c.workflow_instanceid == ident)
        ).first()
        if row is None:
            raise NotFoundError(f"workflow order {ident} does not exist", code="ORDER-NOT-FOUND")
        m = row._mapping
        out = _summary(m)
        out["staticdata"] = loads(m["staticdata"])
        out["dynamicdata"] = loads(m["dynamicdata"])
        out["keys"] = _keys(conn, ident)
        # sensitive data: key names and aliases only, never a value or the data
        out["sensitive_data_keys"] = sensitive.summary(conn, ident)
        out["has_sensitive_data"] = bool(out["sensitive_data_keys"])
        out["StepInstances"] = _steps(conn, ident)
        # what waiting steps wait (or waited) on: queue key, event, child order
        step_waits = waits.step_waits(conn, ident)
        for step in out["StepInstances"]:
            step.update(step_waits.get((step["stepid"], step["ind"]), {}))
        out["SubWorkflowInstances"] = waits.children(conn, ident)
        out["feedback"] = waits.feedback(conn, ident)
        out["ErrorInstances"] = _errors(conn, ident)
        out["error_count"] = sum(
            1 for e in out["ErrorInstances"] if e["severity"] in ("FATAL", "MAJOR")
        )
        out["warning_count"] = len(out["ErrorInstances"]) - out["error_count"]
        n = t.order_instance_notes
        out["notes"] = [
            {"noteid": r[0], "username": r[1], "note": r[2], "created": r[3]}
            for r in conn.execute(
                select(n.c.noteid, n.c.username, n.c.note, n.c.created)
                .where(n.c.workflow_instanceid == ident)
                .order_by(n.c.noteid)
            )
        ]
        out["AuditEvents"] = order_audit_events(conn, ident)
        return out


def order_audit_events(conn: Connection, ident: int) -> list[dict[str, Any]]:
    """The audit rows of an order as the reference shows them: ``audit_eventid``,
    ``related_audit_eventid``, ``audit_event_code``, ``audit_user_event``, ``reason``,
    ``who``, ``source``, ``info1``, ``info2``, ``created`` (NULLs left out) and ``event``, the
    code's name."""
    a = t.audit_events
    cols = (
        a.c.audit_eventid,
        a.c.related_audit_eventid,
        a.c.audit_event_code,
        a.c.audit_user_event,
        a.c.reason,
        a.c.who,
        a.c.source,
        a.c.info1,
        a.c.info2,
        a.c.created,
    )
    out = []
    for r in conn.execute(
        select(*cols).where(a.c.workflow_instanceid == ident).order_by(a.c.audit_eventid)
    ):
        row = {k: v for k, v in r._mapping.items() if v is not None}
        row["event"] = AUDIT_EVENT_CODES.get(int(row["audit_event_code"]), "UNKNOWN")
        out.append(row)
    return out


def _keys(conn: Connection, ident: int) -> dict[str, Any]:
    k = t.order_instance_keys
    keys: dict[str, list[str]] = {}
    for name, value in conn.execute(
        select(k.c.keyname, k.c.value)
        .where(k.c.workflow_instanceid == ident)
        .order_by(k.c.keyname, k.c.value)
    ):
        keys.setdefault(name, []).append(value)
    return {n: v[0] if len(v) == 1 else v for n, v in keys.items()}


def _steps(conn: Connection, ident: int) -> list[dict[str, Any]]:
    si = t.step_instance
    st = t.steps
    return [
        {
            "stepid": int(r.stepid),
            "ind": int(r.ind),
            "stepname": r.name,
            "stepversion": r.version,
            "steptype": r.steptype,
            "arraytype": r.arraytype,
            "stepstatus": ORDER_STATUS_NAMES[r.stepstatus],
            "retries": int(r.retries),
            "skip": bool(r.skip),
            "custom_status": r.custom_status,
            "started": r.started,
            "completed": r.completed,
        }
        for r in conn.execute(
            select(si, st.c.name, st.c.version, st.c.steptype, st.c.arraytype)
            .join(st, st.c.stepid == si.c.stepid)
            .where(si.c.workflow_instanceid == ident)
            .order_by(si.c.started, si.c.stepid, si.c.ind)
        )
    ]


def _errors(conn: Connection, ident: int) -> list[dict[str, Any]]:
    ei = t.error_instance
    out = []
    for r in conn.execute(
        select(ei).where(ei.c.workflow_instanceid == ident).order_by(ei.c.error_instanceid)
    ):
        m = dict(r._mapping)
        info = m.get("info")
        if isinstance(info, str) and info[:1] in "{[":
            with contextlib.suppress(ValueError):
                m["info"] = json.loads(info)
        m["business_error"] = bool(m["business_error"])
        m["retry"] = bool(m["retry"])
        out.append(m)
    return out


def _counts(conn: Connection, wfids: list[int] | None) -> dict[int, dict[str, int]]:
    q = select(wi.c.workflowid, wi.c.workflowstatus, func.count()).group_by(
        wi.c.workflowid, wi.c.workflowstatus
    )
    if wfids is not None:
        q = q.where(wi.c.workflowid.in_(wfids))
    out: dict[int, dict[str, int]] = {}
    for wfid, status, n in conn.execute(q):
        out.setdefault(int(wfid), {})[ORDER_STATUS_NAMES[status]] = int(n)
    return out


def _workflow_dict(m: Any, counts: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "workflowid": int(m["workflowid"]),
        "name": m["name"],
        "version": m["version"],
        "description": m["description"],
        "author": m["author"],
        "autostart": int(m["autostart"]),
        "max_instances": m["max_instances"],
        "sla_threshold": m["sla_threshold"],
        "enabled": bool(m["enabled"]),
        "deprecated": bool(m["deprecated"]),
        "created": m["created"],
        "modified": m["modified"],
    }
    for name in ORDER_STATUS_CODES:
        out[name] = counts.get(name, 0)
    out["TOTAL"] = sum(counts.values())
    return out


def list_workflows(target: ConnOrEngine) -> list[dict[str, Any]]:
    """GET workflows: every workflow with its order counts by status."""
    with unit(target, None) as (conn, _):
        counts = _counts(conn, None)
        return [
            _workflow_dict(r._mapping, counts.get(int(r._mapping["workflowid"]), {}))
            for r in conn.execute(select(wf).order_by(wf.c.name, wf.c.workflowid))
        ]


def workflow_info(
    target: ConnOrEngine, name_or_id: Any, version: str | None = None
) -> dict[str, Any]:
    """GET workflows/{id|name}: the workflow, its counts, steps, keylist and options."""
    with unit(target, None) as (conn, _):
        wfid = find_workflow(conn, name_or_id, version)
        m = conn.execute(select(wf).where(wf.c.workflowid == wfid)).first()
        assert m is not None
        out = _workflow_dict(m._mapping, _counts(conn, [wfid]).get(wfid, {}))
        out["keylist"] = sorted(
            r[0]
            for r in conn.execute(
                select(t.workflow_keys.c.keyname).where(t.workflow_keys.c.workflowid == wfid)
            )
        )
        out["options"] = loads(m._mapping["options"])
        ws = t.workflow_steps
        out["steps"] = [
            {
                "stepid": int(r[0]),
                "name": r[1],
                "version": r[2],
                "steptype": r[3],
                "dependson_stepid": int(r[4]),
            }
            for r in conn.execute(
                select(
                    ws.c.stepid,
                    t.steps.c.name,
                    t.steps.c.version,
                    t.steps.c.steptype,
                    ws.c.dependson_stepid,
                )
                .join(t.steps, t.steps.c.stepid == ws.c.stepid)
                .where(ws.c.workflowid == wfid)
                .order_by(ws.c.stepid, ws.c.dependson_stepid)
            )
        ]
        return out


def order_workflowid(conn: Connection, wfiid: int) -> int | None:
    """The workflow of an order, or None when the order does not exist."""
    row = conn.execute(select(wi.c.workflowid).where(wi.c.workflow_instanceid == wfiid)).first()
    return None if row is None else int(row[0])


def order_keys(conn: Connection, wfiid: int) -> list[tuple[str, str]]:
    """The ``(keyname, value)`` pairs of an order's keys, in no particular order."""
    k = t.order_instance_keys
    rows = conn.execute(
        select(k.c.keyname, k.c.value).where(k.c.workflow_instanceid == wfiid)
    ).all()
    return [(r[0], r[1]) for r in rows]
