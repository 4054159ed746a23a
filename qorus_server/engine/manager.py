"""The workflow manager: the server component that owns execution instances.

``start(server)`` binds the running system (engine, options, events, session, logs) and starts
``autostart`` instances of enabled workflows when ``autostart-interfaces`` is on; ``stop()``
stops them all. Operations (start, stop, setAutostart, enable, disable, reset) change the
database first, then the running instances. The manager listens to the event bus so that an
order made due by any operation (retry, unblock, a new order) wakes its instances at once; on
PostgreSQL a ``WakeListener`` does the same for orders made due on other nodes.

The workers use the server's engine pool (``server.pools.engine``), the operations the API
pool (``server.engine``), so that execution instances never starve API requests. At most
``workflow-max-instances`` instances of one workflow run at once. An :class:`OrphanSweeper`
hands back orders that workers gave up after a database error.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Collection, Mapping
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from qorus_core.db import workflow_runs as runs_db
from qorus_core.db.dialects import dialect_for
from qorus_core.db.group_status import stopping_group
from qorus_core.db.sessions import RecoveryResult
from qorus_core.db.wfcache import BriefCache
from qorus_core.db.wfdefs import WorkflowDef, find_workflow, load_workflow
from qorus_core.model.errors import NotFoundError, QorusError
from qorus_server.contract import ServerContract
from qorus_server.engine.codecache import CodeCache
from qorus_server.engine.handback import Holdings, OrphanSweeper
from qorus_server.engine.instance import MODES, ExecutionInstance
from qorus_server.engine.listener import WakeListener
from qorus_server.engine.submitter import OrderSubmitter
from qorus_server.engine.sync import SYNCHRONOUS, run_synchronous
from qorus_server.session import announce
from qorus_server.userapi import install
from qorus_server.userapi.context import (
    LoggerFactory,
    Runtime,
    bind_runtime,
    default_logger_factory,
    unbind_runtime,
)

_WAKE_STATUSES = frozenset({"READY", "RETRY", "SCHEDULED"})


#: the engine's log kinds -> the server's (``qorus_server.logs.Logs.get_logger``)
_SERVER_LOG_KINDS = {"workflow": "WF", "service": "SVC", "job": "JOB"}


def logger_factory(server: ServerContract, given: LoggerFactory | None) -> LoggerFactory:
    """Interface logs go to the server's log files (``OMQ-$instance-WF-NAME.log``), the
    engine's own messages to the system log; a server without log files (engine tests) logs
    through Python logging."""
    if given is not None:
        return given
    logs = server.logs
    if logs is None:
        return default_logger_factory

    def factory(kind: str, name: str) -> logging.Logger:
        if kind == "system":
            return logs.system
        return logs.get_logger(_SERVER_LOG_KINDS.get(kind, kind), name)

    return factory


class WorkflowManager:
    """The workflow engine component (``server.workflows`` once started)."""

    name = "workflows"

    def __init__(
        self,
        *,
        logger_factory: LoggerFactory | None = None,
        poll_interval: float = 2.0,
        batch_per_worker: int = 25,
    ) -> None:
        self._logger_factory = logger_factory
        self.poll_interval = poll_interval
        self.batch_per_worker = batch_per_worker
        self.runtime: Runtime | None = None
        self.codecache: CodeCache | None = None
        #: createOrder's workflow briefs (checked against the definitions stamp)
        self.briefs = BriefCache()
        #: plain orders of concurrent createOrder calls written together (PostgreSQL)
        self.submitter: OrderSubmitter | None = None
        self._instances: dict[int, ExecutionInstance] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._unsubscribe: Callable[[], None] | None = None
        self.wake_listener: WakeListener | None = None
        self.log = logging.getLogger("qorus.engine")
        self.holdings = Holdings()
        self.sweeper: OrphanSweeper | None = None
        self._api_engine: Any = None
        self._auditor: Any = None

    # ------------------------------------------------------------------ life cycle

    def start(self, server: ServerContract) -> None:
        install()
        pools = server.pools
        self._api_engine = server.engine
        if dialect_for(server.engine).order_batches is not None:
            self.submitter = OrderSubmitter(server.engine)
        if server.sessionid is None:
            raise QorusError("the workflow engine needs an application session")
        runtime = Runtime(
            engine=pools.engine if pools is not None else server.engine,
            options=server.options,
            sessionid=server.sessionid,
            events=server.events,
            omq=server.omq,
            get_logger=logger_factory(server, self._logger_factory),
            on_new_order=self.notify,
            server=server,
            exec_sync=self.exec_synchronous,
            sensitive=server.sensitive,
            audit=server.auditor.system if server.auditor is not None else None,
        )
        self._auditor = server.auditor
        self.runtime = runtime
        self.codecache = CodeCache(runtime.engine)
        self.log = runtime.get_logger("system", "engine")
        self.sweeper = OrphanSweeper(
            runtime.engine,
            runtime.sessionid,
            self.holdings,
            self.log,
            self._handed_back,
            retry_max=float(runtime.options.get("engine-db-retry-max")),
        )
        self.sweeper.trail = runtime.audit
        self.sweeper.start()
        bind_runtime(runtime)
        events = runtime.events
        if events is not None and hasattr(events, "subscribe"):
            self._unsubscribe = events.subscribe(self._on_event)
        if dialect_for(runtime.engine).has_notify:
            self.wake_listener = WakeListener(
                runtime.engine, self.notify, self.log, on_reconnect=self.notify_all
            )
            self.wake_listener.start()
        if runtime.options.get("autostart-interfaces"):
            self.autostart()

    def autostart(self, only: Collection[int] | None = None) -> list[dict[str, Any]]:
        """Start ``autostart`` instances of every enabled workflow (of those in ``only``) that
        no disabled interface group stops; failures are logged."""
        with self._api().connect() as conn:
            rows = runs_db.autostart_workflows(conn)
        started = []
        limit = self.max_instances()
        for wfid, count in rows:
            if only is not None and int(wfid) not in only:
                continue
            if int(count) > limit:
                self.log.error(
                    "workflow id %d: autostart %d is above workflow-max-instances (%d); "
                    "starting %d",
                    wfid,
                    count,
                    limit,
                    limit,
                )
            for _ in range(max(0, min(int(count), limit) - len(self._running(int(wfid))))):
                try:
                    started.append(self._start(int(wfid), "NORMAL"))
                except QorusError as exc:
                    self.log.error("cannot autostart workflow id %d: %s", wfid, exc.desc)
                    rt = self.runtime
                    if rt is not None and rt.events is not None:
                        rt.events.post(
                            "SYSTEM_ERROR",
                            {"err": exc.code, "desc": exc.desc, "info": {"workflowid": wfid}},
                            severity="MAJOR",
                            caller="engine",
                        )
                    break
        return started

    def stop(self) -> None:
        if self.submitter is not None:
            self.submitter.close()  # orders already handed over are written first
        if self.wake_listener is not None:
            self.wake_listener.stop()
            self.wake_listener = None
        with self._lock:
            instances = list(self._instances.values())
            self._instances.clear()
        self._stop_all(instances)
        if self.sweeper is not None:
            self.sweeper.stop()
            self.sweeper = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.runtime is not None:
            self.runtime.stop_event.set()
            unbind_runtime(self.runtime)

    # ------------------------------------------------------------------ helpers

    def _rt(self) -> Runtime:
        if self.runtime is None:
            raise QorusError("the workflow manager is not started", code="SYSTEM-ERROR")
        return self.runtime

    def _api(self) -> Any:
        """The engine of operations called by API requests (the server's API pool)."""
        return self._api_engine if self._api_engine is not None else self._rt().engine

    def max_instances(self) -> int:
        return int(self._rt().options.get("workflow-max-instances"))

    def check_room(self, workflowid: int, count: int) -> None:
        """WORKFLOW-START-ERROR unless ``count`` more instances stay within the bound."""
        limit = self.max_instances()
        running = len(self._running(workflowid))
        if running + count > limit:
            raise QorusError(
                f"workflow id {workflowid} has {running} execution instance(s); {count} more "
                f"would be above workflow-max-instances ({limit})",
                code="WORKFLOW-START-ERROR",
            )

    def check_runnable(self, wdef: WorkflowDef) -> None:
        """WORKFLOW-START-ERROR when the workflow is disabled, GROUP-DISABLED when a disabled
        interface group holds it: nothing of it runs then."""
        if not wdef.enabled:
            raise QorusError(f"workflow {wdef.label()} is disabled", code="WORKFLOW-START-ERROR")
        with self._api().connect() as conn:
            group = stopping_group(conn, "workflow", wdef.workflowid)
        if group is not None:
            raise QorusError(
                f"workflow {wdef.label()} is a member of the disabled interface group "
                f"{group!r}: enable the group to run it",
                code="GROUP-DISABLED",
            )

    def _orphans(self) -> None:
        if self.sweeper is not None:
            self.sweeper.trigger()

    def _handed_back(self, res: RecoveryResult) -> None:
        """Wake the workflows' instances; tell event clients as crash recovery does."""
        for wfid in res.workflows:
            self.notify(wfid)
        rt = self.runtime
        if rt is not None and rt.events is not None:
            try:
                announce(rt.engine, rt.events, [res])
            except SQLAlchemyError as exc:
                self.log.warning("cannot announce the orders handed back: %s", exc)

    def _running(self, workflowid: int) -> list[ExecutionInstance]:
        with self._lock:
            return [
                i
                for i in self._instances.values()
                if i.wdef.workflowid == workflowid and i.mode != SYNCHRONOUS
            ]

    def workflowid(self, name: str | int, version: str | None = None) -> int:
        with self._api().connect() as conn:
            return find_workflow(conn, name, version)

    def _load(self, workflowid: int) -> WorkflowDef:
        with self._api().connect() as conn:
            return load_workflow(conn, workflowid)

    def _post(self, event: str, inst: ExecutionInstance) -> None:
        rt = self.runtime
        if rt is not None and rt.events is not None:
            info = inst.info()
            info["starttime"] = str(info["starttime"])
            rt.events.post(event, info, caller="engine")

    def _start(self, workflowid: int, mode: str) -> dict[str, Any]:
        rt = self._rt()
        assert self.codecache is not None
        if mode not in MODES:
            raise QorusError(
                f"execution mode {mode!r} is not supported (use {' or '.join(MODES)})",
                code="WORKFLOW-START-ERROR",
            )
        wdef = self._load(workflowid)
        self.check_runnable(wdef)
        self.check_room(workflowid, 1)
        inst = ExecutionInstance(
            next(self._ids),
            rt,
            wdef,
            self.codecache,
            mode=mode,
            poll_interval=self.poll_interval,
            batch_per_worker=self.batch_per_worker,
            holdings=self.holdings,
            on_orphans=self._orphans,
            retry_max=float(rt.options.get("engine-db-retry-max")),
        )
        with self._lock:
            self.check_room(workflowid, 1)  # another request may have started one meanwhile
            self._instances[inst.execid] = inst
        inst.start()
        self._post("WORKFLOW_START", inst)
        inst.audit_id = self._audit(
            "WORKFLOW-START",
            workflowid,
            info1=str(inst.execid),
            info2=f"mode: {mode} options: {dict(wdef.options)}"
            if wdef.options
            else f"mode: {mode}",
        )
        return inst.info()

    def _audit(self, event: str, workflowid: int, **kw: Any) -> int | None:
        """A WORKFLOW-START / WORKFLOW-STOP row (audit code ``workflows``) under the trail in
        force: the API call that starts or stops the instance, else the server."""
        if self._auditor is None:
            return None
        try:
            rid: int | None = self._auditor.event(event, workflowid=workflowid, **kw)
            return rid
        except SQLAlchemyError:
            self.log.exception("cannot write the %s audit row of workflow id %d", event, workflowid)
            return None

    # ------------------------------------------------------------------ operations

    def start_workflow(
        self, name: str | int, version: str | None = None, mode: str = "NORMAL"
    ) -> dict[str, Any]:
        """Start one more execution instance; its info (``executionID``, status, mode ...)."""
        return self._start(self.workflowid(name, version), str(mode).upper())

    def stop_workflow(self, name: str | int, version: str | None = None) -> list[int]:
        """Stop every execution instance of the workflow; the ids stopped."""
        return self._stop_instances(self._running(self.workflowid(name, version)))

    def stop_execution(self, execid: int) -> None:
        with self._lock:
            inst = self._instances.get(int(execid))
        if inst is None:
            raise QorusError(
                f"execution instance {execid} does not exist", code="WORKFLOW-STOP-ERROR"
            )
        self._stop_instances([inst])

    def running_workflows(self) -> set[int]:
        """The workflowids with execution instances running here (synchronous ones aside)."""
        with self._lock:
            return {i.wdef.workflowid for i in self._instances.values() if i.mode != SYNCHRONOUS}

    def stop_all(self) -> list[int]:
        with self._lock:
            return self._stop_instances(list(self._instances.values()))

    def _stop_instances(self, instances: list[ExecutionInstance]) -> list[int]:
        with self._lock:
            for inst in instances:
                self._instances.pop(inst.execid, None)
        self._stop_all(instances)
        return [i.execid for i in instances]

    def _stop_all(self, instances: list[ExecutionInstance]) -> None:
        """All stop at once (not one after the other while the rest keep claiming)."""
        for inst in instances:
            inst.request_stop()
        for inst in instances:
            inst.stop()
            self._post("WORKFLOW_STOP", inst)
            self._audit(
                "WORKFLOW-STOP",
                inst.wdef.workflowid,
                info1=str(inst.execid),
                related=inst.audit_id,
            )

    def _update_workflow(self, workflowid: int, **values: Any) -> None:
        with self._api().begin() as conn:
            runs_db.update_workflow(conn, workflowid, **values)

    def _updated(self, wfid: int, wdef: WorkflowDef | None = None, **info: Any) -> None:
        """WORKFLOW_UPDATED: the workflow and ``info`` (what changed: ``autostart``,
        ``enabled``)."""
        rt = self.runtime
        if rt is None or rt.events is None:
            return
        wdef = wdef or self._load(wfid)
        rt.events.post(
            "WORKFLOW_UPDATED",
            {"name": wdef.name, "version": wdef.version, "workflowid": wfid, "info": info},
            caller="engine",
        )

    def set_autostart(
        self, name: str | int, autostart: int, version: str | None = None
    ) -> dict[str, Any]:
        """Store the new autostart and start or stop instances to match it."""
        count = int(autostart)
        if count < 0:
            raise QorusError("autostart must be 0 or more", code="WORKFLOW-AUTOSTART-ERROR")
        if count > self.max_instances():
            raise QorusError(
                f"autostart {count} is above workflow-max-instances ({self.max_instances()})",
                code="WORKFLOW-AUTOSTART-ERROR",
            )
        wfid = self.workflowid(name, version)
        self._update_workflow(wfid, autostart=count)
        self._updated(wfid, autostart=count)
        running = self._running(wfid)
        if len(running) > count:
            self._stop_instances(running[count:])
        elif self._load(wfid).enabled and self._rt().options.get("autostart-interfaces"):
            for _ in range(count - len(running)):
                self._start(wfid, "NORMAL")
        return {"workflowid": wfid, "autostart": count, "running": len(self._running(wfid))}

    def enable(self, name: str | int, version: str | None = None) -> None:
        wfid = self.workflowid(name, version)
        self._update_workflow(wfid, enabled=True)
        wdef = self._load(wfid)
        self._updated(wfid, wdef, enabled=True)
        if self._rt().options.get("autostart-interfaces"):
            want = min(wdef.autostart, self.max_instances())
            for _ in range(max(0, want - len(self._running(wfid)))):
                self._start(wfid, "NORMAL")

    def disable(self, name: str | int, version: str | None = None) -> None:
        wfid = self.workflowid(name, version)
        self._update_workflow(wfid, enabled=False)
        self._updated(wfid, enabled=False)
        self._stop_instances(self._running(wfid))

    def reset(self, name: str | int, version: str | None = None) -> dict[str, Any]:
        """Reload the definition and recompile the code of a workflow without a restart."""
        wfid = self.workflowid(name, version)
        assert self.codecache is not None
        self.briefs.clear()
        self.codecache.reset(wfid)
        wdef = self._load(wfid)
        running = self._running(wfid)
        for inst in running:
            inst.reset(wdef)
        rt = self._rt()
        if rt.events is not None:
            rt.events.post(
                "WORKFLOW_CACHE_RESET",
                {"workflowid": wfid, "name": wdef.name, "version": wdef.version},
                caller="engine",
            )
        return {
            "workflowid": wfid,
            "name": wdef.name,
            "version": wdef.version,
            "reset": len(running),
        }

    def reset_all(self) -> list[dict[str, Any]]:
        """Reset every workflow that has compiled code or running instances."""
        assert self.codecache is not None
        with self._lock:
            wfids = {i.wdef.workflowid for i in self._instances.values()}
        wfids |= set(self.codecache.workflow_ids())
        return [self.reset(wfid) for wfid in sorted(wfids)]

    def exec_synchronous(
        self, name: str | int, version: str | None, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Create an order and run it to a final status in this thread (mode SYNCHRONOUS);
        ``{workflow_instanceid, status, dynamicdata[, error]}``."""
        return run_synchronous(self, self.workflowid(name, version), fields)

    def list_executions(self) -> list[dict[str, Any]]:
        with self._lock:
            return [i.info() for i in self._instances.values()]

    def execution(self, execid: int) -> dict[str, Any]:
        """The info of one execution instance; WORKFLOW-EXECUTION-ERROR (404) when unknown."""
        with self._lock:
            inst = self._instances.get(int(execid))
        if inst is None:
            raise NotFoundError(
                f"execution instance {execid} does not exist", code="INVALID-WORKFLOW-EXECUTION-ID"
            )
        return inst.info()

    # ------------------------------------------------------------------ wake-ups

    def notify(self, workflowid: int) -> None:
        """Wake the execution instances of a workflow (an order became due)."""
        for inst in self._running(workflowid):
            inst.wake()

    def notify_all(self) -> None:
        """Wake every execution instance (wake-ups from other nodes may have been missed)."""
        with self._lock:
            instances = list(self._instances.values())
        for inst in instances:
            inst.wake()

    def _on_event(self, event: Any) -> None:
        info = getattr(event, "info", None) or {}
        wfid = info.get("workflowid")
        if wfid is None:
            return
        if event.eventstr in ("WORKFLOW_DATA_SUBMITTED", "WORKFLOW_RECOVERED") or (
            event.eventstr == "WORKFLOW_STATUS_CHANGED"
            and (info.get("info") or {}).get("new") in _WAKE_STATUSES
        ):
            self.notify(int(wfid))
