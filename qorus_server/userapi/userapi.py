"""``UserApi``: logging, order creation, options and system information for interface code."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from qorus_core.db import audit, orders, orders_ops, waits, wfdefs
from qorus_core.model import args as a
from qorus_core.model.errors import QorusError
from qorus_server.events import severity_name

from . import context, sysapi
from .fmt import qore_sprintf

TRACE = 5
logging.addLevelName(TRACE, "TRACE")


def _scope() -> tuple[str, int] | None:
    """The interface whose code runs now (who may see its user events)."""
    ctx = context.current()
    if ctx is not None:
        return ("workflow", ctx.workflowid)
    svc = context.current_service()
    if svc is not None:
        return ("service", svc.serviceid)
    job = _current_job()
    if job is not None:
        return ("job", job.job.jobid)
    return None


def _current_job() -> Any:
    from .jobapi import current_job  # jobapi imports this module

    return current_job()


def _log(level: int, fmt: Any, args: tuple[object, ...]) -> None:
    ctx = context.current()
    if ctx is not None:
        logger = ctx.logger
    elif (wlog := context.interface_logger()) is not None:
        logger = wlog
    else:
        try:
            logger = context.runtime().system_logger()
        except Exception:
            logger = logging.getLogger("qorus.user")
    if not logger.isEnabledFor(level):
        return
    text = qore_sprintf(fmt, *args) if isinstance(fmt, str) and args else str(fmt)
    logger.log(level, text)


class UserApi:
    """Static methods, as in Qorus (``UserApi.logInfo("x: %y", x)``)."""

    @staticmethod
    def logFatal(fmt: str, *args: object) -> None:
        _log(logging.CRITICAL, fmt, args)

    @staticmethod
    def logError(fmt: str, *args: object) -> None:
        _log(logging.ERROR, fmt, args)

    @staticmethod
    def logWarn(fmt: str, *args: object) -> None:
        _log(logging.WARNING, fmt, args)

    @staticmethod
    def logInfo(fmt: str, *args: object) -> None:
        _log(logging.INFO, fmt, args)

    @staticmethod
    def logDebug(fmt: str, *args: object) -> None:
        _log(logging.DEBUG, fmt, args)

    @staticmethod
    def logTrace(fmt: str, *args: object) -> None:
        _log(TRACE, fmt, args)

    # ------------------------------------------------------------------ orders

    @staticmethod
    def createOrder(
        name: str,
        version: str | None = None,
        params: Mapping[str, object] | None = None,
        status: str = "READY",
    ) -> int:
        """Create an order of workflow ``name`` (latest version unless given); its id."""
        rt = context.runtime()
        args = dict(params or {})
        args.setdefault("status", status)
        with rt.engine.connect() as conn:
            wfid = wfdefs.find_workflow(conn, name, version)
        wfiid = orders.create_orders(
            rt.engine, wfid, [args], events=rt.events, cipher=rt.sensitive
        )[0]
        if rt.on_new_order is not None:
            rt.on_new_order(wfid)
        return wfiid

    @staticmethod
    def execSynchronousWorkflow(
        name: str,
        version: Any = None,
        sdata: Mapping[str, object] | None = None,
        opts: Mapping[str, object] | None = None,
        ddata: Mapping[str, object] | None = None,
        priority: int = 500,
        orderkeys: Mapping[str, object] | None = None,
        external_order_instanceid: str | None = None,
        parent_workflow_instanceid: Any = None,
    ) -> dict[str, object]:
        """Create an order and run it to COMPLETE or ERROR in this thread; ``{workflow_instanceid,
        status, dynamicdata[, error]}``. ``version`` may be left out (``(name, sdata)``); from
        step code the calling order becomes the parent unless ``parent_workflow_instanceid`` is
        given (False: none). ``opts`` is accepted for compatibility and must be empty."""
        if isinstance(version, Mapping) and sdata is None:
            version, sdata = None, version
        if opts:
            raise QorusError(
                "execSynchronousWorkflow: workflow options are not supported yet",
                code="PARAMETER-ERROR",
            )
        fields: dict[str, object] = {"staticdata": dict(sdata or {}), "priority": priority}
        if ddata:
            fields["dynamicdata"] = dict(ddata)
        if orderkeys:
            fields["orderkeys"] = dict(orderkeys)
        if external_order_instanceid is not None:
            fields["external_order_instanceid"] = external_order_instanceid
        ctx = context.current()
        if parent_workflow_instanceid is None and ctx is not None:
            parent_workflow_instanceid = ctx.workflow_instanceid
        if parent_workflow_instanceid not in (None, False):
            fields["parent_workflow_instanceid"] = int(parent_workflow_instanceid)
        return sysapi.exec_synchronous(name, None if version is None else str(version), fields)

    @staticmethod
    def callRestApi(method: str, path: str, body_args: Mapping[str, object] | None = None) -> Any:
        """Call the server's own REST API in-process as the system (no RBAC); its result.
        ``UserApi.callRestApi("GET", "system/instance-key")``; errors raise QorusError."""
        return sysapi.call_rest_api(method, path, body_args)

    @staticmethod
    def callService(name: str, method: str, *args: Any) -> Any:
        """Call ``method`` of service ``name`` in-process as the system (no RBAC) with
        positional ``args``; its result. The service is loaded first when it is not loaded.
        ``UserApi.callService("order-inventory", "reserve", order_id, lines)``; a service's
        own code may call its internal methods this way."""
        return sysapi.call_service(name, method, args)

    @staticmethod
    def cancelOrder(wfiid: int) -> dict[str, object]:
        rt = context.runtime()
        purge = bool(rt.options.get("purge-sensitive-data-canceled"))
        return orders_ops.cancel_order(rt.engine, wfiid, events=rt.events, purge_sensitive=purge)

    @staticmethod
    def uncancelOrder(wfiid: int) -> dict[str, object]:
        rt = context.runtime()
        return orders_ops.uncancel_order(rt.engine, wfiid, events=rt.events)

    @staticmethod
    def blockOrder(wfiid: int) -> dict[str, object]:
        rt = context.runtime()
        return orders_ops.block_order(rt.engine, wfiid, events=rt.events)

    @staticmethod
    def unblockOrder(wfiid: int) -> dict[str, object]:
        rt = context.runtime()
        res = orders_ops.unblock_order(rt.engine, wfiid, events=rt.events)
        return res

    # ------------------------------------------------------------------ synchronization events

    @staticmethod
    def postSyncEvent(eventtype: str | int, eventkey: str) -> bool:
        """Post event ``eventkey`` of ``eventtype`` (a name or an id) in its own transaction;
        the orders waiting on it wake at once. An event no step waits on yet is remembered:
        a later bind completes at once. True when this call posted it, False when it had been
        posted before."""
        rt = context.runtime()
        ref = a.arg_text(eventtype, "eventtype", max_len=160)
        key = a.arg_text(eventkey, "eventkey", max_len=240)
        if not key:
            raise QorusError("postSyncEvent() needs a non-empty event key", code="EVENT-ERROR")
        with rt.engine.begin() as conn:
            et = waits.find_event_type(conn, ref)
            first, woken = waits.post_event(conn, et["id"], key)
        if rt.on_new_order is not None:
            for wfid in sorted(woken):
                rt.on_new_order(wfid)
        return first

    # ------------------------------------------------------------------ events and audit

    @staticmethod
    def postUserEvent(severity: str, info: Any = None) -> None:
        """Post a USER_EVENT (``severity``: NONE, INFO, WARNING, MINOR, MAJOR or FATAL, its
        user severity); a client with RBAC sees it when it sees the interface that posted it."""
        rt = context.runtime()
        if rt.events is None:
            return
        try:
            sev = severity_name(severity)
        except ValueError as exc:
            raise QorusError(str(exc), code="POST-USER-EVENT-ERROR") from None
        payload = dict(info) if isinstance(info, Mapping) else {"info": info}
        rt.events.post("USER_EVENT", payload, caller="user", user_severity=sev, scope=_scope())

    @staticmethod
    def auditUserEvent(
        user_event: str, info1: str | None = None, info2: str | None = None
    ) -> int | None:
        """Write a USER-EVENT audit row when the ``audit`` option asks for user events: the
        order and step, the service or the job instance whose code calls it, ``who`` /
        ``source`` / ``reason`` of the API call in force (else the server's); its id."""
        rt = context.runtime()
        trail = audit.current() or audit.AuditTrail(
            audit.OptionCodes(rt.options), who="Qorus", source="UserApi"
        )
        if not trail.wants("USER-EVENT"):
            return None
        refs: dict[str, int | None] = {}
        ctx = context.current()
        svc = context.current_service()
        job = _current_job()
        if ctx is not None:
            refs = {
                "workflowid": ctx.workflowid,
                "workflow_instanceid": ctx.workflow_instanceid,
                "stepid": ctx.stepid or None,
                "ind": ctx.ind if ctx.stepid else None,
            }
        elif svc is not None:
            refs = {"serviceid": svc.serviceid}
        elif job is not None:
            refs = {"jobid": job.job.jobid, "job_instanceid": job.job_instanceid}
        with rt.engine.begin() as conn:
            return trail.write(
                conn, "USER-EVENT", user_event=str(user_event), info1=info1, info2=info2, **refs
            )

    # ------------------------------------------------------------------ options and system

    @staticmethod
    def getOption(*names: Any) -> Any:
        opts = context.runtime().options
        flat: list[str] = []
        for n in names:
            flat.extend(n if isinstance(n, list | tuple) else [n])
        if len(flat) == 1:
            return opts.get(flat[0])
        if not flat:
            return dict(opts.items())
        return {n: opts.get(n) for n in flat}

    @staticmethod
    def getQorusOptions(*names: Any) -> dict[str, object]:
        opts = context.runtime().options
        if names:
            return {n: opts.get(n) for n in names}
        return dict(opts.items())

    @staticmethod
    def getSessionId() -> int:
        return context.runtime().sessionid

    @staticmethod
    def getSystemInfo() -> dict[str, object]:
        """``instance-key``, ``session-id``, ``omq-version``, ``omq-schema``, ``hostname``,
        ``pid``, ``starttime``, ``logfile``, ... (the server's ``GET system`` and more)."""
        return sysapi.system_info()

    @staticmethod
    def sleep(secs: float) -> None:
        """Sleep, but wake early when the system stops."""
        try:
            stop = context.runtime().stop_event
        except Exception:
            time.sleep(secs)
            return
        stop.wait(max(float(secs), 0.0))

    @staticmethod
    def usleep(usecs: float) -> None:
        UserApi.sleep(float(usecs) / 1_000_000)
