"""Workflow execution instances: ``exec`` and ``exec/{id}`` (what ``ostop`` calls)."""

from __future__ import annotations

from typing import Any

from qorus_core.model import args as a
from qorus_core.model.errors import QorusError
from qorus_server.api.registry import CallContext, operation
from qorus_server.api.wfcommon import check_visible, manager, resolve, sees, workflow_ref
from qorus_server.api.workflows import stopped_msg


def _visible(ctx: CallContext) -> list[dict[str, Any]]:
    test = sees(ctx)
    return [i for i in manager(ctx).list_executions() if test is None or test(int(i["workflowid"]))]


@operation("exec.list", rest=[("GET", "exec", None)], rpc="omq.system.get-workflow-info")
def list_exec(ctx: CallContext) -> list[dict[str, Any]]:
    """The running execution instances (of the workflows the caller sees)."""
    return _visible(ctx)


@operation("exec.info", rest=[("GET", "exec/{id}", None)])
def exec_info(ctx: CallContext, id: object) -> dict[str, Any]:
    """One execution instance (404 when it does not run)."""
    info = manager(ctx).execution(a.arg_id(id, "id"))
    check_visible(ctx, int(info["workflowid"]), f"{info['name']} v{info['version']}")
    return info


def _stop_one(ctx: CallContext, execid: int, stopped: dict[str, list[int]]) -> None:
    info = manager(ctx).execution(execid)
    check_visible(ctx, int(info["workflowid"]), f"{info['name']} v{info['version']}")
    manager(ctx).stop_execution(execid)
    stopped.setdefault(f"{info['name']} v{info['version']}", []).append(execid)


@operation(
    "exec.stop",
    rest=[("PUT", "exec/{id}", "stop")],
    rpc="omq.system.stop-workflow-instance",
    permissions=("STOP-WORKFLOW",),
    audit=True,
)
def stop(ctx: CallContext, id: object) -> str:
    """Stop one execution instance."""
    execid = a.arg_id(id, "id")
    _stop_one(ctx, execid, {})
    return f"workflow execution instance with ID {execid} has been stopped"


@operation(
    "exec.stop-many",
    rest=[("PUT", "exec", "stopMany")],
    permissions=("STOP-WORKFLOW",),
    audit=True,
)
def stop_many(ctx: CallContext, args: object = None) -> dict[str, Any]:
    """Stop execution instances by id, or every instance of workflows by ``NAME[:VERSION]``."""
    stopped: dict[str, list[int]] = {}
    refs = [workflow_ref(r, "args") for r in a.arg_list(args, "args")]  # all parsed first
    for text in refs:
        if text.isascii() and text.isdigit():
            _stop_one(ctx, int(text), stopped)
            continue
        name, _, version = text.partition(":")
        if version:
            wfids = [resolve(ctx, name, version, "args")]
        else:  # every version of the name
            wfids = sorted({int(i["workflowid"]) for i in _visible(ctx) if i["name"] == name}) or [
                resolve(ctx, name, arg="args")
            ]
        for wfid in wfids:
            for i in manager(ctx).list_executions():
                if int(i["workflowid"]) == wfid:
                    _stop_one(ctx, int(i["executionID"]), stopped)
    count = sum(len(v) for v in stopped.values())
    return {"count": count, "workflows": stopped, "msg": stopped_msg(count)}


@operation(
    "exec.stop-all",
    rest=[("PUT", "exec", "stopAll"), ("PUT", "workflows", "stopAll")],
    rpc="omq.system.stop-all-workflows",
    permissions=("STOP-WORKFLOW",),
    audit=True,
)
def stop_all(ctx: CallContext) -> dict[str, Any]:
    """Stop every execution instance (of the workflows the caller sees)."""
    stopped: dict[str, list[int]] = {}
    for info in _visible(ctx):
        try:
            _stop_one(ctx, int(info["executionID"]), stopped)
        except QorusError:  # stopped meanwhile
            continue
    count = sum(len(v) for v in stopped.values())
    return {"count": count, "workflows": stopped, "msg": stopped_msg(count)}
