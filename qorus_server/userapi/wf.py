"""The ``wf`` module of interface code: step base classes and the workflow class.

Real Qorus step files read ``from wf import QorusNormalStep`` or ``class S(wf.QorusNormalStep)``;
both work because the engine registers this module as ``wf`` in ``sys.modules``.
"""

from __future__ import annotations

from typing import Any

from qorus_core.model.errors import QorusError

from . import omq
from .wfapi import WorkflowApi


def _not_yet(what: str) -> QorusError:
    return QorusError(f"{what} is not supported by this version yet", code="STEP-TYPE-ERROR")


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


class QorusAsyncStep(QorusStepBase):
    """An ASYNC step (executed by a later version of the engine)."""

    def primary(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not define primary()")

    def validation(self, async_key: str) -> str:
        return omq.StatRetry

    def end(self, queue_data: object) -> None:
        return None

    def submitAsyncKey(self, key: str) -> None:
        raise _not_yet("ASYNC steps")

    def skipAsyncStep(self) -> None:
        raise _not_yet("ASYNC steps")


class QorusAsyncArrayStep(QorusAsyncStep):
    def array(self) -> list[Any]:
        raise NotImplementedError(f"{type(self).__name__} does not define array()")


class QorusSubworkflowStep(QorusStepBase):
    """A SUBWORKFLOW step (executed by a later version of the engine)."""

    def primary(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not define primary()")

    def bindSubworkflow(self, wf: object, order: object) -> int:
        raise _not_yet("SUBWORKFLOW steps")

    def skipSubworkflow(self) -> None:
        raise _not_yet("SUBWORKFLOW steps")


class QorusSubworkflowArrayStep(QorusSubworkflowStep):
    def array(self) -> list[Any]:
        raise NotImplementedError(f"{type(self).__name__} does not define array()")


class QorusEventStep(QorusStepBase):
    """An EVENT step (executed by a later version of the engine)."""

    def primary(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not define primary()")

    def bindEvent(self, key: str) -> None:
        raise _not_yet("EVENT steps")

    def bindEventUnposted(self, key: str) -> None:
        raise _not_yet("EVENT steps")

    def skipEvent(self) -> None:
        raise _not_yet("EVENT steps")


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
