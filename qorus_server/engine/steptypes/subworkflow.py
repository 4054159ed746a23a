"""SUBWORKFLOW steps: ``primary()`` creates a child order (``bindSubworkflow``) and the step
waits (WAITING) until the child is COMPLETE. A child in ERROR (or CANCELED) puts the step in
ERROR; retrying the parent retries the child; a child completing later wakes the parent.

The child and its link to the step commit together before the step's own commit, so after a
crash the step finds its child instead of creating a second one."""

from __future__ import annotations

from typing import Any

from qorus_core.db import waits
from qorus_core.model.status import ORDER_STATUS_NAMES
from qorus_core.model.status import OrderStatus as S
from qorus_server.engine.steptypes.registry import StepCall, StepType, register
from qorus_server.userapi.context import PendingError, StepWait
from qorus_server.userapi.wf import QorusSubworkflowArrayStep, QorusSubworkflowStep


def run(obj: Any, call: StepCall) -> None:
    ctx = call.ctx
    obj.primary(*call.args)
    if not ctx.errors and ctx.wait is None:
        ctx.errors.append(
            PendingError(
                "NO-SUBWORKFLOW-STARTED",
                f"sub-workflow step {call.step.name} called neither bindSubworkflow() nor "
                "skipSubworkflow()",
                None,
                None,
            )
        )


def resume(obj: Any, call: StepCall) -> bool:
    """Look at the bound child: COMPLETE completes the step, ERROR or CANCELED fails it (a
    retried parent retries the child instead), anything else waits on; no child: run
    ``primary()``."""
    assert call.db is not None
    ctx = call.ctx
    with call.db.tx() as conn:
        child = waits.child_of(conn, ctx.workflow_instanceid, call.step.stepid, ctx.ind)
        if child is None:
            return True
        childid, status = child
        woken = None
        if status == S.ERROR and call.prev_status == S.RETRY:
            woken = waits.retry_child(conn, childid)
            status = S.RETRY
    if woken is not None:
        call.logger.info(
            "order %d step %s: child order %d set to RETRY",
            ctx.workflow_instanceid,
            call.step.name,
            childid,
        )
        if ctx.runtime.on_new_order is not None:
            ctx.runtime.on_new_order(woken)
    if status == S.COMPLETE:
        return False
    if status in (S.ERROR, S.CANCELED):
        ctx.errors.append(
            PendingError(
                "SUBWORKFLOW-ERROR",
                f"child order {childid} is {ORDER_STATUS_NAMES[status]}",
                {"subworkflow_instanceid": childid},
                None,
            )
        )
        return False
    ctx.wait = StepWait("stay", S.WAITING, child=childid)
    return False


SUBWORKFLOW = register(StepType("SUBWORKFLOW", QorusSubworkflowStep, run, resume, resume=resume))
SUBWORKFLOW_ARRAY = register(
    StepType("SUBWORKFLOW", QorusSubworkflowArrayStep, run, resume, array=True, resume=resume)
)
