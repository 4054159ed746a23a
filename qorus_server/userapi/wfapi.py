"""``WorkflowApi`` / ``wfapi``: what step code calls about the order it works on.

Changes to dynamic data, order keys and the custom status are kept with the running step and
committed together with the step's status (one transaction), never on their own.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from qorus_core.db import orders, orders_ops, waits
from qorus_core.db.engine import READONLY
from qorus_core.db.orders_query import order_keys
from qorus_core.model import args as a
from qorus_core.model.errors import QorusError

from . import context
from .sensitive import SensitiveDataApi
from .userapi import UserApi


def _pick(data: Mapping[str, object], field: Any) -> Any:
    if field is None:
        return copy.deepcopy(dict(data))
    if isinstance(field, list | tuple):
        return {k: copy.deepcopy(data[k]) for k in field if k in data}
    return copy.deepcopy(data.get(field))


def _feedback_error(desc: str) -> QorusError:
    return QorusError(desc, code="FEEDBACK-ERROR")


class WorkflowApi(SensitiveDataApi, UserApi):
    """Static methods, as in Qorus (``wfapi.getStaticData()``); includes every UserApi call
    and the sensitive data methods (:class:`~qorus_server.userapi.sensitive.SensitiveDataApi`)."""

    # ------------------------------------------------------------------ order data

    @staticmethod
    def getStaticData(field: Any = None) -> Any:
        return _pick(context.require().staticdata, field)

    @staticmethod
    def getDynamicData(field: Any = None) -> Any:
        return _pick(context.require().dynamicdata, field)

    @staticmethod
    def updateDynamicData(new_data: Mapping[str, object]) -> None:
        if not isinstance(new_data, Mapping):
            raise QorusError("updateDynamicData() needs a hash", code="DYNAMIC-DATA-ERROR")
        ctx = context.require()
        ctx.dynamicdata.update(copy.deepcopy(dict(new_data)))
        ctx.dynamic_dirty = True

    @staticmethod
    def deleteDynamicDataKey(key: Any) -> None:
        ctx = context.require()
        for k in key if isinstance(key, list | tuple) else [key]:
            if k in ctx.dynamicdata:
                del ctx.dynamicdata[k]
                ctx.dynamic_dirty = True

    @staticmethod
    def getTempData(field: Any = None) -> Any:
        return _pick(context.require().tempdata, field)

    @staticmethod
    def updateTempData(new_data: Mapping[str, object]) -> None:
        context.require().tempdata.update(dict(new_data))

    @staticmethod
    def deleteTempDataKey(key: Any) -> None:
        ctx = context.require()
        for k in key if isinstance(key, list | tuple) else [key]:
            ctx.tempdata.pop(k, None)

    # ------------------------------------------------------------------ order keys

    @staticmethod
    def _keys(ctx: context.OrderContext) -> dict[str, list[str]]:
        if ctx.keys is None:
            with ctx.runtime.engine.connect() as conn:
                rows = order_keys(conn, ctx.workflow_instanceid)
            ctx.keys = {}
            for name, value in rows:
                ctx.keys.setdefault(name, []).append(value)
        return ctx.keys

    @staticmethod
    def _set_keys(keys: Mapping[str, object], replace: bool) -> None:
        ctx = context.require()
        brief = orders.WorkflowBrief(
            ctx.workflowid,
            ctx.workflow_name,
            ctx.workflow_version,
            frozenset(ctx.workflow_keys),
        )
        norm = orders.normalize_keys(brief, keys)
        current = WorkflowApi._keys(ctx)
        for name, values in norm.items():
            if replace:
                current[name] = list(values)
            else:
                current[name] = current.get(name, []) + [
                    v for v in values if v not in current.get(name, [])
                ]
            ctx.key_changes.append((name, values, replace))

    @staticmethod
    def setOrderKeys(keys: Mapping[str, object], truncate: bool = False) -> None:
        WorkflowApi._set_keys(keys, True)

    @staticmethod
    def setOrderKey(key: str, value: Any, truncate: bool = False) -> None:
        WorkflowApi._set_keys({key: value}, True)

    @staticmethod
    def appendOrderKeys(keys: Mapping[str, object], truncate: bool = False) -> None:
        WorkflowApi._set_keys(keys, False)

    @staticmethod
    def getOrderKeys(field: str | None = None) -> Any:
        keys = WorkflowApi._keys(context.require())
        flat = {k: (v[0] if len(v) == 1 else list(v)) for k, v in keys.items()}
        return flat if field is None else flat.get(field)

    # ------------------------------------------------------------------ errors and status

    @staticmethod
    def stepError(err: str, info: Any = None, retry_delay_secs: int | None = None) -> None:
        """Raise an error against the running step without stopping it (as in Qorus)."""
        ctx = context.require()
        desc = info if isinstance(info, str) else ""
        ctx.errors.append(
            context.PendingError(str(err), desc, info, retry_delay_secs, warning_only=False)
        )

    @staticmethod
    def stepWarning(err: str, info: Any = None) -> None:
        ctx = context.require()
        desc = info if isinstance(info, str) else ""
        ctx.errors.append(context.PendingError(str(err), desc, info, None, warning_only=True))

    @staticmethod
    def setRetryDelay(secs: int) -> None:
        context.require().retry_delay = int(secs)

    @staticmethod
    def setCustomStatus(stat: str) -> None:
        if not isinstance(stat, str) or len(stat) != 1:
            raise QorusError("a custom status is one character", code="CUSTOM-STATUS-ERROR")
        context.require().custom_status = stat

    @staticmethod
    def setBlocked() -> None:
        """Block the order when the running step ends."""
        context.require().blocked = True

    @staticmethod
    def rescheduleOrder(scheduled: datetime | str) -> None:
        """Set the order's scheduled date when the running step ends."""
        context.require().reschedule = orders.parse_timestamp(scheduled, "scheduled")

    @staticmethod
    def reprioritizeOrder(prio: int) -> None:
        ctx = context.require()
        orders_ops.set_priority(
            ctx.runtime.engine, ctx.workflow_instanceid, prio, events=ctx.runtime.events
        )

    # ------------------------------------------------------------------ information

    @staticmethod
    def getWfiid() -> int:
        return context.require().workflow_instanceid

    @staticmethod
    def parentWfiid() -> int | None:
        return context.require().parent_workflow_instanceid

    @staticmethod
    def getStepInfo() -> dict[str, object]:
        ctx = context.require()
        return {
            "stepid": ctx.stepid,
            "name": ctx.stepname,
            "version": ctx.stepversion,
            "ind": ctx.ind,
            "retries": ctx.step_retries,
        }

    @staticmethod
    def getWorkflowInfo() -> dict[str, object]:
        ctx = context.require()
        return {
            "workflowid": ctx.workflowid,
            "name": ctx.workflow_name,
            "version": ctx.workflow_version,
            "workflow_instanceid": ctx.workflow_instanceid,
        }

    # ------------------------------------------------------------------ notes

    @staticmethod
    def addOrderNote(note: str) -> dict[str, object]:
        ctx = context.require()
        return orders_ops.add_note(
            ctx.runtime.engine,
            ctx.workflow_instanceid,
            note,
            username="%SYS%",
            events=ctx.runtime.events,
        )

    @staticmethod
    def getOrderNotes(count: int | None = None) -> list[dict[str, object]]:
        ctx = context.require()
        return orders_ops.get_notes(ctx.runtime.engine, ctx.workflow_instanceid, count)

    # ------------------------------------------------------------------ options

    @staticmethod
    def getOption(*names: Any) -> Any:
        """Workflow options first (as set by the definition or setOption), then system ones."""
        ctx = context.current()
        wopts = ctx.workflow_options if ctx else {}
        flat: list[str] = []
        for n in names:
            flat.extend(n if isinstance(n, list | tuple) else [n])

        def one(name: str) -> Any:
            if name in wopts:
                value = wopts[name]
                return value.get("value") if isinstance(value, dict) else value
            return UserApi.getOption(name)

        if len(flat) == 1:
            return one(flat[0])
        if not flat:
            return {k: (v.get("value") if isinstance(v, dict) else v) for k, v in wopts.items()}
        return {n: one(n) for n in flat}

    @staticmethod
    def setOption(opts: Mapping[str, object]) -> None:
        ctx = context.require()
        for k, v in opts.items():
            ctx.workflow_options[k] = {"value": v}

    # ------------------------------------------------------------------ sub-workflow feedback

    @staticmethod
    def leaveParentFeedback(key: str, value: Any) -> None:
        """Leave ``value`` under ``key`` for the parent order (a child order's step calls
        it); committed at once in its own transaction, the last value of a key wins.
        FEEDBACK-ERROR when this order has no parent or ``value`` is None."""
        ctx = context.require()
        parent = ctx.parent_workflow_instanceid
        if parent is None:
            raise _feedback_error(
                f"order {ctx.workflow_instanceid} has no parent order to leave feedback for"
            )
        name = a.arg_text(key, "key", max_len=160, error=_feedback_error)
        if not name:
            raise _feedback_error("leaveParentFeedback() needs a non-empty key")
        if value is None:
            raise _feedback_error(f"leaveParentFeedback({name!r}) needs a value, not None")
        a.check_data(value, f"the feedback value of {name!r}", _feedback_error)
        try:
            with ctx.runtime.engine.begin() as conn:
                waits.leave_feedback(conn, int(parent), ctx.workflow_instanceid, name, value)
        except (TypeError, ValueError) as exc:
            raise _feedback_error(
                f"the feedback value of {name!r} cannot be stored: {exc}"
            ) from None

    @staticmethod
    def getChildFeedback(key: str | None = None) -> Any:
        """The feedback child orders left for this order: the value of ``key`` (None when
        there is none), or every key and value as a hash when no key is given."""
        ctx = context.require()
        engine = ctx.runtime.engine
        with engine.connect().execution_options(**{READONLY: True}) as conn:
            values = waits.feedback(conn, ctx.workflow_instanceid)
        return values if key is None else values.get(key)
