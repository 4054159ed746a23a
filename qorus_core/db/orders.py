"""Order creation: validation, unique keys, and the rows of a new order, in one transaction.

Used by the engine (``UserApi.createOrder``), the system API (``createOrder``) and the
benchmark (``create_orders`` inserts a batch with one commit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from qorus_core.crypto import SensitiveCipher
from qorus_core.db import audit, sensitive, wfcache
from qorus_core.db import tables as t
from qorus_core.db.refdata import now
from qorus_core.db.unit import ConnOrEngine, EventSink, dumps, unit
from qorus_core.db.wake import notify_column
from qorus_core.model.args import absent, arg_date, arg_id, arg_int, arg_text, check_data, shown
from qorus_core.model.errors import NotFoundError, QorusError
from qorus_core.model.status import ORDER_STATUS_NAMES, OrderStatus

DEFAULT_PRIORITY = 500
MAX_PRIORITY = 999

#: unique-key argument -> scope letter in ``order_unique_keys``
UNIQUE_SCOPES = {
    "global_unique_key": "G",  # across every workflow
    "workflow_specific_unique_key": "W",  # across this workflow id (name and version)
    "workflow_unique_key": "N",  # across every version of this workflow name
}


_DATA = "ORDER-DATA-ERROR"

#: ``create_orders(stamp=...)`` not given: no definitions check
_NO_CHECK = object()


def order_data_error(desc: str, **info: Any) -> QorusError:
    return QorusError(desc, code="ORDER-DATA-ERROR", info=info or None)


@dataclass(frozen=True)
class WorkflowBrief:
    workflowid: int
    name: str
    version: str
    keys: frozenset[str]


def workflow_brief(conn: Connection, workflowid: int) -> WorkflowBrief:
    wf, wk = t.workflows, t.workflow_keys
    rows = conn.execute(  # one round trip: the workflow and its keylist
        select(wf.c.name, wf.c.version, wk.c.keyname)
        .select_from(wf.outerjoin(wk, wk.c.workflowid == wf.c.workflowid))
        .where(wf.c.workflowid == workflowid)
    ).all()
    if not rows:
        raise NotFoundError(f"workflow id {workflowid} does not exist", code="WORKFLOW-ERROR")
    keys = frozenset(r[2] for r in rows if r[2] is not None)
    return WorkflowBrief(workflowid, rows[0][0], rows[0][1], keys)


def parse_timestamp(value: Any, what: str) -> datetime | None:
    """A date argument as naive UTC (the storage convention); ISO text or a datetime; None
    when absent. A bad one is ORDER-DATA-ERROR."""
    if absent(value):
        return None
    return arg_date(value, what, code="ORDER-DATA-ERROR")


def check_priority(value: Any) -> int:
    """A priority 0..999 (0 is the highest); the default 500 when absent."""
    if value is None:
        return DEFAULT_PRIORITY
    return arg_int(value, "priority", minimum=0, maximum=MAX_PRIORITY, code="ORDER-DATA-ERROR")


def normalize_keys(
    brief: WorkflowBrief, keys: Any, what: str = "orderkeys"
) -> dict[str, list[str]]:
    """``{key: value | [values]}`` checked against the workflow's keylist."""
    if keys is None:
        return {}
    if not isinstance(keys, Mapping):
        raise order_data_error(f"{what} must be a hash of key names to values")
    out: dict[str, list[str]] = {}
    for name, value in keys.items():
        if name not in brief.keys:
            raise QorusError(
                f"workflow {brief.name} v{brief.version} has no order key {name!r} "
                f"(keylist: {', '.join(sorted(brief.keys)) or 'empty'})",
                code="WORKFLOW-KEY-ERROR",
                info={"key": name},
            )
        values = value if isinstance(value, list | tuple) else [value]
        out[str(name)] = []
        for v in values:
            if v is None or isinstance(v, Mapping | list | tuple):
                raise order_data_error(f"{what}: key {name!r} has an invalid value {shown(v)}")
            text = arg_text(v, f"{what}.{name}", max_len=400, error=order_data_error)
            if text not in out[str(name)]:
                out[str(name)].append(text)
    return out


@dataclass
class NewOrder:
    """One validated order, ready to insert."""

    staticdata: dict[str, Any]
    dynamicdata: dict[str, Any]
    keys: dict[str, list[str]]
    unique: list[tuple[str, str, str, str]]  # scope, scope_value, keyname, value
    priority: int
    status: str
    status_orig: str | None
    scheduled: datetime | None
    external_id: str | None
    parent_id: int | None
    sensitive: list[sensitive.SensitiveEntry]


_ORDER_ARGS = frozenset(
    {
        "staticdata",
        "dynamicdata",
        "orderkeys",
        "priority",
        "scheduled",
        "status",
        "external_order_instanceid",
        "parent_workflow_instanceid",
        "sensitive_data",
        *UNIQUE_SCOPES,
    }
)


def order_row(
    workflowid: int, o: NewOrder, ts: datetime, *, subworkflow: bool = False
) -> dict[str, Any]:
    """The ``workflow_instance`` row of a new order."""
    return {
        "workflowid": workflowid,
        "workflowstatus": o.status,
        "workflowstatus_orig": o.status_orig,
        "status_sessionid": 0,
        "parent_workflow_instanceid": o.parent_id,
        "subworkflow": subworkflow,
        "synchronous": False,
        "priority": o.priority,
        "scheduled": o.scheduled,
        "retries": 0,
        "errors": 0,
        "warnings": 0,
        "note_count": 0,
        "business_error": False,
        "started": ts,
        "modified": ts,
    }


def validate_order(brief: WorkflowBrief, args: Mapping[str, Any], ts: datetime) -> NewOrder:
    unknown = sorted(set(args) - _ORDER_ARGS)
    if unknown:
        raise order_data_error(f"unknown order argument(s): {', '.join(unknown)}")
    static = args.get("staticdata")
    external = args.get("external_order_instanceid")
    if static is None and external is None:
        raise order_data_error("an order needs staticdata or an external_order_instanceid")
    if static is None:
        static = {}
    if not isinstance(static, Mapping):
        raise order_data_error(f"staticdata must be a hash, got {type(static).__name__}")
    check_data(static, "staticdata", order_data_error)
    dynamic = args.get("dynamicdata") or {}
    if not isinstance(dynamic, Mapping):
        raise order_data_error(f"dynamicdata must be a hash, got {type(dynamic).__name__}")
    check_data(dynamic, "dynamicdata", order_data_error)
    keys = normalize_keys(brief, args.get("orderkeys"))
    unique: list[tuple[str, str, str, str]] = []
    for arg, scope in UNIQUE_SCOPES.items():
        ukeys = normalize_keys(brief, args.get(arg), arg)
        scope_value = {"G": "*", "N": brief.name, "W": str(brief.workflowid)}[scope]
        for name, values in ukeys.items():
            for v in values:
                unique.append((scope, scope_value, name, v))
                if v not in keys.setdefault(name, []):
                    keys[name].append(v)
    scheduled = parse_timestamp(args.get("scheduled"), "scheduled")
    due_later = scheduled is not None and scheduled > ts
    base = OrderStatus.SCHEDULED if due_later else OrderStatus.READY
    status_arg = arg_text(args.get("status") or "READY", "status", max_len=20, code=_DATA).upper()
    status: OrderStatus
    orig: OrderStatus | None
    if status_arg in (OrderStatus.READY.api_name, OrderStatus.READY):
        status, orig = base, None
    elif status_arg in (OrderStatus.BLOCKED.api_name, OrderStatus.BLOCKED):
        status, orig = OrderStatus.BLOCKED, base
    else:
        raise order_data_error(f"status must be READY or BLOCKED, got {args.get('status')!r}")
    parent = args.get("parent_workflow_instanceid")
    parent_id = None if parent is None else arg_id(parent, "parent_workflow_instanceid", code=_DATA)
    if external is not None:
        external = arg_text(external, "external_order_instanceid", max_len=240, code=_DATA)
    return NewOrder(
        staticdata=dict(static),
        dynamicdata=dict(dynamic),
        keys=keys,
        unique=unique,
        priority=check_priority(args.get("priority")),
        status=status,
        status_orig=orig,
        scheduled=scheduled,
        external_id=external,
        parent_id=parent_id,
        sensitive=sensitive.parse_order_arg(args.get("sensitive_data")),
    )


def create_order(
    target: ConnOrEngine,
    workflowid: int,
    staticdata: Mapping[str, Any] | None = None,
    *,
    events: EventSink | None = None,
    cipher: SensitiveCipher | None = None,
    **args: Any,
) -> int:
    """Create one order; returns its ``workflow_instanceid``. Arguments as in createOrder."""
    if staticdata is not None:
        args["staticdata"] = staticdata
    return create_orders(target, workflowid, [args], events=events, cipher=cipher)[0]


def create_orders(
    target: ConnOrEngine,
    workflowid: int,
    orders: Sequence[Mapping[str, Any]],
    *,
    events: EventSink | None = None,
    cipher: SensitiveCipher | None = None,
    subworkflow: bool = False,
    brief: WorkflowBrief | None = None,
    stamp: object = _NO_CHECK,
) -> list[int]:
    """Create several orders of one workflow in one transaction (all or none); orders with
    ``sensitive_data`` need the ``cipher`` of the sensitive-data-key; ``subworkflow``: children
    of a SUBWORKFLOW step (their parent is given in each order's fields).

    ``brief``: the workflow's brief when the caller has it (a cache), then ``stamp`` is the
    definitions stamp it was read under: the insert checks it in the same statement and raises
    :class:`~qorus_core.db.wfcache.StaleDefinitions` when it changed (roll back, look up
    again)."""
    if not orders:
        return []
    ts = now()
    with unit(target, events) as (conn, pending):
        if brief is None or brief.workflowid != workflowid:
            brief = workflow_brief(conn, workflowid)
        check = stamp is not _NO_CHECK
        try:
            new = [validate_order(brief, a, ts) for a in orders]
            if cipher is None and any(o.sensitive for o in new):
                raise sensitive.no_key_error()
            _check_parents(conn, new)
            _check_unique(conn, new)
        except QorusError:
            # refused for its keylist or name? not when the brief was stale (a cache)
            if check and wfcache.read_stamp(conn) != stamp:
                raise wfcache.StaleDefinitions(workflowid) from None
            raise
        wi = t.workflow_instance
        rows = [order_row(workflowid, o, ts, subworkflow=subworkflow) for o in new]
        returning: list[Any] = [wi.c.workflow_instanceid]
        if check:
            returning.append(wfcache.stamp_query())
        # the wake-up of the other nodes rides on the insert (no statement of its own)
        ready = any(o.status == OrderStatus.READY for o in new)
        wake = notify_column(conn, workflowid) if ready else None
        if wake is not None:
            returning.append(wake)
        try:
            result = conn.execute(
                insert(wi).returning(*returning, sort_by_parameter_order=True), rows
            ).all()
        except IntegrityError:
            if check:  # the workflow was there at the lookup: deleted since
                raise wfcache.StaleDefinitions(workflowid) from None
            raise
        if check and any(r[1] != stamp for r in result):
            raise wfcache.StaleDefinitions(workflowid)
        ids = [int(r[0]) for r in result]
        conn.execute(
            insert(t.order_instance),
            [
                {
                    "workflow_instanceid": i,
                    "external_order_instanceid": o.external_id,
                    "staticdata": dumps(o.staticdata),
                    "dynamicdata": dumps(o.dynamicdata),
                    "created": ts,
                    "modified": ts,
                }
                for i, o in zip(ids, new, strict=True)
            ],
        )
        for i, o in zip(ids, new, strict=True):
            if o.sensitive:
                assert cipher is not None
                sensitive.insert_entries(conn, cipher, i, o.sensitive)
        key_rows = [
            {
                "workflow_instanceid": i,
                "keyname": k,
                "value": v,
                "workflowid": workflowid,
                "created": ts,
            }
            for i, o in zip(ids, new, strict=True)
            for k, vals in o.keys.items()
            for v in vals
        ]
        if key_rows:
            conn.execute(insert(t.order_instance_keys), key_rows)
        unique_rows = [
            {"scope": s, "scope_value": sv, "keyname": k, "value": v, "workflow_instanceid": i}
            for i, o in zip(ids, new, strict=True)
            for s, sv, k, v in o.unique
        ]
        if unique_rows:
            try:
                conn.execute(insert(t.order_unique_keys), unique_rows)
            except IntegrityError:
                raise QorusError(
                    "a unique order key given is already taken", code="DUPLICATE-ORDER-KEY"
                ) from None
        trail = audit.current()
        if trail is not None and trail.wants("WORKFLOW-DATA-CREATED"):
            audit.write_many(
                conn,
                [
                    trail.row(
                        "WORKFLOW-DATA-CREATED",
                        workflowid=workflowid,
                        workflow_instanceid=i,
                        info1=(
                            f"status: {_status_name(o.status)} parent: {o.parent_id} "
                            f"subworkflow: {subworkflow} prio: {o.priority} "
                            f"externalid: {o.external_id} scheduled: {o.scheduled}"
                        ),
                    )
                    for i, o in zip(ids, new, strict=True)
                ],
            )
        for i, o in zip(ids, new, strict=True):
            pending.append(
                (
                    "WORKFLOW_DATA_SUBMITTED",
                    {
                        "name": brief.name,
                        "version": brief.version,
                        "workflowid": workflowid,
                        "workflow_instanceid": i,
                        "status": _status_name(o.status),
                    },
                )
            )
    return ids


def _status_name(code: str) -> str:
    return ORDER_STATUS_NAMES[code]


def _check_parents(conn: Connection, new: list[NewOrder]) -> None:
    parents = {o.parent_id for o in new if o.parent_id is not None}
    if not parents:
        return
    wi = t.workflow_instance
    found = set(
        conn.execute(
            select(wi.c.workflow_instanceid).where(wi.c.workflow_instanceid.in_(parents))
        ).scalars()
    )
    missing = sorted(parents - found)
    if missing:
        raise order_data_error(f"parent_workflow_instanceid {missing[0]} does not exist")


def _check_unique(conn: Connection, new: list[NewOrder]) -> None:
    wanted = [u for o in new for u in o.unique]
    if not wanted:
        return
    if len(set(wanted)) != len(wanted):
        raise QorusError("the same unique order key is given twice", code="DUPLICATE-ORDER-KEY")
    uk = t.order_unique_keys
    for chunk_start in range(0, len(wanted), 200):
        chunk = wanted[chunk_start : chunk_start + 200]
        row = conn.execute(
            select(uk.c.scope, uk.c.keyname, uk.c.value, uk.c.workflow_instanceid).where(
                tuple_(uk.c.scope, uk.c.scope_value, uk.c.keyname, uk.c.value).in_(chunk)
            )
        ).first()
        if row is not None:
            scope = {"G": "global", "N": "workflow-specific", "W": "workflow"}[row[0]]
            raise QorusError(
                f"{scope} unique key {row[1]}={row[2]!r} is already used by order {row[3]}",
                code="DUPLICATE-ORDER-KEY",
                info={"key": row[1], "value": row[2], "workflow_instanceid": int(row[3])},
            )
