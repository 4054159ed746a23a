"""NORMAL steps: ``primary()`` runs the work; ``validation()`` decides after a possible run."""

from __future__ import annotations

from typing import Any

from qorus_core.model.status import ORDER_STATUS_NAMES
from qorus_core.model.status import OrderStatus as S
from qorus_server.engine.steptypes.registry import StepCall, StepType, register
from qorus_server.userapi.context import PendingError
from qorus_server.userapi.wf import QorusNormalStep

_VALIDATION_RESULTS = {"COMPLETE": S.COMPLETE, "ERROR": S.ERROR, "RETRY": S.RETRY}


def run(obj: Any, call: StepCall) -> None:
    obj.primary()


def recover(obj: Any, call: StepCall) -> bool:
    """``validation()``: COMPLETE skips ``primary()``, ERROR fails the step, RETRY (or None)
    runs it again."""
    ctx = call.ctx
    result = obj.validation()
    code = _VALIDATION_RESULTS.get(str(result).upper()) if result is not None else S.RETRY
    if code is None:
        raise ValueError(f"validation() returned {result!r}")
    call.logger.info(
        "order %d step %s: validation() returned %s",
        ctx.workflow_instanceid,
        call.step.name,
        ORDER_STATUS_NAMES[code],
    )
    if code == S.COMPLETE:
        return False
    if code == S.ERROR:
        if not ctx.errors:
            ctx.errors.append(
                PendingError("VALIDATION-ERROR", "validation() returned ERROR", None, None)
            )
        return False
    return True


NORMAL = register(StepType("NORMAL", QorusNormalStep, run, recover))
