"""One loaded service: the object its code made, its locks, its calls in progress and its
threads (``start()`` and those started with ``svcapi.startThread``).

Life: :meth:`ServiceInstance.create` makes the object and runs ``init()``; :meth:`begin`
starts ``start()`` in a thread of its own when the class defines it; calls go through
:meth:`call`; :meth:`shutdown` refuses new calls (the manager then sends them to a newer
instance or loads one), waits for the calls in progress, calls ``stop()`` and joins the
threads. Every piece of service code runs with the service as its context
(:func:`qorus_server.userapi.context.enter_service`): its log, its state data, its threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from qorus_core.db import audit
from qorus_core.db.refdata import now
from qorus_core.db.services import MethodDef, ServiceDef
from qorus_core.model.errors import QorusError
from qorus_server.services.locks import RWLock, Slots
from qorus_server.services.stats import ServiceStats
from qorus_server.userapi import context
from qorus_server.userapi.context import ServiceCall

if TYPE_CHECKING:
    from qorus_server.services.manager import ServiceManager

#: how long an unload waits for the calls in progress, then for the service's threads
DRAIN_WAIT = 60.0
JOIN_WAIT = 30.0


class ServiceError(QorusError):
    code = "SERVICE-ERROR"


class ServiceMethodError(QorusError):
    """An exception raised by a service method, answered 409 with its own error code."""

    code = "SERVICE-METHOD-ERROR"


def error_code(exc: BaseException) -> tuple[str, str]:
    """The Qorus error code of an exception raised by service code (its ``err`` or
    ``code`` attribute, else its class name) and its description."""
    code = getattr(exc, "err", None) or getattr(exc, "code", None)
    if not isinstance(code, str) or not code:
        code = type(exc).__name__
    desc = getattr(exc, "desc", None)
    if not isinstance(desc, str):
        desc = str(exc)
    return code, desc


class ServiceInstance:
    """A service loaded from one version of its definition (a ``ServiceHandle`` for the
    service API)."""

    def __init__(
        self,
        manager: ServiceManager,
        sdef: ServiceDef,
        cls: type[Any],
        logger: logging.Logger,
        slots: Slots,
        stats: ServiceStats,
    ) -> None:
        self.manager = manager
        self.sdef = sdef
        self.serviceid = sdef.serviceid
        self.name = sdef.name
        self.service_type = sdef.service_type
        self.logger = logger
        self.cls = cls
        self.slots = slots
        self.stats = stats
        self.lock = RWLock()
        self.obj: Any = None
        self.loaded: datetime = now()
        self.has_start = callable(getattr(cls, "start", None))
        self.has_stop = callable(getattr(cls, "stop", None))
        self._cond = threading.Condition()
        self._calls = 0
        self._stopping = False
        self._stopped = threading.Event()
        self._threads: set[threading.Thread] = set()
        self._start_thread: threading.Thread | None = None
        #: the SERVICE-START audit row, named by the SERVICE-STOP row
        self.audit_id: int | None = None

    # ------------------------------------------------------------------ life

    def create(self) -> None:
        """Make the service object and run its ``init()``; SERVICE-ERROR when either fails
        or when the class defines ``start()`` without ``stop()``."""
        if self.has_start and not self.has_stop:
            raise ServiceError(
                f"{self.sdef.label()}: the class defines start() but not stop(); the manager "
                "needs stop() to end start() at unload",
                code="INCONSISTENT-SERVICE",
            )
        tokens = context.enter_service(self, None)
        try:
            self.obj = self.cls()
            self.obj.init()
        except Exception as exc:
            code, desc = error_code(exc)
            self.logger.exception("%s: init() failed", self.sdef.label())
            raise ServiceError(
                f"{self.sdef.label()} cannot be loaded: init() raised {code}: {desc}",
                code="SERVICE-LOAD-ERROR",
                info={"err": code, "desc": desc},
            ) from exc
        finally:
            context.leave_service(tokens)
        self.logger.info("%s loaded", self.sdef.label())

    def begin(self) -> None:
        """Start ``start()`` in a thread of its own when the class defines it."""
        if not self.has_start:
            return
        thread = self._thread(self._run_start, (), "start")
        self._start_thread = thread
        thread.start()

    def _run_start(self) -> None:
        try:
            self.obj.start()
            self.logger.info("%s: start() returned; the service unloads", self.sdef.label())
        except Exception as exc:
            code, desc = error_code(exc)
            self.logger.exception("%s: start() raised %s", self.sdef.label(), code)
            self.manager.post_error(self.sdef, "START-ERROR", f"start() raised {code}: {desc}")
        if not self._stopping:
            self.manager.start_returned(self)

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def status(self) -> str:
        return "running" if self.thread_count() else "loaded"

    def thread_count(self) -> int:
        with self._cond:
            return len(self._threads)

    @property
    def active_calls(self) -> int:
        with self._cond:
            return self._calls

    def shutdown(self, reason: str) -> None:
        """Refuse new calls, let the calls in progress finish (on this object), call
        ``stop()`` and join the service's threads (never the calling thread)."""
        with self._cond:
            if self._stopping:
                already = True
            else:
                already = False
                self._stopping = True
        if already:
            self._stopped.wait(DRAIN_WAIT + JOIN_WAIT)
            return
        try:
            self._drain()
            if self.has_stop:
                tokens = context.enter_service(self, None)
                try:
                    self.obj.stop()
                except Exception as exc:
                    code, desc = error_code(exc)
                    self.logger.exception("%s: stop() raised %s", self.sdef.label(), code)
                    self.manager.post_error(
                        self.sdef, "STOP-ERROR", f"stop() raised {code}: {desc}"
                    )
                finally:
                    context.leave_service(tokens)
            self._join()
            self.logger.info("%s unloaded (%s)", self.sdef.label(), reason)
        finally:
            self._stopped.set()

    def _drain(self) -> None:
        me_in_call = context.current_service() is self
        deadline = time.monotonic() + DRAIN_WAIT
        with self._cond:
            # a call of this very service asking for its unload is not waited for
            while self._calls > (1 if me_in_call else 0):
                left = deadline - time.monotonic()
                if left <= 0:
                    self.logger.warning(
                        "%s: %d call(s) still running after %g s; unloading anyway",
                        self.sdef.label(),
                        self._calls,
                        DRAIN_WAIT,
                    )
                    return
                self._cond.wait(left)

    def _join(self) -> None:
        deadline = time.monotonic() + JOIN_WAIT
        me = threading.current_thread()
        with self._cond:
            threads = [t for t in self._threads if t is not me]
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                self.logger.warning(
                    "%s: thread %s did not end within %g s of stop()",
                    self.sdef.label(),
                    t.name,
                    JOIN_WAIT,
                )

    # ------------------------------------------------------------------ calls

    def enter(self) -> bool:
        """Count a call in; False when the instance is being unloaded (call the next one)."""
        with self._cond:
            if self._stopping:
                return False
            self._calls += 1
            return True

    def leave(self) -> None:
        with self._cond:
            self._calls -= 1
            self._cond.notify_all()

    def method_function(self, method: MethodDef) -> Callable[..., Any]:
        """The bound method of the service object a definition's method names."""
        if not hasattr(self.cls, method.name):
            raise ServiceError(
                f"{self.sdef.label()}: method {method.name!r} is not defined by class "
                f"{self.cls.__name__}",
                code="SERVICE-NO-METHOD",
            )
        fn = getattr(self.obj, method.name)
        if not callable(fn):
            raise ServiceError(
                f"{self.sdef.label()}: {method.name!r} of class {self.cls.__name__} is not a "
                "method",
                code="SERVICE-NO-METHOD",
            )
        return fn  # type: ignore[no-any-return]

    def call(self, method: MethodDef, args: list[Any], call: ServiceCall) -> Any:
        """Run one method call (the caller has entered the instance and holds a slot)."""
        fn = self.method_function(method)
        started = time.monotonic()
        ok = False
        tokens = context.enter_service(self, call)
        try:
            with self.lock.hold(method.lock):
                result = fn(*args)
            ok = True
            return result
        except QorusError as exc:
            if exc.code in ("SERVICE-LOCK-ERROR",):
                raise
            raise self._method_error(method, exc) from exc
        except Exception as exc:
            raise self._method_error(method, exc) from exc
        finally:
            context.leave_service(tokens)
            self.stats.add(method.name, time.monotonic() - started, ok)

    def _method_error(self, method: MethodDef, exc: Exception) -> ServiceMethodError:
        code, desc = error_code(exc)
        self.logger.error(
            "%s: method %s() raised %s: %s",
            self.sdef.label(),
            method.name,
            code,
            desc,
            exc_info=exc,
        )
        return ServiceMethodError(
            desc, code=code, info={"service": self.name, "method": method.name}
        )

    # ------------------------------------------------------------------ ServiceHandle

    def get_state(self) -> Any:
        return self.manager.get_state(self.serviceid)

    def save_state(self, data: Any) -> None:
        self.manager.save_state(self, data)

    def info(self) -> dict[str, Any]:
        return self.manager.runtime_info(self)

    def _thread(self, fn: Callable[..., Any], args: tuple[Any, ...], what: str) -> threading.Thread:
        """A thread of the service (registered now, so an unload joins it)."""

        def run() -> None:
            # what the thread changes is audited as the server's doing (it outlives any call)
            rt = self.manager.runtime
            audit.set_for_thread(rt.audit if rt is not None else None)
            tokens = context.enter_service(self, None)
            try:
                fn(*args)
            finally:
                context.leave_service(tokens)
                with self._cond:
                    self._threads.discard(threading.current_thread())
                    self._cond.notify_all()

        thread = threading.Thread(target=run, name=f"svc-{self.name}-{what}", daemon=True)
        with self._cond:
            self._threads.add(thread)
        return thread

    def start_thread(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> int:
        if not callable(fn):
            raise ServiceError(
                f"startThread() needs a function, got {type(fn).__name__}",
                code="START-SERVICE-THREAD-ERROR",
            )
        if not self.has_stop:
            raise ServiceError(
                f"{self.sdef.label()}: startThread() needs a stop() method in the service "
                "(the manager calls it to end the threads at unload)",
                code="START-SERVICE-THREAD-ERROR",
            )
        if self._stopping:
            raise ServiceError(
                f"{self.sdef.label()} is being unloaded: no new thread",
                code="START-SERVICE-THREAD-ERROR",
            )
        self.slots.acquire(
            self.manager.max_threads(),
            self.manager.thread_wait,
            f"{self.sdef.label()}: startThread()",
        )

        def body() -> None:
            try:
                fn(*args)
            except Exception as exc:
                code, desc = error_code(exc)
                self.logger.exception("%s: a service thread raised %s", self.sdef.label(), code)
                self.manager.post_error(
                    self.sdef, "THREAD-ERROR", f"a thread raised {code}: {desc}"
                )
            finally:
                self.slots.release()

        thread = self._thread(body, (), "thread")
        try:
            thread.start()
        except BaseException:
            with self._cond:
                self._threads.discard(thread)
            self.slots.release()
            raise
        assert thread.ident is not None
        return thread.ident
