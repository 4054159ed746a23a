"""Workflow operations: ``workflows`` and ``workflows/{id|name|name:version}``.

A workflow is named by its id, by its name (the latest version) or by ``name:version``. With
RBAC on, a user sees only the workflows of its interface groups: the list hides the others,
and operations on them are refused (AUTHORIZATION-ERROR).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from sqlalchemy.engine import Connection

from qorus_core.db import interfaces, order_batch, orders, orders_query, wfcache
from qorus_core.db.order_batch import PlainOrder
from qorus_core.db.refdata import now
from qorus_core.db.unit import after_commit
from qorus_core.db.wfdefs import find_workflow
from qorus_core.model import args as a
from qorus_core.model.errors import NotFoundError, OptionError, QorusError, ValidationError
from qorus_core.model.status import ORDER_STATUS_NAMES
from qorus_core.options import check_value, lookup
from qorus_server import audit
from qorus_server.api.registry import DECLINED, CallContext, operation
from qorus_server.api.wfcommon import (
    bad_data_is_400,
    check_visible,
    manager,
    readonly,
    resolve,
    search_args,
    sees,
    split_ref,
    workflow_ref,
)
from qorus_server.engine.instance import MODES
from qorus_server.engine.submitter import BatchFailed

#: the most execution instances one call may start, and the highest autostart
MAX_INSTANCES = 1000

#: system options a workflow may override with its own value (``setOptions``)
WORKFLOW_LEVEL_OPTIONS = frozenset(
    {
        "max-retries",
        "max-async-retries",
        "recover_delay",
        "async_delay",
        "detach-delay",
        "workflow-workers",
        "workflow-commit-slots",
    }
)


def _running(ctx: CallContext) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for info in manager(ctx).list_executions():
        out.setdefault(int(info["workflowid"]), []).append(info)
    return out


def workflow_label(ctx: CallContext, wfid: int) -> tuple[str, str]:
    with readonly(ctx) as conn:
        label = interfaces.workflow_label(conn, wfid)
    assert label is not None
    return label


# ---------------------------------------------------------------------- queries


@operation("workflows.list", rest=[("GET", "workflows", None)])
def list_workflows(ctx: CallContext) -> list[dict[str, Any]]:
    """Every visible workflow with its order counts by status and running instances."""
    with readonly(ctx) as conn:
        rows = orders_query.list_workflows(conn)
    test = sees(ctx)
    running = _running(ctx)
    out = []
    for wf in rows:
        if test is not None and not test(wf["workflowid"]):
            continue
        wf["exec_count"] = len(running.get(wf["workflowid"], []))
        out.append(wf)
    return out


@operation(
    "workflows.info",
    rest=[("GET", "workflows/{id}", None)],
    rpc="omq.system.get-workflow-metadata",
)
def workflow_info(ctx: CallContext, id: str, version: object = None) -> dict[str, Any]:
    """One workflow: definition, order counts by status, steps, keylist, options, instances."""
    wfid = resolve(ctx, id, version)
    with readonly(ctx) as conn:
        info = orders_query.workflow_info(conn, wfid)
    info["exec"] = _running(ctx).get(wfid, [])
    info["exec_count"] = len(info["exec"])
    return info


@operation("workflows.orders", rest=[("GET", "workflows/{id}/orders", None)])
def workflow_orders(ctx: CallContext, id: str, **filters: object) -> list[dict[str, Any]]:
    """The orders search (``GET orders``) limited to this workflow."""
    wfid = resolve(ctx, id, filters.pop("version", None))
    args = search_args(filters)
    args.pop("workflowid", None)
    with readonly(ctx) as conn, bad_data_is_400():
        return orders_query.search_orders(conn, workflowid=wfid, **args)


@operation("workflows.errors", rest=[("GET", "workflows/{id}/errors", None)])
def workflow_errors(ctx: CallContext, id: str, version: object = None) -> list[dict[str, Any]]:
    """The workflow's own error definitions (from its errors file)."""
    wfid = resolve(ctx, id, version)
    with readonly(ctx) as conn:
        return interfaces.workflow_errors(conn, wfid)


@operation("workflows.stepinfo", rest=[("GET", "workflows/{id}/stepinfo", None)])
def workflow_stepinfo(ctx: CallContext, id: str, version: object = None) -> list[dict[str, Any]]:
    """The steps of the workflow with their types, classes and predecessors."""
    wfid = resolve(ctx, id, version)
    with readonly(ctx) as conn:
        return interfaces.workflow_steps(conn, wfid)


# ---------------------------------------------------------------------- orders


def _create_order_fast(ctx: CallContext, args: dict[str, object]) -> Awaitable[Any] | None:
    """createOrder's shortcut on the event loop: a plain order of a workflow already looked
    up (cached brief), with no audit row to write, goes to the shared insert with no worker
    thread; anything else (or a refusal, which the handler explains) takes the handler."""
    wm = manager(ctx)
    fields = dict(args)
    id, name, version = (fields.pop(k, None) for k in ("id", "name", "version"))
    try:
        arg, ref = _named_ref(id, name, "createOrder")
        key = split_ref(ref, version, arg)
    except QorusError:
        return None
    plain = _plain(ctx, wm, wm.briefs.get(*key), ref, fields)
    if plain is None or wm.submitter is None:
        return None
    try:
        written = wm.submitter.submit_async(plain)
    except BatchFailed:
        return None
    return _created(ctx, wm, plain, written)


async def _created(
    ctx: CallContext, wm: Any, plain: PlainOrder, written: Awaitable[int | None]
) -> Any:
    try:
        wfiid = await written
    except BatchFailed:
        return DECLINED  # the handler creates it alone and reports its own error
    done = _written(ctx, wm, plain, wfiid)
    return DECLINED if done is None else done


def _plain(
    ctx: CallContext, wm: Any, hit: tuple[Any, str | None] | None, ref: str, fields: Any
) -> PlainOrder | None:
    """The order as one the shared insert may write: the workflow cached, visible to the
    caller (else 403), the order plain, no audit row to commit with it; else None."""
    if hit is None or wm.submitter is None or not _plain_allowed(ctx.server):
        return None
    check_visible(ctx, hit[0].workflowid, ref)
    return order_batch.plain_order(hit[0], hit[1], fields, now())


def _written(
    ctx: CallContext, wm: Any, plain: PlainOrder, wfiid: int | None
) -> dict[str, Any] | None:
    """The answer for an order the shared insert wrote, after its event and the wake-up;
    None when its definitions changed (the cache is emptied: look the workflow up again)."""
    if wfiid is None:
        wm.briefs.clear()
        return None
    server = ctx.server
    if server.events is not None:
        server.events.post(
            "WORKFLOW_DATA_SUBMITTED",
            {
                "name": plain.brief.name,
                "version": plain.brief.version,
                "workflowid": plain.workflowid,
                "workflow_instanceid": wfiid,
                "status": ORDER_STATUS_NAMES[plain.order.status],
            },
            caller="engine",
            safe=True,
        )
    wm.notify(plain.workflowid)
    return {"workflow_instanceid": wfiid}


@operation(
    "workflows.create-order",
    rest=[("POST", "workflows/{id}", "createOrder")],
    rpc="omq.system.create-order",
    permissions=("SUBMIT-ORDER",),
    audit=True,
    success_status=201,
    fast=_create_order_fast,
)
def create_order(
    ctx: CallContext,
    id: object = None,
    name: object = None,
    version: object = None,
    **fields: object,
) -> dict[str, Any]:
    """Create an order (201 ``{workflow_instanceid}``); the running instances wake at once.

    One connection and one transaction: the workflow's lookup, the order and its API-CALL
    audit row commit together (the events are posted after the commit)."""
    s = ctx.server
    wm = manager(ctx)
    arg, ref = _named_ref(id, name, "createOrder")
    key = split_ref(ref, version, arg)
    for attempt in range(_STALE_RETRIES + 1):
        hit = wm.briefs.get(*key) if attempt == 0 else None
        plain = _plain(ctx, wm, hit, ref, fields)
        if plain is not None and wm.submitter is not None:
            try:
                done = _written(ctx, wm, plain, wm.submitter.submit(plain))
            except BatchFailed:
                pass  # the ordinary transaction below reports its own error
            else:
                if done is None:
                    continue  # the definitions changed
                return done
        try:
            with after_commit(s.engine, s.events) as (conn, later):
                if hit is not None:
                    brief, stamp = hit
                else:
                    stamp = wfcache.read_stamp(conn)  # before the lookup: see wfcache
                    brief = orders.workflow_brief(conn, find_workflow(conn, *key))
                check_visible(ctx, brief.workflowid, str(ref))
                with bad_data_is_400():
                    wfiid = orders.create_orders(
                        conn,
                        brief.workflowid,
                        [fields],
                        events=later,
                        cipher=s.sensitive,
                        brief=brief,
                        stamp=stamp,
                    )
                ctx.audit_in(conn)
        except wfcache.StaleDefinitions:
            wm.briefs.clear()
            if attempt == _STALE_RETRIES:
                raise QorusError(
                    "workflow definitions keep changing; try again", code="WORKFLOW-ERROR"
                ) from None
            continue
        if hit is None:
            wm.briefs.put(*key, brief, stamp)
        wm.notify(brief.workflowid)
        return {"workflow_instanceid": wfiid[0]}
    raise AssertionError("unreachable")


def _plain_allowed(server: Any) -> bool:
    """Whether a plain order may be written by the shared insert: not when an audit row
    (API-CALL, WORKFLOW-DATA-CREATED) must commit with it in one transaction."""
    if server.auditor is None:
        return True
    return not (
        audit.enabled(server.options, "api") or audit.enabled(server.options, "workflow-data")
    )


#: createOrder's new lookups after the workflow definitions changed under it
_STALE_RETRIES = 3


def _named_ref(id: object, name: object, what: str) -> tuple[str, str]:
    refs = {n: workflow_ref(v, n) for n, v in (("id", id), ("name", name)) if v is not None}
    if len(refs) != 1:
        raise ValidationError(f"{what} needs the workflow: the path id or 'name', one of them")
    [(arg, ref)] = refs.items()
    return arg, ref


# ---------------------------------------------------------------------- one workflow


@operation(
    "workflows.start",
    rest=[("PUT", "workflows/{id}", "start")],
    rpc="omq.system.start-workflow",
    permissions=("START-WORKFLOW",),
    audit=True,
)
def start(
    ctx: CallContext,
    id: str,
    version: object = None,
    mode: object = "NORMAL",
    count: object = 1,
    options: object = None,
) -> dict[str, Any]:
    """Start execution instances (``count``, ``mode``); ``{name, version, ids, exec}``."""
    mode_name = a.arg_text(mode or "NORMAL", "mode", max_len=20).upper()
    if mode_name not in MODES:
        raise ValidationError(f"argument 'mode' must be {' or '.join(MODES)}, got {a.shown(mode)}")
    n = instances_arg(ctx, count, "count", minimum=1)
    values = None if options is None or options == "" else a.arg_hash(options, "options")
    wfid = resolve(ctx, id, version)
    wm = manager(ctx)
    wm.check_room(wfid, n)
    if values:
        _set_options(ctx, wfid, values)
    ids = [int(wm.start_workflow(wfid, None, mode_name)["executionID"]) for _ in range(n)]
    name, ver = workflow_label(ctx, wfid)
    return {
        "workflowid": wfid,
        "name": name,
        "version": ver,
        "ids": ids,
        "exec": _running(ctx).get(wfid, []),
    }


@operation(
    "workflows.stop",
    rest=[("PUT", "workflows/{id}", "stop")],
    rpc="omq.system.stop-workflow",
    permissions=("STOP-WORKFLOW",),
    audit=True,
)
def stop(ctx: CallContext, id: str, version: object = None) -> dict[str, Any]:
    """Stop every execution instance of the workflow; ``{count, ids, msg}``."""
    wfid = resolve(ctx, id, version)
    ids = manager(ctx).stop_workflow(wfid)
    return {"workflowid": wfid, "count": len(ids), "ids": ids, "msg": stopped_msg(len(ids))}


def stopped_msg(count: int) -> str:
    return (
        f"{count} workflow execution instance{'s' if count != 1 else ''} "
        f"{'have' if count != 1 else 'has'} been stopped"
    )


def _update_result(ctx: CallContext, wfid: int, info: str) -> dict[str, Any]:
    name, ver = workflow_label(ctx, wfid)
    return {"workflowid": wfid, "name": name, "version": ver, "info": f"{name} v{ver} {info}"}


@operation(
    "workflows.enable",
    rest=[("PUT", "workflows/{id}", "enable")],
    rpc="omq.system.enable-workflow",
    permissions=("WORKFLOW-EXEC-CONTROL",),
    audit=True,
)
def enable(ctx: CallContext, id: str, version: object = None) -> dict[str, Any]:
    """Enable the workflow (its autostart instances start)."""
    wfid = resolve(ctx, id, version)
    manager(ctx).enable(wfid)
    return _update_result(ctx, wfid, "is enabled")


@operation(
    "workflows.disable",
    rest=[("PUT", "workflows/{id}", "disable")],
    rpc="omq.system.disable-workflow",
    permissions=("WORKFLOW-EXEC-CONTROL",),
    audit=True,
)
def disable(ctx: CallContext, id: str, version: object = None) -> dict[str, Any]:
    """Disable the workflow (its instances stop; none can start)."""
    wfid = resolve(ctx, id, version)
    manager(ctx).disable(wfid)
    return _update_result(ctx, wfid, "is disabled")


@operation(
    "workflows.reset",
    rest=[("PUT", "workflows/{id}", "reset")],
    rpc="omq.system.reset-workflow",
    permissions=("RESET-WORKFLOW",),
    audit=True,
)
def reset(ctx: CallContext, id: str, version: object = None) -> str:
    """Reload the definition and recompile the code (no restart)."""
    wfid = resolve(ctx, id, version)
    res = manager(ctx).reset(wfid)
    return f"workflow {res['name']}/{res['version']} has been deleted from the cache"


def resolve_named(
    ctx: CallContext,
    id: object,
    name: object,
    version: object,
    what: str,
    conn: Connection | None = None,
) -> int:
    """The workflow of an order-creating call: the path ``id``, else the ``name`` argument;
    each given one must be well formed (looked up on ``conn`` when given)."""
    arg, ref = _named_ref(id, name, what)
    return resolve(ctx, ref, version, arg, conn)


def apply_autostart(ctx: CallContext, wfid: int, value: int) -> dict[str, Any]:
    if value < 0:
        raise QorusError(
            f"autostart cannot be negative (got {value})", code="WORKFLOW-SETAUTOSTART-ERROR"
        )
    wm = manager(ctx)
    before = len(_running(ctx).get(wfid, []))
    with readonly(ctx) as conn:
        old = interfaces.workflow_autostart(conn, wfid)
    res = wm.set_autostart(wfid, value)
    name, ver = workflow_label(ctx, wfid)
    return {
        "workflowid": wfid,
        "updated": old != value,
        "autostart": value,
        "info": f"{name} v{ver} ({wfid}) autostart = {value}",
        "started": int(res["running"]) - before,
    }


@operation(
    "workflows.set-autostart",
    rest=[("PUT", "workflows/{id}", "setAutostart")],
    rpc="omq.system.set-workflow-autostart",
    permissions=("WORKFLOW-EXEC-CONTROL",),
    audit=True,
)
def set_autostart(
    ctx: CallContext, id: str, autostart: object = None, version: object = None
) -> dict[str, Any]:
    """Store a new autostart count and start or stop instances to match it."""
    value = instances_arg(ctx, autostart, "autostart", minimum=0)
    return apply_autostart(ctx, resolve(ctx, id, version), value)


def instances_arg(ctx: CallContext, value: object, name: str, minimum: int) -> int:
    """A number of execution instances: within ``workflow-max-instances`` of this node."""
    limit = min(MAX_INSTANCES, int(ctx.server.options.get("workflow-max-instances")))
    try:
        return a.arg_int(value, name, minimum=minimum, maximum=limit)
    except ValidationError as exc:
        raise ValidationError(f"{exc.desc}: workflow-max-instances ({limit})") from None


def _current_autostart(ctx: CallContext, wfid: int) -> int:
    with readonly(ctx) as conn:
        value = interfaces.workflow_autostart(conn, wfid)
    if value is None:  # deleted since it was resolved
        raise NotFoundError(f"workflow id {wfid} does not exist", code="WORKFLOW-ERROR")
    return int(value)


@operation(
    "workflows.inc-autostart",
    rest=[("PUT", "workflows/{id}", "incAutostart")],
    permissions=("WORKFLOW-EXEC-CONTROL",),
    audit=True,
)
def inc_autostart(ctx: CallContext, id: str, version: object = None) -> dict[str, Any]:
    """Autostart plus one (one more instance starts)."""
    wfid = resolve(ctx, id, version)
    return apply_autostart(ctx, wfid, _current_autostart(ctx, wfid) + 1)


@operation(
    "workflows.dec-autostart",
    rest=[("PUT", "workflows/{id}", "decAutostart")],
    permissions=("WORKFLOW-EXEC-CONTROL",),
    audit=True,
)
def dec_autostart(ctx: CallContext, id: str, version: object = None) -> dict[str, Any]:
    """Autostart minus one (one instance stops); refused at zero."""
    wfid = resolve(ctx, id, version)
    cur = _current_autostart(ctx, wfid)
    if cur == 0:
        raise QorusError(
            f"autostart of workflow {id} is already 0", code="WORKFLOW-SETAUTOSTART-ERROR"
        )
    return apply_autostart(ctx, wfid, cur - 1)


def _set_options(ctx: CallContext, wfid: int, values: dict[str, Any]) -> dict[str, Any]:
    engine = ctx.server.engine
    with engine.begin() as conn:
        stored = interfaces.workflow_options(conn, wfid)
        if stored is None:
            raise NotFoundError(f"workflow id {wfid} does not exist", code="WORKFLOW-ERROR")
        current: dict[str, Any] = stored
        for name, value in values.items():
            if name in current:
                entry = current[name] if isinstance(current[name], dict) else {}
                current[name] = {**entry, "value": value}
                continue
            try:
                spec = lookup(name)
            except OptionError:
                spec = None
            if spec is None or spec.name not in WORKFLOW_LEVEL_OPTIONS:
                raise QorusError(
                    f"{name!r} is not an option of this workflow, nor a system option a "
                    f"workflow may override ({', '.join(sorted(WORKFLOW_LEVEL_OPTIONS))})",
                    code="WORKFLOW-OPTION-ERROR",
                )
            try:
                checked = check_value(spec, value)
            except OptionError as exc:
                raise ValidationError(exc.desc, code="WORKFLOW-OPTION-ERROR") from None
            current[spec.name] = {"desc": spec.desc, "value": checked}
        interfaces.store_workflow_options(conn, wfid, current)
    manager(ctx).reset(wfid)
    return {k: (v.get("value") if isinstance(v, dict) else v) for k, v in current.items()}


@operation(
    "workflows.set-options",
    rest=[("PUT", "workflows/{id}", "setOptions")],
    permissions=("WORKFLOW-OPTION-CONTROL",),
    audit=True,
)
def set_options(
    ctx: CallContext, id: str, options: object = None, version: object = None
) -> dict[str, Any]:
    """Set persistent workflow options (``options`` hash); the options in force."""
    if options is None or options == "":
        raise ValidationError("missing argument 'options' (a hash of option = value)")
    values = a.arg_hash(options, "options")
    if not values:
        raise ValidationError("argument 'options' is empty (a hash of option = value)")
    wfid = resolve(ctx, id, version)
    return _set_options(ctx, wfid, values)
