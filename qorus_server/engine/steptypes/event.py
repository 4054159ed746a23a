"""EVENT steps: ``primary()`` binds the step to a key of its event type and the step waits
(EVENT-WAITING) until that event is posted; an event posted before the bind completes the step
at once (see :func:`qorus_core.db.waits.bind_event`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from qorus_core.db import waits
from qorus_core.model.status import OrderStatus as S
from qorus_server.engine.steptypes.registry import StepCall, StepType, register
from qorus_server.userapi.context import PendingError, StepWait
from qorus_server.userapi.wf import QorusEventArrayStep, QorusEventStep


def run(obj: Any, call: StepCall) -> None:
    ctx = call.ctx
    obj.primary(*call.args)
    if not ctx.errors and ctx.wait is None:
        ctx.errors.append(
            PendingError(
                "NO-EVENT-BOUND",
                f"event step {call.step.name} called neither bindEvent(), bindEventUnposted() "
                "nor skipEvent()",
                None,
                None,
            )
        )


def _bound(call: StepCall) -> tuple[int, str, bool] | None:
    assert call.db is not None
    ctx = call.ctx
    with call.db.tx() as conn:
        return waits.step_event(conn, ctx.workflow_instanceid, call.step.stepid, ctx.ind)


def resume(obj: Any, call: StepCall) -> bool:
    """Posted: the step completes; not yet: it waits on; never bound: run ``primary()``."""
    bound = _bound(call)
    if bound is None:
        return True
    if not bound[2]:
        call.ctx.wait = StepWait("stay", S.EVENT_WAITING)
    return False


def commit(conn: Connection, call: StepCall, wait: StepWait, ts: Any) -> str:
    if wait.kind != "event":
        return wait.status
    ctx = call.ctx
    assert wait.refid is not None and wait.key is not None
    posted = waits.bind_event(
        conn, wait.refid, wait.key, ctx.workflow_instanceid, call.step.stepid, ctx.ind, ts
    )
    return S.COMPLETE if posted else S.EVENT_WAITING


EVENT = register(StepType("EVENT", QorusEventStep, run, resume, resume=resume, commit=commit))
EVENT_ARRAY = register(
    StepType("EVENT", QorusEventArrayStep, run, resume, array=True, resume=resume, commit=commit)
)
