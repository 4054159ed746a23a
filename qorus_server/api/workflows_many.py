"""Operations on many workflows at once: ``PUT workflows?action=start|stop|enable|disable|
reset|setAutostart|resetAll`` (``ids``: a list, else every workflow the caller sees); each
workflow is handled as the one-workflow operation of :mod:`qorus_server.api.workflows` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qorus_core.model import args as a
from qorus_core.model.errors import QorusError
from qorus_server.api.registry import CallContext, operation
from qorus_server.api.wfcommon import manager, resolve, sees, workflow_ref
from qorus_server.api.workflows import (
    apply_autostart,
    instances_arg,
    stopped_msg,
    workflow_label,
)


def _each(
    ctx: CallContext, ids: object, what: str, fn: Callable[[int], tuple[int, Any]], ok_key: str
) -> tuple[int, list[dict[str, Any]]]:
    """Apply ``fn(wfid)`` to each workflow of ``ids``; per workflow a result or the error."""
    details = []
    total = 0
    refs = [workflow_ref(r, "ids") for r in a.arg_list(ids, "ids")]  # all parsed first
    for arg in refs:
        try:
            wfid = resolve(ctx, arg, arg="ids")
            n, info = fn(wfid)
        except QorusError as exc:
            details.append({"arg": arg, ok_key: False, "info": exc.desc, "err": exc.code})
            continue
        name, ver = workflow_label(ctx, wfid)
        total += n
        details.append(
            {"arg": arg, ok_key: True, "workflowid": wfid, "name": name, "version": ver, **info}
        )
    return total, details


@operation(
    "workflows.start-many",
    rest=[("PUT", "workflows", "start")],
    permissions=("START-WORKFLOW",),
    audit=True,
)
def start_many(ctx: CallContext, ids: object = None) -> list[dict[str, Any]]:
    """Start one execution instance of each workflow in ``ids``."""

    def one(wfid: int) -> tuple[int, dict[str, Any]]:
        execid = int(manager(ctx).start_workflow(wfid)["executionID"])
        return 1, {"exec_id": execid, "info": f"started with execution ID {execid}"}

    return _each(ctx, ids, "start", one, "started")[1]


@operation(
    "workflows.stop-many",
    rest=[("PUT", "workflows", "stop")],
    permissions=("STOP-WORKFLOW",),
    audit=True,
)
def stop_many(ctx: CallContext, ids: object = None) -> dict[str, Any]:
    """Stop the execution instances of each workflow in ``ids``."""

    def one(wfid: int) -> tuple[int, dict[str, Any]]:
        stopped = manager(ctx).stop_workflow(wfid)
        return len(stopped), {"count": len(stopped), "ids": stopped}

    count, details = _each(ctx, ids, "stop", one, "stopped")
    return {"count": count, "details": details, "msg": stopped_msg(count)}


@operation(
    "workflows.enable-many",
    rest=[("PUT", "workflows", "enable")],
    permissions=("WORKFLOW-EXEC-CONTROL",),
    audit=True,
)
def enable_many(ctx: CallContext, ids: object = None) -> list[dict[str, Any]]:
    """Enable each workflow in ``ids``."""

    def one(wfid: int) -> tuple[int, dict[str, Any]]:
        manager(ctx).enable(wfid)
        return 1, {"info": "enabled"}

    return _each(ctx, ids, "enable", one, "enabled")[1]


@operation(
    "workflows.disable-many",
    rest=[("PUT", "workflows", "disable")],
    permissions=("WORKFLOW-EXEC-CONTROL",),
    audit=True,
)
def disable_many(ctx: CallContext, ids: object = None) -> list[dict[str, Any]]:
    """Disable each workflow in ``ids``."""

    def one(wfid: int) -> tuple[int, dict[str, Any]]:
        manager(ctx).disable(wfid)
        return 1, {"info": "disabled"}

    return _each(ctx, ids, "disable", one, "disabled")[1]


@operation(
    "workflows.reset-many",
    rest=[("PUT", "workflows", "reset")],
    permissions=("RESET-WORKFLOW",),
    audit=True,
)
def reset_many(ctx: CallContext, ids: object = None) -> list[dict[str, Any]]:
    """Reset each workflow in ``ids``."""

    def one(wfid: int) -> tuple[int, dict[str, Any]]:
        res = manager(ctx).reset(wfid)
        return 1, {"count": res["reset"], "info": "reset"}

    return _each(ctx, ids, "reset", one, "reset")[1]


@operation(
    "workflows.set-autostart-many",
    rest=[("PUT", "workflows", "setAutostart")],
    permissions=("WORKFLOW-EXEC-CONTROL",),
    audit=True,
)
def set_autostart_many(
    ctx: CallContext, ids: object = None, autostart: object = None
) -> list[dict[str, Any]]:
    """Set the autostart of each workflow in ``ids``."""
    value = instances_arg(ctx, autostart, "autostart", minimum=0)

    def one(wfid: int) -> tuple[int, dict[str, Any]]:
        return 1, apply_autostart(ctx, wfid, value)

    return _each(ctx, ids, "setAutostart", one, "updated")[1]


@operation(
    "workflows.reset-all",
    rest=[("PUT", "workflows", "resetAll")],
    rpc="omq.system.reset-all-workflows",
    permissions=("RESET-WORKFLOW",),
    audit=True,
)
def reset_all(ctx: CallContext) -> list[dict[str, Any]]:
    """Reset every cached or running workflow the caller sees."""
    test = sees(ctx)
    wm = manager(ctx)
    if test is None:
        res = wm.reset_all()
    else:
        wanted = {i["workflowid"] for i in wm.list_executions()}
        assert wm.codecache is not None
        wanted |= set(wm.codecache.workflow_ids())
        res = [wm.reset(w) for w in sorted(wanted) if test(w)]
    return [
        {
            "workflowid": r["workflowid"],
            "name": r["name"],
            "version": r["version"],
            "count": r["reset"],
        }
        for r in res
    ]
