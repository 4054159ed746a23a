"""ASYNC steps: ``primary()`` submits a key on the step's queue and the step waits
(ASYNC-WAITING) until data arrive for that key from outside; then ``end(data)`` decides.

While the step waits, its order belongs to no session. Data for the key (or a cancel) wake the
order at once; without them the order comes back after ``async_delay`` seconds and the step's
``validation(key)`` says what to do: COMPLETE, ERROR, ASYNC-WAITING (wait again, at most
``max-async-retries`` times) or RETRY (run ``primary()`` again with a new key).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from qorus_core.db import waits
from qorus_core.db.refdata import now
from qorus_core.model.status import OrderStatus as S
from qorus_server.engine.steptypes.normal import validation_status
from qorus_server.engine.steptypes.registry import StepCall, StepType, register
from qorus_server.userapi.context import PendingError, StepWait
from qorus_server.userapi.wf import QorusAsyncArrayStep, QorusAsyncStep

_RESULTS = {
    "COMPLETE": S.COMPLETE,
    "ERROR": S.ERROR,
    "RETRY": S.RETRY,
    "ASYNC-WAITING": S.ASYNC_WAITING,
}


def _delay(call: StepCall) -> int:
    return int((call.settings or {}).get("async_delay", 1200))


def _error(call: StepCall, err: str, desc: str) -> None:
    call.ctx.errors.append(PendingError(err, desc, None, None))


def run(obj: Any, call: StepCall) -> None:
    ctx = call.ctx
    obj.primary(*call.args)
    if ctx.errors:
        return
    if ctx.wait is None:
        _error(
            call,
            "ASYNC-NO-KEY-SUBMITTED",
            f"asynchronous step {call.step.name} called neither submitAsyncKey() nor "
            "skipAsyncStep()",
        )
    elif ctx.wait.kind == "async":
        ctx.wait.until = now() + timedelta(seconds=_delay(call))


def _entry(call: StepCall) -> waits.QueueEntry | None:
    assert call.db is not None
    ctx = call.ctx
    with call.db.tx() as conn:
        return waits.queue_entry(conn, ctx.workflow_instanceid, call.step.stepid, ctx.ind)


def _end(obj: Any, call: StepCall, entry: waits.QueueEntry) -> None:
    call.logger.info(
        "order %d step %s: data received for key %r; running end()",
        call.ctx.workflow_instanceid,
        call.step.name,
        entry.queuekey,
    )
    obj.end(entry.data, *call.args)


def _validate(obj: Any, call: StepCall, entry: waits.QueueEntry | None) -> bool:
    """Run ``validation(key)``; True to run ``primary()`` again."""
    ctx = call.ctx
    key = entry.queuekey if entry is not None else None
    result = obj.validation(key, *call.args)
    code = validation_status(result, _RESULTS)
    if code is None:
        _error(call, "INVALID-ASYNC-VALIDATION-STATUS", f"validation() returned {result!r}")
        return False
    call.logger.info(
        "order %d step %s: validation(%r) returned %s",
        ctx.workflow_instanceid,
        call.step.name,
        key,
        code.api_name if isinstance(code, S) else S(code).api_name,
    )
    if code == S.COMPLETE:
        ctx.wait = StepWait("close", S.COMPLETE)
        return False
    if code == S.ERROR:
        if not ctx.errors:
            _error(call, "VALIDATION-ERROR", "validation() returned ERROR")
        return False
    if code == S.ASYNC_WAITING:
        if entry is None or entry.status != waits.QS_WAITING:
            _error(
                call,
                "INVALID-ASYNC-VALIDATION-STATUS",
                "validation() returned ASYNC-WAITING but no queue entry is waiting",
            )
            return False
        ctx.wait = StepWait(
            "rewait", S.ASYNC_WAITING, until=now() + timedelta(seconds=_delay(call))
        )
        return False
    return True


def recover(obj: Any, call: StepCall) -> bool:
    """The step may have run before: data already received run ``end()``; otherwise
    ``validation(key)`` decides."""
    entry = _entry(call)
    if entry is not None and entry.status == waits.QS_RECEIVED:
        _end(obj, call, entry)
        return False
    return _validate(obj, call, entry)


def resume(obj: Any, call: StepCall) -> bool:
    """The order came back while the step waits: data run ``end()``; a wait not over yet goes
    on; a wait over (``async_delay`` passed, the entry canceled, or the order retried) runs
    ``validation()``."""
    ctx = call.ctx
    entry = _entry(call)
    if entry is None:
        return True
    if entry.status == waits.QS_RECEIVED:
        _end(obj, call, entry)
        return False
    until: datetime = entry.modified + timedelta(seconds=_delay(call))
    # a retried order (call.validate) asks validation() at once
    if entry.status == waits.QS_WAITING and until > now() and not call.validate:
        ctx.wait = StepWait("stay", S.ASYNC_WAITING, until=until)
        return False
    limit = int((call.settings or {}).get("max-async-retries", 20))
    if ctx.step_retries >= limit:
        _error(
            call,
            "MAX-ASYNC-RETRIES",
            f"the step waited for key {entry.queuekey!r} {limit} times (max-async-retries)",
        )
        return False
    ctx.step_retries += 1
    return _validate(obj, call, entry)


def commit(conn: Connection, call: StepCall, wait: StepWait, ts: Any) -> str:
    ctx = call.ctx
    wfiid, stepid, ind = ctx.workflow_instanceid, call.step.stepid, ctx.ind
    if wait.kind == "async":
        assert wait.refid is not None and wait.key is not None
        waits.submit_key(conn, wait.refid, wfiid, stepid, ind, wait.key, ts)
    elif wait.kind == "rewait":
        waits.rewait(conn, wfiid, stepid, ind, ts)
    elif wait.kind in ("close", "skip"):
        waits.close_waiting(conn, wfiid, stepid, ind, ts)
    return wait.status


ASYNC = register(StepType("ASYNC", QorusAsyncStep, run, recover, resume=resume, commit=commit))
ASYNC_ARRAY = register(
    StepType("ASYNC", QorusAsyncArrayStep, run, recover, array=True, resume=resume, commit=commit)
)
