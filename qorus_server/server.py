"""The running Qorus server: start-up steps 1 to 7 and shutdown steps 1 to 6.

Start-up (each failure is one clear message and the real exit code):

1. options: ``instance-key`` set (exit 1), ``db-max-threads`` below ``system-pool-maximum``
   and the pool split leaving the engine enough connections (exit 2), listener options
   understood (exit 9); bad option values already exit 9 when read.
2. log files in ``logdir`` by the templates (exit 4). In daemon mode the process detaches now.
3. the system datasource opens and its schema is current (exit 3).
4. with ``rbac-security`` on, some user holds LOGIN and SHUTDOWN (exit 5).
5. the application session of this instance key and node: a live one refuses the start; a
   crashed one is recovered when ``auto-recover`` is on, else refused (exit 7). The heartbeat
   starts; with ``auto-recover`` it also recovers other nodes' stale sessions.
6. components start in the start order of :data:`~qorus_server.components.COMPONENTS` (exit
   99 on failure).
7. the HTTP listeners bind (exit 99), the pid file is written, SYSTEM_STARTUP is posted (and
   audited with audit code ``system``).

Shutdown (``PUT system/shutdown``, ``shutdownWait``, SIGTERM, SIGINT):

1. the listeners stop accepting; 2. requests in progress finish; 3. components stop in their
stop order (by default the reverse of the start); 4. SYSTEM_SHUTDOWN is posted and audited;
5. the application session is closed; 6. the pid file is removed; ``shutdownWait`` answers,
and the process exits 0.

What a component or an operation may use of the server is
:class:`~qorus_server.contract.ServerContract`. A component (``name``, ``start(server)``,
``stop()``) is registered once in :mod:`qorus_server.components`; ``server.components`` holds
the started instances.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from qorus_core.crypto import SensitiveCipher, SensitiveKeyError
from qorus_core.db import audit as audit_rows
from qorus_core.db import schema, sensitive
from qorus_core.db.engine import READONLY, check_connection
from qorus_core.db.pools import SystemPools, pool_sizes
from qorus_core.db.refdata import get_schema_id, now
from qorus_core.db.sessions import RecoveryResult
from qorus_core.model.errors import DatasourceError, OptionError, QorusError, SchemaError
from qorus_core.omqdir import OmqDir
from qorus_core.options import Options
from qorus_core.secrets import mask_text, mask_url
from qorus_core.system import open_system_pools
from qorus_server import audit, security
from qorus_server import session as app_session
from qorus_server.api import REGISTRY
from qorus_server.api.registry import CallContext, Operation, PrincipalLike, Registry
from qorus_server.components import COMPONENTS, ComponentRegistry, Factory, Started
from qorus_server.contract import Component
from qorus_server.engine.manager import WorkflowManager
from qorus_server.events import EventBus
from qorus_server.force_user import parse_rules as parse_force_rules
from qorus_server.http import listeners as http_listeners
from qorus_server.http.app import RequestTracker, build_app
from qorus_server.http.routes import RestRouter
from qorus_server.logins import LoginGate
from qorus_server.logs import LogFileError, Logs
from qorus_server.services.manager import ServiceManager

EXIT_OK = 0
EXIT_INSTANCE_KEY = 1
EXIT_DB_THREADS = 2
EXIT_DATASOURCE = 3
EXIT_LOG_FILES = 4
EXIT_RBAC = 5
EXIT_EVENTS = 6
EXIT_SESSION = 7
EXIT_COMMAND_LINE = 8
EXIT_OPTIONS = 9
EXIT_VERSION = 10
EXIT_OTHER = 99


class StartupError(Exception):
    """A start-up failure: its exit code and one line for the operator (secrets masked)."""

    def __init__(self, code: int, message: str) -> None:
        message = mask_text(message)
        super().__init__(message)
        self.code = code
        self.message = message


class QorusServer:
    """One running instance. Attributes handlers and components may use:

    ``omq``, ``options``, ``version``, ``instance_key``, ``node``, ``hostname``, ``pid``,
    ``started`` (naive UTC), ``engine`` (the system datasource's API pool), ``pools`` (the
    API, engine and heartbeat pools), ``schema_id`` (the system schema's identity),
    ``sessionid``,
    ``events`` (the EventBus), ``logs`` (:class:`~qorus_server.logs.Logs`), ``log`` (the
    system logger), ``auditor``, ``components``, ``listeners``, ``registry``, ``recovered``
    (sessions recovered at start-up); :meth:`request_shutdown`, :meth:`wait_shutdown`.
    """

    def __init__(
        self,
        omq: OmqDir,
        options: Options,
        *,
        version: str,
        log_level: int = logging.INFO,
        components: ComponentRegistry | list[Factory] | None = None,
        registry: Registry | None = None,
    ) -> None:
        self.omq = omq
        self.options = options
        self.version = version
        self.log_level = log_level
        self.instance_key = str(options.get("instance-key") or "")
        self.node = options.node
        self.hostname = socket.gethostname()
        self.pid = os.getpid()
        self.started: datetime = now()
        self.events = EventBus(int(options.get("max-events")))
        self.registry = registry or REGISTRY
        self.router = RestRouter(self.registry)
        self.requests = RequestTracker()
        if components is None:
            components = COMPONENTS.copy()
        elif not isinstance(components, ComponentRegistry):
            components = ComponentRegistry.of(components)
        #: the components this server runs (:data:`~qorus_server.components.COMPONENTS`)
        self.component_registry = components
        self._running = Started()
        self.listeners: list[http_listeners.Listener] = []
        self.recovered: list[RecoveryResult] = []
        self.engine: Engine = None  # type: ignore[assignment]  # set at step 3
        #: the API (= ``engine``), engine and heartbeat pools (set at step 3)
        self.pools: SystemPools | None = None
        self.logs: Logs = None  # type: ignore[assignment]  # set at step 2
        self.log = logging.getLogger("qorus.system")
        self.auditor: audit.Auditor = None  # type: ignore[assignment]
        #: logins: throttling, the password-check threads, remembered logins and tokens
        self.logins = LoginGate(self)
        self.sessionid: int | None = None
        self.schema_id: str | None = None  # read at step 3
        #: the cipher of the sensitive-data-key (loaded or created after step 3)
        self.sensitive: SensitiveCipher | None = None
        self.pid_file = omq.var / f"qorus-{self.instance_key or 'none'}.pid"
        self.shutdown_reason: str | None = None
        self._shutdown_trail: audit_rows.AuditTrail | None = None
        self._heartbeat: app_session.Heartbeat | None = None
        self._uvicorn: list[tuple[http_listeners.UvicornServer, socket.socket]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_async: asyncio.Event | None = None
        self._shutdown_requested = threading.Event()
        self._shutdown_done = threading.Event()
        self._shutdown_lock = threading.Lock()
        self._steps_done = False

    # ------------------------------------------------------------------ start-up

    def step1_options(self) -> None:
        if not self.instance_key.strip():
            raise StartupError(EXIT_INSTANCE_KEY, "no instance key: set qorus.instance-key")
        threads = int(self.options.get("db-max-threads"))
        pool_max = int(self.options.get("system-pool-maximum"))
        if threads >= pool_max:
            raise StartupError(
                EXIT_DB_THREADS,
                f"db-max-threads ({threads}) must be below system-pool-maximum ({pool_max})",
            )
        try:
            pool_sizes(self.options)
        except OptionError as exc:
            raise StartupError(EXIT_DB_THREADS, exc.desc) from None
        try:
            self.listeners = http_listeners.parse_all(self.omq, self.options)
        except OptionError as exc:
            raise StartupError(EXIT_OPTIONS, exc.desc) from None

    def step2_logs(self) -> None:
        try:
            self.logs = Logs(self.omq, self.options, self.log_level)
        except LogFileError as exc:
            raise StartupError(EXIT_LOG_FILES, exc.desc) from None
        self.log = self.logs.system
        self.log.info(
            "qorus %s starting: instance %s, node %s, pid %d, $OMQ_DIR %s",
            self.version,
            self.instance_key,
            self.node,
            self.pid,
            self.omq.root,
        )

    def step3_datasource(self) -> None:
        try:
            self.pools = open_system_pools(self.omq, self.options)
            self.engine = self.pools.api
            check_connection(self.engine)
            schema.check_current(self.engine)
            with self.engine.connect().execution_options(**{READONLY: True}) as conn:
                self.schema_id = get_schema_id(conn)
        except (DatasourceError, SchemaError, OptionError) as exc:
            raise StartupError(EXIT_DATASOURCE, exc.desc) from None
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise StartupError(EXIT_DATASOURCE, f"system datasource: {reason}") from None
        self.auditor = audit.Auditor(self.engine, self.options)
        self.log.info("system datasource %s is current", mask_url(self.engine.url))
        self.step3_sensitive_key()

    def step3_sensitive_key(self) -> None:
        """Load the sensitive-data-key, or create it when missing (exit 99 when unusable)."""
        path = sensitive.key_path(self.options, self.omq)
        try:
            self.sensitive, created = sensitive.open_cipher(self.engine, path)
        except SensitiveKeyError as exc:
            raise StartupError(EXIT_OTHER, exc.desc) from None
        self.log.info("sensitive-data-key %s %s", path, "created" if created else "loaded")

    def step4_rbac(self) -> None:
        if not self.options.get("rbac-security"):
            return
        with self.engine.connect().execution_options(**{READONLY: True}) as conn:
            user = security.user_with_permissions(conn, ("LOGIN", "SHUTDOWN"))
        if user is None:
            raise StartupError(
                EXIT_RBAC,
                "rbac-security is on but no user holds both LOGIN and SHUTDOWN; add one "
                "with 'user-tool -A USER,PASS,superuser'",
            )
        self.log.info("RBAC on; user %r may log in and shut the system down", user)
        try:  # the users table, then the external authenticators of rbac-external
            self.logins.authenticator = security.build_authenticator(self.options, self.log)
            parse_force_rules(self.options.get("rbac-force-user") or ())
        except OptionError as exc:
            raise StartupError(EXIT_RBAC, exc.desc) from None

    def step5_session(self) -> None:
        interval = int(self.options.get("heartbeat-interval"))
        settings = app_session.SessionSettings(
            instancekey=self.instance_key,
            node=self.node,
            url=self.listeners[0].url if self.listeners else None,
            version=self.version,
            auto_recover=bool(self.options.get("auto-recover")),
            heartbeat_interval=interval,
            stale_timeout=app_session.stale_timeout(self.options),
        )
        try:
            self.sessionid, self.recovered = app_session.acquire(
                self.engine, settings, self.auditor, self.log
            )
        except app_session.SessionError as exc:
            raise StartupError(EXIT_SESSION, exc.desc) from None
        app_session.announce(self.engine, self.events, self.recovered)
        watcher = None
        if settings.auto_recover:
            watcher = app_session.StaleSessionWatcher(
                self.pools.heartbeat if self.pools is not None else self.engine,
                self.sessionid,
                settings.max_age,
                self.auditor,
                self.events,
                self.log,
            )
        beat = self.pools.heartbeat if self.pools is not None else self.engine
        self._heartbeat = app_session.Heartbeat(
            beat,
            self.sessionid,
            interval,
            self.log,
            watcher=watcher,
            on_lost=lambda: self.request_shutdown("the application session was recovered"),
            on_beat=self._beat,
        )
        self._heartbeat.start()
        self.log.info("application session %d opened", self.sessionid)

    def _beat(self, ok: bool) -> None:
        """The heartbeat's verdict on the system datasource: RED while it fails; back from
        RED once it answers (``system/health`` tells YELLOW from GREEN)."""
        if not ok:
            self.events.health("RED", {"reason": "the system database does not answer"})
        elif self.events.current_health == "RED":
            self.events.health("GREEN", {"reason": "the system database answers again"})

    def step6_components(self) -> None:
        for spec in self.component_registry:
            comp = spec.factory()
            name = comp.name
            try:
                comp.start(self)
            except Exception as exc:
                self.log.exception("component %s failed to start", name)
                raise StartupError(EXIT_OTHER, f"component {name} failed to start: {exc}") from None
            self._running.append(spec, comp)
            self.log.info("component %s started", name)

    def step7_listeners(self) -> None:
        http_log = self.logs.http
        uv = logging.getLogger("uvicorn")
        uv.handlers = list(http_log.handlers)
        uv.setLevel(self.log_level)
        uv.propagate = False
        app = build_app(self)
        try:
            for lst in self.listeners:
                sock = http_listeners.bind(lst)
                self._uvicorn.append((http_listeners.make_server(app, lst), sock))
                self.log.info("listening on %s", lst.url)
        except http_listeners.ListenerError as exc:
            self._close_sockets()
            raise StartupError(EXIT_OTHER, exc.desc) from None
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.write_text(f"{self.pid}\n")
        info = {
            "instance-key": self.instance_key,
            "session-id": self.sessionid,
            "node": self.node,
            "pid": self.pid,
            "listeners": [lst.url for lst in self.listeners],
        }
        self.events.post("SYSTEM_STARTUP", info, caller="qorus")
        self.auditor.startup_id = self.auditor.event(
            "SYSTEM-STARTUP",
            reason=f"qorus {self.version} started",
            who=audit_rows.unix_who(),
            source=f"{self.hostname} pid {self.pid}",
            info1=str(self.sessionid),
            info2=info,
        )
        self.log.info("system started: session %s", self.sessionid)

    def start(self) -> None:
        """Steps 3 to 7 (1 and 2 run first, before a daemon detaches)."""
        try:
            self.step3_datasource()
            self.step4_rbac()
            self.step5_session()
            self.step6_components()
            self.step7_listeners()
        except StartupError as exc:
            self.log.error("start-up failed: %s", exc.message)
            self._abort()
            raise
        except (QorusError, SQLAlchemyError, OSError) as exc:
            self.log.exception("start-up failed")
            self._abort()
            raise StartupError(EXIT_OTHER, f"start-up failed: {exc}") from None

    def _abort(self) -> None:
        """Undo a partial start-up: stop what started, close the session."""
        self._stop_components()
        if self._heartbeat:
            self._heartbeat.stop()
        if self.sessionid is not None:
            try:
                app_session.close(self.engine, self.sessionid)
            except SQLAlchemyError:
                self.log.exception("cannot close session %s", self.sessionid)
        self._dispose()

    def _dispose(self) -> None:
        if self.pools is not None:
            self.pools.dispose()
        elif self.engine is not None:
            self.engine.dispose()

    def _close_sockets(self) -> None:
        for lst in self.listeners:
            if lst.sock is not None:
                lst.sock.close()
                lst.sock = None
            if lst.path is not None and lst.path.exists():
                lst.path.unlink()

    # ------------------------------------------------------------------ running

    def serve(self) -> None:
        """Run the listeners until shutdown, then run the shutdown steps (blocking)."""
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._stop_async = asyncio.Event()
        if self._shutdown_requested.is_set():
            self._stop_async.set()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_shutdown, f"signal {sig.name}")
        tasks = [
            asyncio.create_task(server.serve(sockets=[sock])) for server, sock in self._uvicorn
        ]
        await self._stop_async.wait()
        self.log.info("shutdown: %s", self.shutdown_reason)
        for server, _sock in self._uvicorn:  # 1: stop accepting
            server.should_exit = True
        await self.requests.drained()  # 2: requests in progress finish
        await asyncio.to_thread(self.shutdown_steps)  # 3 to 6
        await asyncio.gather(*tasks, return_exceptions=True)
        self._close_sockets()
        self.log.info("system stopped")
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)

    def request_shutdown(self, reason: str = "shutdown requested") -> None:
        """Start the shutdown from any thread; later requests are ignored."""
        with self._shutdown_lock:
            if self._shutdown_requested.is_set():
                return
            self.shutdown_reason = reason
            # who asked (an API call's user and address, else the server itself)
            self._shutdown_trail = self.auditor.trail() if self.auditor is not None else None
            self._shutdown_requested.set()
        self.events.shutdown()  # event waits end now: requests in progress can finish
        loop, ev = self._loop, self._stop_async
        if loop is not None and ev is not None:
            loop.call_soon_threadsafe(ev.set)

    @property
    def stopping(self) -> bool:
        return self._shutdown_requested.is_set()

    def wait_shutdown(self, timeout: float | None = None) -> bool:
        """Block until the shutdown steps are done (an HTTP request waiting here does not
        hold the shutdown up)."""
        with self.requests.waiting():
            return self._shutdown_done.wait(timeout)

    def _stop_components(self) -> None:
        while (comp := self._running.pop_next_to_stop()) is not None:
            name = comp.name
            try:
                comp.stop()
                self.log.info("component %s stopped", name)
            except Exception:
                self.log.exception("component %s failed to stop", name)

    def shutdown_steps(self) -> None:
        """Steps 3 to 6 of the shutdown: components, SYSTEM_SHUTDOWN, session, pid file."""
        if self._steps_done:
            return
        self._steps_done = True
        try:
            self._stop_components()
            info = {"instance-key": self.instance_key, "reason": self.shutdown_reason}
            self.events.post("SYSTEM_SHUTDOWN", info, caller="qorus")
            try:
                trail = self._shutdown_trail or self.auditor.system
                with audit_rows.using(trail):  # who asked for the shutdown
                    self.auditor.event(
                        "SYSTEM-SHUTDOWN",
                        reason=self.shutdown_reason,
                        info1=str(self.sessionid),
                        related=self.auditor.startup_id,
                    )
            except SQLAlchemyError:
                self.log.exception("cannot write the shutdown audit row")
            if self._heartbeat:
                self._heartbeat.stop()
            if self.sessionid is not None:
                try:
                    app_session.close(self.engine, self.sessionid)
                    self.log.info("application session %d closed", self.sessionid)
                except SQLAlchemyError:
                    self.log.exception("cannot close session %s", self.sessionid)
            self.logins.close()
            self._dispose()
            self._remove_pid_file()
        finally:
            self._shutdown_done.set()

    def _remove_pid_file(self) -> None:
        try:
            if self.pid_file.read_text().strip() == str(self.pid):
                self.pid_file.unlink()
        except OSError:
            pass

    # ------------------------------------------------------------------ API hooks

    def context(self, user: PrincipalLike | None = None) -> CallContext:
        """A call context for the internal Python API."""
        return CallContext(server=self, user=user, transport="internal")

    def call(self, name: str, **args: object) -> Any:
        """Call a system API operation in-process (no user: RBAC does not apply)."""
        return self.registry.call(name, self.context(), args)

    def audit_api_call(
        self,
        op: Operation,
        ctx: CallContext,
        args: Mapping[str, object],
        result: object,
        conn: Connection | None = None,
    ) -> None:
        """The registry calls this after an audited operation succeeds (audit code ``api``);
        with ``conn``, in that transaction (see :meth:`CallContext.audit_in`)."""
        audit.record_api_call(self, op, ctx, args, conn)

    @property
    def components(self) -> list[Component]:
        """The started components in start order."""
        return self._running.components

    def component_health(self) -> dict[str, object]:
        return self._running.health()

    @property
    def workflows(self) -> WorkflowManager:
        """The running workflow engine; WORKFLOW-ENGINE-ERROR when it is not running."""
        for comp in self.components:
            if isinstance(comp, WorkflowManager):
                return comp
        raise QorusError("the workflow engine is not running", code="WORKFLOW-ENGINE-ERROR")

    @property
    def services(self) -> ServiceManager:
        """The running service manager; SERVICE-MANAGER-ERROR when it is not running."""
        for comp in self.components:
            if isinstance(comp, ServiceManager):
                return comp
        raise QorusError("the service manager is not running", code="SERVICE-MANAGER-ERROR")

    @property
    def system_log_path(self) -> Path | None:
        return self.logs.system_path if self.logs else None


def _report_line(message: str) -> None:
    print(f"qorus: {message}", file=sys.stderr, flush=True)


def run(
    omq: OmqDir,
    options: Options,
    *,
    foreground: bool,
    version: str,
    log_level: int = logging.INFO,
) -> int:
    """Start the server and run it until shutdown; returns the process exit code."""
    from qorus_server import daemon

    omq.ensure()
    server = QorusServer(omq, options, version=version, log_level=log_level)
    try:
        server.step1_options()
        server.step2_logs()
    except StartupError as exc:
        _report_line(exc.message)
        return exc.code
    reporter: daemon.Reporter | None = None
    if not foreground:
        reporter = daemon.detach(server.logs.system_path)
        if reporter is None:  # the parent: the detached server has reported its start-up
            return daemon.parent_code()
        server.pid = os.getpid()
    try:
        server.start()
    except StartupError as exc:
        if reporter is not None:
            reporter.report(exc.code, exc.message)
        else:
            _report_line(exc.message)
        server.logs.close()
        return exc.code
    urls = ", ".join(lst.url for lst in server.listeners)
    message = (
        f"instance {server.instance_key} started (session {server.sessionid}, pid "
        f"{server.pid}); listening on {urls}"
    )
    if reporter is not None:
        reporter.report(EXIT_OK, message)
    else:
        _report_line(message)
    server.serve()
    server.logs.close()
    return EXIT_OK
