"""The ``wf`` module of interface code: step base classes and the workflow class.

Real Qorus step files read ``from wf import QorusNormalStep`` or ``class S(wf.QorusNormalStep)``;
both work because the engine registers this module as ``wf`` in ``sys.modules``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qorus_core.db import waits
from qorus_core.db.orders import create_orders
from qorus_core.db.unit import after_commit
from qorus_core.db.wfdefs import find_workflow
from qorus_core.model.errors import QorusError
from qorus_core.model.status import OrderStatus as S

from . import context, omq
from .context import StepWait
from .wfapi import WorkflowApi


class QorusStepBase:
    """What every step class shares: the WorkflowApi helpers as methods, like in Qorus."""

    def __getattr__(self, name: str) -> Any:
        # Qorus step objects expose the workflow API as methods (self.getStaticData() ...)
        if not name.startswith("_") and hasattr(WorkflowApi, name):
            return getattr(WorkflowApi, name)
        raise AttributeError(name)


class QorusNormalStep(QorusStepBase):
    """A NORMAL step: ``primary()`` does the work; ``validation()`` decides after a retry or a
    crash whether the work was already done (COMPLETE), must be redone (RETRY) or failed."""

    def primary(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not define primary()")

    def validation(self) -> str:
        return omq.StatRetry


class QorusNormalArrayStep(QorusStepBase):
    """A NORMAL array step: runs once per element that ``array()`` returns."""

    def array(self) -> list[Any]:
        raise NotImplementedError(f"{type(self).__name__} does not define array()")

    def primary(self, array_arg: object) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not define primary()")

    def validation(self, array_arg: object) -> str:
        return omq.StatRetry


def _step(kind: str, call: str) -> context.OrderContext:
    """The running step's context, refused unless it is a ``kind`` step that has not bound or
    skipped its wait yet."""
    ctx = context.require()
    if ctx.steptype != kind:
        raise QorusError(
            f"{call}() can only be called in a {kind} step ({ctx.stepname} is {ctx.steptype})",
            code=_WRONG_STEP[kind],
        )
    if ctx.wait is not None:
        raise QorusError(
            f"{call}() called after the step already bound or skipped its wait",
            code="INVALID-FUNCTION-CALL" if kind == "ASYNC" else _WRONG_STEP[kind],
        )
    return ctx


_WRONG_STEP = {
    "ASYNC": "ASYNC-STEP-ERROR",
    "EVENT": "EVENT-STEP-ERROR",
    "SUBWORKFLOW": "SUBWORKFLOW-ERROR",
}


def _key(value: object, what: str) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        raise QorusError(f"{what} must be a non-empty string", code="INVALID-KEY")
    key = str(value)
    if len(key) > 240:
        raise QorusError(f"{what} is longer than 240 characters", code="INVALID-KEY")
    return key


class QorusAsyncStep(QorusStepBase):
    """An ASYNC step: ``primary()`` calls ``submitAsyncKey(key)`` (or ``skipAsyncStep()``); the
    step waits until data for the key arrive, then ``end(data)`` runs (raise or call
    ``stepError`` there to fail the step). ``validation(async_key)`` decides after a crash or
    when ``async_delay`` passed without data."""

    def primary(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not define primary()")

    def validation(self, async_key: str | None) -> str:
        return omq.StatRetry

    def end(self, queue_data: object) -> None:
        return None

    @staticmethod
    def submitAsyncKey(key: str) -> None:
        ctx = _step("ASYNC", "submitAsyncKey")
        text = _key(key, "the async key")
        if ctx.queueid is None:
            raise QorusError(f"step {ctx.stepname} has no queue", code="ASYNC-STEP-ERROR")
        with ctx.runtime.engine.connect() as conn:
            if waits.key_taken(conn, ctx.queueid, text):
                raise QorusError(
                    f"key {text!r} is already in use on the step's queue", code="DUPLICATE-KEY"
                )
        ctx.wait = StepWait("async", S.ASYNC_WAITING, key=text, refid=ctx.queueid)

    @staticmethod
    def skipAsyncStep() -> None:
        ctx = _step("ASYNC", "skipAsyncStep")
        ctx.wait = StepWait("skip", S.COMPLETE)


class QorusAsyncArrayStep(QorusAsyncStep):
    def array(self) -> list[Any]:
        raise NotImplementedError(f"{type(self).__name__} does not define array()")


class QorusSubworkflowStep(QorusStepBase):
    """A SUBWORKFLOW step: ``primary()`` calls ``bindSubworkflow(wf, order)`` (or
    ``skipSubworkflow()``); the step waits until the child order is COMPLETE."""

    def primary(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not define primary()")

    @staticmethod
    def bindSubworkflow(wf: object, order: object) -> dict[str, object]:
        """Create the child order (``wf``: ``{name, version}`` or a name; ``order``: the
        createOrder fields); ``{workflow_instanceid}`` of the child."""
        ctx = _step("SUBWORKFLOW", "bindSubworkflow")
        if isinstance(wf, str):
            name, version = wf, None
        elif isinstance(wf, Mapping) and wf.get("name"):
            name, version = str(wf["name"]), wf.get("version")
        else:
            raise QorusError("workflow name not passed in workflow hash", code="SUBWORKFLOW-ERROR")
        if not isinstance(order, Mapping):
            raise QorusError("the order argument must be a hash", code="SUBWORKFLOW-ERROR")
        rt = ctx.runtime
        fields = dict(order)
        fields["parent_workflow_instanceid"] = ctx.workflow_instanceid
        with after_commit(rt.engine, rt.events) as (conn, later):
            if waits.child_of(conn, ctx.workflow_instanceid, ctx.stepid, ctx.ind) is not None:
                raise QorusError(
                    "bindSubworkflow() can only be called once in a step",
                    code="SUBWORKFLOW-ERROR",
                )
            wfid = find_workflow(conn, name, None if version is None else str(version))
            child = create_orders(
                conn, wfid, [fields], events=later, cipher=rt.sensitive, subworkflow=True
            )[0]
            waits.bind_child(conn, ctx.workflow_instanceid, ctx.stepid, ctx.ind, child)
        if rt.on_new_order is not None:
            rt.on_new_order(wfid)
        ctx.wait = StepWait("subworkflow", S.WAITING, child=child)
        return {"workflow_instanceid": child}

    @staticmethod
    def skipSubworkflow() -> dict[str, object]:
        ctx = _step("SUBWORKFLOW", "skipSubworkflow")
        ctx.wait = StepWait("skip", S.COMPLETE)
        return {"workflow_instanceid": ctx.workflow_instanceid}


class QorusSubworkflowArrayStep(QorusSubworkflowStep):
    def array(self) -> list[Any]:
        raise NotImplementedError(f"{type(self).__name__} does not define array()")


class QorusEventStep(QorusStepBase):
    """An EVENT step: ``primary()`` calls ``bindEvent(key)`` (or ``bindEventUnposted(key)``
    or ``skipEvent()``); the step waits until the event of its type with that key is posted
    (at once when it was posted before)."""

    def primary(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not define primary()")

    @staticmethod
    def bindEvent(key: str) -> None:
        ctx = _step("EVENT", "bindEvent")
        text = _key(key, "the event key")
        if ctx.event_typeid is None:
            raise QorusError(f"step {ctx.stepname} has no event type", code="EVENT-STEP-ERROR")
        ctx.wait = StepWait("event", S.EVENT_WAITING, key=text, refid=ctx.event_typeid)

    @staticmethod
    def bindEventUnposted(key: str) -> None:
        """:meth:`bindEvent`, refused with ALREADY-POSTED when the event was posted."""
        ctx = _step("EVENT", "bindEventUnposted")
        text = _key(key, "the event key")
        if ctx.event_typeid is None:
            raise QorusError(f"step {ctx.stepname} has no event type", code="EVENT-STEP-ERROR")
        with ctx.runtime.engine.connect() as conn:
            if waits.event_posted(conn, ctx.event_typeid, text):
                raise QorusError(f"event {text!r} has already been posted", code="ALREADY-POSTED")
        ctx.wait = StepWait("event", S.EVENT_WAITING, key=text, refid=ctx.event_typeid)

    @staticmethod
    def skipEvent() -> None:
        ctx = _step("EVENT", "skipEvent")
        ctx.wait = StepWait("skip", S.COMPLETE)


class QorusEventArrayStep(QorusEventStep):
    def array(self) -> list[Any]:
        raise NotImplementedError(f"{type(self).__name__} does not define array()")


class QorusWorkflow:
    """Optional workflow class: hooks the engine calls around execution.

    ``oneTimeInit()`` once per load of the workflow's code, ``attach()`` when a worker picks
    up an order, ``detach(status, ext_id)`` when it lets the order go, ``errorHandler(errcode,
    errinfo, opt)`` for every error raised by a step.
    """

    def oneTimeInit(self) -> None:
        return None

    def attach(self) -> None:
        return None

    def detach(self, status: str, external_order_instanceid: str | None) -> None:
        return None

    def errorHandler(self, errcode: str, errinfo: object, opt: object = None) -> None:
        return None
