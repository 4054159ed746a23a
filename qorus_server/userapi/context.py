"""Who is calling: the running system (``Runtime``) and the order a step works on
(``OrderContext``), kept in a context variable so ``wfapi.getDynamicData()`` works from any
code a step calls, in any worker thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.engine import Engine

from qorus_core.crypto import SensitiveCipher
from qorus_core.db.audit import AuditTrail
from qorus_core.db.unit import EventSink
from qorus_core.model.errors import QorusError
from qorus_core.omqdir import OmqDir
from qorus_core.options import Options

if TYPE_CHECKING:
    from qorus_server.contract import ServerContract
    from qorus_server.userapi.sensitive import OrderSensitive

LoggerFactory = Callable[[str, str], logging.Logger]


def default_logger_factory(kind: str, name: str) -> logging.Logger:
    """Used until the server passes its own (``qorus_server.logs.get_logger``)."""
    return logging.getLogger(f"qorus.{kind}.{name}")


@dataclass
class Runtime:
    """The parts of the running system that interface code may reach."""

    engine: Engine
    options: Options
    sessionid: int
    events: EventSink | None = None
    omq: OmqDir | None = None
    get_logger: LoggerFactory = default_logger_factory
    #: called with a workflowid after an order was created, to wake its execution instances
    on_new_order: Callable[[int], None] | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    #: the running server (its registry and REST router, for ``UserApi.callRestApi``)
    server: ServerContract | None = None
    #: runs an order synchronously: (name or id, version, createOrder fields) -> answer
    exec_sync: Callable[[str | int, str | None, Mapping[str, object]], dict[str, object]] | None = (
        None
    )

    #: the cipher of the sensitive-data-key (None: sensitive data cannot be used)
    sensitive: SensitiveCipher | None = None
    #: the audit trail of what the engine's own threads change (None: nothing is audited)
    audit: AuditTrail | None = None

    def system_logger(self) -> logging.Logger:
        return self.get_logger("system", "qorus")


@dataclass
class PendingError:
    """An error raised against the running step (by an exception or ``stepError``)."""

    error: str
    description: str
    info: Any
    retry_delay: int | None
    warning_only: bool = False


@dataclass
class StepWait:
    """What a step's code asked to wait on (or that it skips the wait), committed with the
    step: ``kind`` is ``async`` (``key`` on queue ``refid``), ``event`` (``key`` of event type
    ``refid``), ``subworkflow`` (child order ``child``), ``stay`` (still waiting, nothing new to
    write) or ``skip``; ``status`` the step's status when no error was raised; ``until`` when
    the order is due again without outside help."""

    kind: str
    status: str
    key: str | None = None
    refid: int | None = None
    child: int | None = None
    until: datetime | None = None


@dataclass
class OrderContext:
    """The order a worker is processing and the step it runs, with what the step changed."""

    runtime: Runtime
    logger: logging.Logger
    workflowid: int
    workflow_name: str
    workflow_version: str
    workflow_instanceid: int
    parent_workflow_instanceid: int | None
    staticdata: dict[str, object]
    dynamicdata: dict[str, object]
    workflow_options: dict[str, object]
    workflow_keys: tuple[str, ...] = ()
    tempdata: dict[str, object] = field(default_factory=dict)
    dynamic_dirty: bool = False
    #: order keys to write with the step's commit: (name, values, replace)
    key_changes: list[tuple[str, list[str], bool]] = field(default_factory=list)
    keys: dict[str, list[str]] | None = None
    #: the order's sensitive data, read on first use; its changes commit with the step
    sensitive: OrderSensitive | None = None
    # the running step
    stepid: int = 0
    stepname: str = ""
    stepversion: str = ""
    ind: int = 0
    step_retries: int = 0
    errors: list[PendingError] = field(default_factory=list)
    retry_delay: int | None = None
    custom_status: str | None = None
    blocked: bool = False
    reschedule: datetime | None = None
    #: the running step's type (NORMAL, ASYNC, EVENT, SUBWORKFLOW), queue and event type
    steptype: str = "NORMAL"
    queueid: int | None = None
    event_typeid: int | None = None
    #: set by submitAsyncKey, bindEvent, bindSubworkflow and the skip calls
    wait: StepWait | None = None

    def begin_step(self, stepid: int, name: str, version: str, ind: int, retries: int) -> None:
        self.stepid, self.stepname, self.stepversion = stepid, name, version
        self.ind, self.step_retries = ind, retries
        self.errors = []
        self.retry_delay = None
        self.custom_status = None
        self.wait = None


_current: ContextVar[OrderContext | None] = ContextVar("qorus_order_context", default=None)
#: the log of the interface whose code runs outside any order (e.g. ``oneTimeInit()``)
_interface_logger: ContextVar[logging.Logger | None] = ContextVar("qorus_logger", default=None)
_runtime: list[Runtime] = []
_runtime_lock = threading.Lock()
#: the runtime of interface code that runs outside any order (a job instance)
_code_runtime: ContextVar[Runtime | None] = ContextVar("qorus_code_runtime", default=None)


def current() -> OrderContext | None:
    return _current.get()


def require() -> OrderContext:
    ctx = _current.get()
    if ctx is None:
        raise QorusError(
            "this WorkflowApi call needs a running workflow order (call it from step code)",
            code="WORKFLOW-CONTEXT-ERROR",
        )
    return ctx


def interface_logger() -> logging.Logger | None:
    return _interface_logger.get()


def set_interface_logger(logger: logging.Logger | None) -> Any:
    return _interface_logger.set(logger)


def reset_interface_logger(token: Any) -> None:
    _interface_logger.reset(token)


def set_current(ctx: OrderContext | None) -> Any:
    return _current.set(ctx)


def reset_current(token: Any) -> None:
    _current.reset(token)


def bind_runtime(runtime: Runtime) -> None:
    """Make ``runtime`` the process's system for API calls made outside any order. Several
    components may bind one (the service manager, the workflow engine): the last bound is in
    force, and unbinding it brings back the one bound before."""
    with _runtime_lock:
        _runtime[:] = [r for r in _runtime if r is not runtime]
        _runtime.append(runtime)


def unbind_runtime(runtime: Runtime) -> None:
    with _runtime_lock:
        _runtime[:] = [r for r in _runtime if r is not runtime]


def set_code_runtime(rt: Runtime | None) -> Any:
    """The runtime of the interface code about to run outside any order (a job's run)."""
    return _code_runtime.set(rt)


def reset_code_runtime(token: Any) -> None:
    _code_runtime.reset(token)


def runtime() -> Runtime:
    ctx = _current.get()
    if ctx is not None:
        return ctx.runtime
    code_rt = _code_runtime.get()
    if code_rt is not None:
        return code_rt
    try:
        return _runtime[-1]
    except IndexError:
        raise QorusError(
            "no Qorus system is running in this process", code="SYSTEM-ERROR"
        ) from None


# ---------------------------------------------------------------------- services


class ServiceHandle(Protocol):
    """What the service API reaches of the loaded service whose code runs (the service
    manager's instance): its identity, log, state data, threads and information."""

    serviceid: int
    name: str
    service_type: str
    logger: logging.Logger

    def get_state(self) -> Any: ...

    def save_state(self, data: Any) -> None: ...

    def info(self) -> dict[str, Any]: ...

    def start_thread(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> int: ...


@dataclass(frozen=True)
class ServiceCall:
    """The method call in progress in a service (``svcapi.getCallContext()``): who called
    (``user``, None for the system), from where (``source``: the client address or the
    calling code) and through what (``transport``: rest, json-rpc, ..., internal), plus the
    order of the step that called, if any (``wf``)."""

    method: str
    user: str | None
    source: str | None
    transport: str
    wf: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": self.method,
            "user": self.user,
            "source": self.source,
            "transport": self.transport,
        }
        if self.wf is not None:
            out["wf"] = dict(self.wf)
        return out


_service: ContextVar[ServiceHandle | None] = ContextVar("qorus_service", default=None)
_service_call: ContextVar[ServiceCall | None] = ContextVar("qorus_service_call", default=None)


def current_service() -> ServiceHandle | None:
    return _service.get()


def require_service() -> ServiceHandle:
    svc = _service.get()
    if svc is None:
        raise QorusError(
            "this ServiceApi call needs a running service (call it from service code)",
            code="SERVICE-CONTEXT-ERROR",
        )
    return svc


def current_service_call() -> ServiceCall | None:
    return _service_call.get()


def enter_service(
    svc: ServiceHandle, call: ServiceCall | None
) -> list[tuple[ContextVar[Any], Any]]:
    """Make ``svc`` (and ``call``) the context of the code about to run in this thread: its
    log for ``UserApi.log*``, no order (a step calling a service is not the service);
    :func:`leave_service` undoes it."""
    return [
        (_service, _service.set(svc)),
        (_service_call, _service_call.set(call)),
        (_interface_logger, _interface_logger.set(svc.logger)),
        (_current, _current.set(None)),
    ]


def leave_service(tokens: list[tuple[ContextVar[Any], Any]]) -> None:
    for var, token in reversed(tokens):
        var.reset(token)
