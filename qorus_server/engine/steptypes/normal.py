"""NORMAL steps: ``primary()`` runs the work; ``validation()`` decides after a possible run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qorus_core.model.status import ORDER_STATUS_NAMES
from qorus_core.model.status import OrderStatus as S
from qorus_server.engine.steptypes.registry import StepCall, StepType, register
from qorus_server.userapi.context import PendingError
from qorus_server.userapi.wf import QorusNormalArrayStep, QorusNormalStep

_VALIDATION_RESULTS = {"COMPLETE": S.COMPLETE, "ERROR": S.ERROR, "RETRY": S.RETRY}


def run(obj: Any, call: StepCall) -> None:
    obj.primary(*call.args)


def validation_status(result: object, allowed: Mapping[str, str]) -> str | None:
    """The status code a ``validation()`` result names (a status name from ``allowed`` or its
    code; nothing means RETRY), or None when it names none of them."""
    if result is None:
        return S.RETRY
    text = str(result)
    return allowed.get(text.upper()) or (text if text in allowed.values() else None)


def recover(obj: Any, call: StepCall) -> bool:
    """``validation()``: COMPLETE skips ``primary()``, ERROR fails the step, RETRY (or None)
    runs it again."""
    ctx = call.ctx
    result = obj.validation(*call.args)
    code = validation_status(result, _VALIDATION_RESULTS)
    if code is None:
        ctx.errors.append(
            PendingError(
                "INVALID-VALIDATION-STATUS", f"validation() returned {result!r}", None, None
            )
        )
        return False
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
NORMAL_ARRAY = register(StepType("NORMAL", QorusNormalArrayStep, run, recover, array=True))
