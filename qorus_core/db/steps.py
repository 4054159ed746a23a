"""The engine's step commits: a step's row, the order's dynamic data, keys and errors, and the
order's final status, all guarded by the session's ownership of the order.

The hot-path statements are built once at import (building a statement per step costs more
than running it); the caller (``qorus_server.engine.runner``) runs them in its one
transaction per step. Every function that checks ownership answers False when this session no
longer owns the order (a stale session recovered by another node).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from qorus_core.db import fastexec
from qorus_core.db import tables as t
from qorus_core.model.status import OrderStatus as S

wi = t.workflow_instance
oi = t.order_instance
si = t.step_instance

# Hot-path statements, built once (building a statement per step costs more than running it).
_STEP_COLS = (
    "stepid",
    "ind",
    "stepstatus",
    "retries",
    "skip",
    "custom_status",
    "started",
    "completed",
)
_STEP_PARAMS = {
    "stepid": bindparam("p_stepid", type_=si.c.stepid.type),
    "ind": bindparam("p_ind", type_=si.c.ind.type),
    "stepstatus": bindparam("p_status", type_=si.c.stepstatus.type),
    "retries": bindparam("p_retries", type_=si.c.retries.type),
    "skip": bindparam("p_skip", type_=si.c.skip.type),
    "custom_status": bindparam("p_custom", type_=si.c.custom_status.type),
    "started": bindparam("p_started", type_=si.c.started.type),
    "completed": bindparam("p_completed", type_=si.c.completed.type),
}
_OWNED = and_(
    wi.c.workflow_instanceid == bindparam("p_wfiid"),
    wi.c.status_sessionid == bindparam("p_session"),
    wi.c.workflowstatus == S.IN_PROGRESS,
)
#: insert a step row only while this session owns the order (the ownership check for free);
#: the read of the order row is a locking one (FOR SHARE) so that it waits for a recovery by
#: another node in progress instead of reading the order as still owned
_INSERT_STEP_OWNED = (
    insert(si)
    .from_select(
        ["workflow_instanceid", *_STEP_COLS],
        select(wi.c.workflow_instanceid, *(_STEP_PARAMS[c] for c in _STEP_COLS))
        .where(_OWNED)
        .with_for_update(read=True),
    )
    .execution_options(preserve_rowcount=True)
)
_INSERT_STEP = insert(si).values(
    workflow_instanceid=bindparam("p_wfiid"), **{c: _STEP_PARAMS[c] for c in _STEP_COLS}
)
_UPDATE_STEP = (
    update(si)
    .where(
        si.c.workflow_instanceid == bindparam("p_wfiid"),
        si.c.stepid == bindparam("p_stepid"),
        si.c.ind == bindparam("p_ind"),
    )
    .values(
        stepstatus=bindparam("p_status"),
        retries=bindparam("p_retries"),
        skip=bindparam("p_skip"),
        custom_status=bindparam("p_custom"),
        started=bindparam("p_started"),
        completed=bindparam("p_completed"),
    )
)
_UPDATE_DYNAMIC = (
    update(oi)
    .where(oi.c.workflow_instanceid == bindparam("p_wfiid"))
    .values(dynamicdata=bindparam("p_data"), modified=bindparam("p_ts"))
)
_TOUCH_OWNED = update(wi).where(_OWNED).values(modified=bindparam("p_ts"))
#: the common end of an order: COMPLETE with nothing else to record
_COMPLETE_OWNED = (
    update(wi)
    .where(_OWNED)
    .values(
        workflowstatus=S.COMPLETE,
        status_sessionid=0,
        modified=bindparam("p_ts"),
        completed=bindparam("p_ts"),
        retry_trigger=None,
    )
)


def owned(wfiid: int, sessionid: int) -> dict[str, Any]:
    """The parameters of an ownership check."""
    return {"p_wfiid": wfiid, "p_session": sessionid}


def step_params(
    wfiid: int,
    stepid: int,
    ind: int,
    status: str,
    retries: int,
    custom_status: str | None,
    started: datetime,
    completed: datetime | None,
    *,
    skip: bool = False,
) -> dict[str, Any]:
    """The parameters of a step row write."""
    return {
        "p_wfiid": wfiid,
        "p_stepid": stepid,
        "p_ind": ind,
        "p_status": status,
        "p_retries": retries,
        "p_skip": skip,
        "p_custom": custom_status,
        "p_started": started,
        "p_completed": completed,
    }


def insert_step_owned(conn: Connection, params: dict[str, Any], sessionid: int) -> bool:
    """Insert a step's first row while this session owns the order; False when it does not."""
    return fastexec.execute(conn, _INSERT_STEP_OWNED, {**params, "p_session": sessionid}) == 1


def write_step(conn: Connection, params: dict[str, Any], exists: bool) -> None:
    """Insert or update a step's row without an ownership check."""
    fastexec.execute(conn, _UPDATE_STEP if exists else _INSERT_STEP, params)


def touch_owned(conn: Connection, wfiid: int, sessionid: int, ts: datetime) -> bool:
    """Mark the order modified if this session still owns it; False when it does not."""
    return fastexec.execute(conn, _TOUCH_OWNED, {**owned(wfiid, sessionid), "p_ts": ts}) == 1


def update_dynamic(conn: Connection, wfiid: int, data: str, ts: datetime) -> None:
    fastexec.execute(conn, _UPDATE_DYNAMIC, {"p_wfiid": wfiid, "p_data": data, "p_ts": ts})


def add_errors(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert error instances (``error_instance`` rows as dicts); ``info`` may be any value."""
    for row in rows:
        row["info"] = _info_text(row.get("info"))
    conn.execute(insert(t.error_instance), rows)


def write_keys(
    conn: Connection,
    wfiid: int,
    workflowid: int,
    changes: Iterable[tuple[str, list[str], bool]],
    ts: datetime,
) -> None:
    """Apply key changes ``(keyname, values, replace)`` of an order."""
    k = t.order_instance_keys
    for name, values, replace in changes:
        if replace:
            conn.execute(delete(k).where(k.c.workflow_instanceid == wfiid, k.c.keyname == name))
            current: list[str] = []
        else:
            current = list(
                conn.execute(
                    select(k.c.value).where(k.c.workflow_instanceid == wfiid, k.c.keyname == name)
                ).scalars()
            )
        new = [v for v in values if v not in current]
        if new:
            conn.execute(
                insert(k),
                [
                    {
                        "workflow_instanceid": wfiid,
                        "keyname": name,
                        "value": v,
                        "workflowid": workflowid,
                        "created": ts,
                    }
                    for v in new
                ],
            )


def complete_owned(conn: Connection, wfiid: int, sessionid: int, ts: datetime) -> bool:
    """The common end of an order: COMPLETE with nothing else to record."""
    return fastexec.execute(conn, _COMPLETE_OWNED, {**owned(wfiid, sessionid), "p_ts": ts}) == 1


def finish_owned(
    conn: Connection,
    wfiid: int,
    sessionid: int,
    values: Mapping[str, Any],
    *,
    add_errors: int = 0,
    add_warnings: int = 0,
    add_retry: bool = False,
    wake_at: datetime | None = None,
) -> bool:
    """Give the order its final status ``values`` (columns of ``workflow_instance``) and the
    counters to add, if this session still owns it; False when it does not. ``wake_at``: the
    order is due again then, unless a trigger set while it ran makes it due sooner."""
    vals = dict(values)
    if wake_at is not None:
        vals["retry_trigger"] = func.coalesce(wi.c.retry_trigger, wake_at)
    if add_errors:
        vals["errors"] = wi.c.errors + add_errors
    if add_warnings:
        vals["warnings"] = wi.c.warnings + add_warnings
    if add_retry:
        vals["retries"] = wi.c.retries + 1
    res = conn.execute(update(wi).where(_OWNED).values(**vals), owned(wfiid, sessionid))
    return bool(res.rowcount == 1)


def _info_text(info: Any) -> str | None:
    if info is None:
        return None
    if isinstance(info, str):
        return info
    try:
        return json.dumps(info, default=str)
    except (TypeError, ValueError):
        return str(info)


_SG = t.segment_instance
_UPDATE_SEGMENT = (
    update(_SG)
    .where(
        _SG.c.workflow_instanceid == bindparam("p_wfiid"),
        _SG.c.segmentid == bindparam("p_segid"),
    )
    .values(segmentstatus=bindparam("p_status"), modified=bindparam("p_ts"))
)
_INSERT_SEGMENT = insert(_SG).values(
    workflow_instanceid=bindparam("p_wfiid"),
    segmentid=bindparam("p_segid"),
    workflowid=bindparam("p_wfid"),
    segmentstatus=bindparam("p_status"),
    created=bindparam("p_ts"),
    modified=bindparam("p_ts"),
)


def write_segment(
    conn: Connection,
    wfiid: int,
    workflowid: int,
    segmentid: int,
    status: str,
    exists: bool,
    ts: datetime,
) -> None:
    """Record a segment instance's status (insert the first time, update after)."""
    params = {"p_wfiid": wfiid, "p_segid": segmentid, "p_status": status, "p_ts": ts}
    if exists:
        fastexec.execute(conn, _UPDATE_SEGMENT, params)
    else:
        fastexec.execute(conn, _INSERT_SEGMENT, {**params, "p_wfid": workflowid})
