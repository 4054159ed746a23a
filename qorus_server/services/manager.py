"""The service manager: the server component that loads, calls, resets and unloads services.

A service is *unloaded* until something loads it: autostart at start-up (``autostart`` set,
``autostart-interfaces`` on), ``PUT services/{id}?action=load``, or the first call to one of
its methods. Loading compiles its code from the schema (library classes first, as for steps),
makes the object and runs ``init()``: the service is *loaded*; when its class defines
``start()``, that runs in a thread of its own and the service is *running* until ``start()``
returns, which unloads it. Unloading refuses new calls to the instance, lets the calls in
progress finish, calls ``stop()`` and joins the service's threads.

``reset`` loads the stored code again while the service runs: the new object is made and
initialized first, then new calls go to it while the calls in progress finish on the old one,
which is unloaded after them; no call fails. A disabled service cannot be loaded or called
(SERVICE-DISABLED). Calls and threads of one service are bounded by ``max-service-threads``:
one more waits up to :attr:`ServiceManager.thread_wait` seconds, then fails
SERVICE-THREAD-LIMIT. Each service logs into its own file (``svc-logfile-template``).

Events SERVICE_START, SERVICE_STOP, SERVICE_ERROR and SERVICE_AUTOSTART_CHANGE go to the event
bus; the audit rows SERVICE-START and SERVICE-STOP are written when the ``audit`` option
includes ``services``.

The manager decides; its collaborators do one job each: :mod:`.registry` (what is kept of
each service across loads), :mod:`.loading` (checks, compilation, ``init()``), :mod:`.calls`
(the method-call path), :mod:`.notify` (events and audit rows).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Connection, Engine

from qorus_core.db import services as db
from qorus_core.db.engine import READONLY
from qorus_core.db.services import MethodDef, ServiceDef
from qorus_core.loader.system_release import ensure_system_services
from qorus_core.model import args as a
from qorus_core.model.errors import NotFoundError, QorusError
from qorus_server.contract import ServerContract
from qorus_server.engine.manager import logger_factory
from qorus_server.services import calls, loading, notify
from qorus_server.services.instance import ServiceError, ServiceInstance
from qorus_server.services.registry import Entry, Key, ServiceRegistry
from qorus_server.services.registry import key_of as _key
from qorus_server.userapi import context as uctx
from qorus_server.userapi import install
from qorus_server.userapi.context import (
    LoggerFactory,
    Runtime,
    ServiceCall,
    bind_runtime,
    unbind_runtime,
)

#: seconds a call over ``max-service-threads`` waits for a free slot before it fails
THREAD_WAIT = 30.0


class ServiceManager:
    """The service component (``server.services`` once started)."""

    name = "services"

    def __init__(
        self,
        *,
        logger_factory: LoggerFactory | None = None,
        thread_wait: float = THREAD_WAIT,
        system_release: bool = True,
    ) -> None:
        self._logger_factory = logger_factory
        self.thread_wait = thread_wait
        self.system_release = system_release
        self.runtime: Runtime | None = None
        self.server: ServerContract | None = None
        self._engine: Engine | None = None
        self._registry = ServiceRegistry()
        self._state_lock = threading.Lock()
        self._stopped = False
        self.log = logging.getLogger("qorus.services")

    # ------------------------------------------------------------------ life cycle

    def start(self, server: ServerContract) -> None:
        install()
        self.server = server
        self._engine = server.engine
        pools = server.pools
        if server.sessionid is None:
            raise QorusError("the service manager needs an application session")
        runtime = Runtime(
            engine=pools.engine if pools is not None else server.engine,
            options=server.options,
            sessionid=server.sessionid,
            events=server.events,
            omq=server.omq,
            get_logger=logger_factory(server, self._logger_factory),
            server=server,
            sensitive=server.sensitive,
            audit=server.auditor.system if server.auditor is not None else None,
        )
        self.runtime = runtime
        self.log = runtime.get_logger("system", "services")
        bind_runtime(runtime)
        self._stopped = False
        if self.system_release:
            self._system_release()
        if server.options.get("autostart-interfaces"):
            self.autostart()

    def _system_release(self) -> None:
        """Load the system services shipped with the product when the schema lacks them
        (a schema made without ``schema-tool -V``); a failure is logged, start-up goes on."""
        try:
            res = ensure_system_services(self._db(), only_missing=True)
        except Exception as exc:
            self.log.error("cannot load the system services: %s", exc)
            return
        if res is not None and res.loaded:
            self.log.info("system services loaded: %s", ", ".join(res.loaded))

    def autostart(
        self, only: Collection[int] | None = None, reason: str = "autostart", who: str | None = None
    ) -> list[str]:
        """Load every enabled service (of those in ``only``) whose ``autostart`` is set and
        that no disabled interface group stops; a service that fails is logged (SERVICE_ERROR)
        and the others are loaded."""
        with self._read() as conn:
            ids = db.autostart_services(conn)
        loaded = []
        for sid in ids:
            if only is not None and sid not in only:
                continue
            if self.loaded_instance(sid) is not None:
                continue
            try:
                inst = self.load(sid, reason=reason, who=who)
                loaded.append(inst.sdef.label())
            except Exception as exc:
                desc = exc.desc if isinstance(exc, QorusError) else str(exc)
                self.log.error("cannot autostart service id %d: %s", sid, desc)
        return loaded

    def stop(self) -> None:
        self._stopped = True
        threads = []
        for entry in self._registry.entries():
            t = threading.Thread(
                target=self._unload_entry, args=(entry, "system shutdown"), daemon=True
            )
            t.start()
            threads.append(t)
        for t in threads:
            t.join(90)
        if self.runtime is not None:
            self.runtime.stop_event.set()
            unbind_runtime(self.runtime)

    def health(self) -> dict[str, int]:
        insts = self._registry.loaded()
        running = sum(1 for i in insts if i.status == "running")
        return {"loaded": len(insts), "running": running}

    # ------------------------------------------------------------------ helpers

    def _db(self) -> Engine:
        if self._engine is None:
            raise QorusError("the service manager is not started", code="SYSTEM-ERROR")
        return self._engine

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._db().connect().execution_options(**{READONLY: True}) as conn:
            yield conn

    def max_threads(self) -> int:
        rt = self.runtime
        return int(rt.options.get("max-service-threads")) if rt is not None else 200

    def _entry(self, key: Key) -> Entry:
        return self._registry.entry(key)

    def _loaded(self) -> list[ServiceInstance]:
        return self._registry.loaded()

    def loaded_ids(self) -> set[int]:
        """The serviceids of the services loaded here."""
        return {inst.serviceid for inst in self._loaded()}

    def loaded_by_name(self, service_type: str, name: str) -> ServiceInstance | None:
        return self._registry.by_name(service_type, name)

    def loaded_instance(self, serviceid: int) -> ServiceInstance | None:
        return self._registry.by_id(serviceid)

    def _logger(self, sdef: ServiceDef) -> logging.Logger:
        rt = self.runtime
        if rt is None:
            return logging.getLogger(f"qorus.service.{sdef.name}")
        return rt.get_logger("service", sdef.name)

    def _post(self, event: str, sdef: ServiceDef, severity: str = "INFO", **extra: Any) -> None:
        notify.post_event(self.server, self.log, event, sdef, severity, **extra)

    def post_error(self, sdef: ServiceDef, err: str, desc: str) -> None:
        self._post("SERVICE_ERROR", sdef, severity="MAJOR", err=err, desc=desc)

    def _audit(self, event: str, inst: ServiceInstance, reason: str, who: str | None) -> None:
        notify.audit_event(self.server, self.log, event, inst, reason, who)

    # ------------------------------------------------------------------ definitions

    def definition(
        self, ref: str | int, version: str | None = None, service_type: str | None = None
    ) -> ServiceDef:
        """The definition a call or an operation names: by name (without a version: the
        loaded version when the service is loaded, else the latest), ``name`` and
        ``version``, or id. 404 SERVICE-ERROR when there is none (of ``service_type``)."""
        text = str(ref)
        if version is None and not (text.isascii() and text.isdigit()):
            for inst in self._loaded():
                if inst.name == text and service_type in (None, inst.service_type):
                    return inst.sdef
        with self._read() as conn:
            sid = db.find_service(conn, ref, version, service_type)
            loaded = self.loaded_instance(sid)
            if loaded is not None:
                return loaded.sdef
            return db.load_service(conn, sid)

    def stored(self, serviceid: int) -> ServiceDef:
        """The definition as stored now (flags and code of the database)."""
        with self._read() as conn:
            return db.load_service(conn, serviceid)

    def listing(self) -> list[tuple[ServiceDef, ServiceInstance | None]]:
        """The latest version of every service, and the loaded version where it differs."""
        with self._read() as conn:
            latest = db.latest_services(conn)
        loaded = {(i.service_type, i.name): i for i in self._loaded()}
        out: list[tuple[ServiceDef, ServiceInstance | None]] = []
        for sdef in latest:
            inst = loaded.pop(_key(sdef), None)
            if inst is not None and inst.serviceid != sdef.serviceid:
                out.append((inst.sdef, inst))
                continue
            out.append((sdef, inst))
        out.extend((inst.sdef, inst) for inst in loaded.values())  # deleted since loaded
        return out

    # ------------------------------------------------------------------ loading

    def _instantiate(self, entry: Entry, sdef: ServiceDef) -> ServiceInstance:
        return loading.instantiate(self, entry, sdef, engine=self._db(), logger=self._logger(sdef))

    def _check_loadable(self, sdef: ServiceDef) -> None:
        loading.check_loadable(sdef, stopped=self._stopped, read=self._read)

    def _started(self, inst: ServiceInstance, reason: str, who: str | None) -> None:
        self._post("SERVICE_START", inst.sdef, reason=reason)
        self._audit("SERVICE-START", inst, reason, who)

    def load(
        self, ref: str | int | ServiceDef, *, reason: str = "load", who: str | None = None
    ) -> ServiceInstance:
        """The loaded instance of a service, loading it first when it is not loaded."""
        sdef = ref if isinstance(ref, ServiceDef) else self.definition(ref)
        entry = self._entry(_key(sdef))
        inst = entry.instance
        if inst is not None and not inst.stopping:
            return inst
        if entry.loading == threading.get_ident():
            raise ServiceError(
                f"{sdef.label()} is called from its own init(): it is not loaded yet",
                code="SERVICE-LOAD-ERROR",
            )
        with entry.lock:
            inst = entry.instance
            if inst is not None and not inst.stopping:
                return inst
            stored = self.stored(sdef.serviceid)
            self._check_loadable(stored)
            inst = self._instantiate(entry, stored)
            entry.instance = inst
        self._started(inst, reason, who)
        inst.begin()
        return inst

    def unload(
        self, ref: str | int | ServiceDef, *, reason: str = "unload", who: str | None = None
    ) -> bool:
        """Unload a service; False when it was not loaded."""
        sdef = ref if isinstance(ref, ServiceDef) else self.definition(ref)
        return self._unload_entry(self._entry(_key(sdef)), reason, who)

    def _unload_entry(self, entry: Entry, reason: str, who: str | None = None) -> bool:
        with entry.lock:
            inst = entry.instance
            entry.instance = None
        if inst is None:
            return False
        self._shutdown(inst, reason, who)
        return True

    def _shutdown(self, inst: ServiceInstance, reason: str, who: str | None) -> None:
        if uctx.current_service() is inst:
            # asked by the service's own code: let its call return, unload behind it
            threading.Thread(
                target=self._finish,
                args=(inst, reason, who),
                daemon=True,
                name=f"svc-{inst.name}-unload",
            ).start()
            return
        self._finish(inst, reason, who)

    def _finish(self, inst: ServiceInstance, reason: str, who: str | None) -> None:
        inst.shutdown(reason)
        self._post("SERVICE_STOP", inst.sdef, reason=reason)
        self._audit("SERVICE-STOP", inst, reason, who)

    def start_returned(self, inst: ServiceInstance) -> None:
        """``start()`` returned: the service unloads (unless a newer instance replaced it)."""
        entry = self._entry((inst.service_type, inst.name))
        with entry.lock:
            if entry.instance is not inst:
                return
            entry.instance = None
        self._finish(inst, "start() returned", None)

    def reset(
        self,
        ref: str | int,
        version: str | None = None,
        *,
        load: bool = False,
        who: str | None = None,
    ) -> dict[str, Any]:
        """Load the stored code again (of the version ``ref`` names: without one, the
        latest); a loaded service keeps answering: calls in progress finish on the old
        object, new calls go to the new one. A service not loaded is loaded only with
        ``load``. ``{loaded, reset, ...}``: ``loaded`` whether it was loaded before."""
        with self._read() as conn:
            sid = db.find_service(conn, ref, version)
        sdef = self.stored(sid)
        entry = self._entry(_key(sdef))
        with entry.lock:
            old = entry.instance
            if old is None or old.stopping:
                old = None
                if not load:
                    return {"loaded": False, "reset": False, "sdef": sdef}
            self._check_loadable(sdef)
            new = self._instantiate(entry, sdef)
            entry.instance = new
        if old is not None:
            self._shutdown(old, "reset", who)
        self._started(new, "reset" if old is not None else "load", who)
        new.begin()
        return {"loaded": old is not None, "reset": True, "sdef": sdef}

    def reset_all(
        self, which: Callable[[ServiceDef], bool] | None = None, who: str | None = None
    ) -> list[dict[str, Any]]:
        """Reset every loaded service (``which`` of them), each from its latest version."""
        out = []
        for inst in self._loaded():
            if which is not None and not which(inst.sdef):
                continue
            try:
                res = self.reset(inst.name, who=who)
                out.append({**res, "error": None})
            except QorusError as exc:
                out.append({"loaded": True, "reset": False, "sdef": inst.sdef, "error": exc})
        return out

    # ------------------------------------------------------------------ flags and stats

    def set_enabled(self, serviceid: int, enabled: bool, who: str | None = None) -> ServiceDef:
        with self._db().begin() as conn:
            if not db.set_flags(conn, serviceid, enabled=enabled):
                raise NotFoundError(f"service id {serviceid} does not exist", code="SERVICE-ERROR")
        sdef = self.stored(serviceid)
        self._post("SERVICE_UPDATED", sdef, info={"enabled": enabled})
        entry = self._entry(_key(sdef))
        if not enabled:
            inst = entry.instance
            if inst is not None and inst.serviceid == serviceid:
                self._unload_entry(entry, "disabled", who)
        elif (
            sdef.autostart
            and self.runtime is not None
            and self.runtime.options.get("autostart-interfaces")
        ):
            self.load(sdef, reason="enabled", who=who)
        return sdef

    def set_autostart(self, serviceid: int, autostart: bool) -> tuple[bool, ServiceDef]:
        """Store the autostart flag; (changed, definition). SERVICE_AUTOSTART_CHANGE."""
        before = self.stored(serviceid)
        with self._db().begin() as conn:
            db.set_flags(conn, serviceid, autostart=autostart)
        sdef = self.stored(serviceid)
        inst = self.loaded_instance(serviceid)
        if inst is not None:
            inst.sdef = sdef
        if before.autostart != autostart:
            self._post("SERVICE_AUTOSTART_CHANGE", sdef, autostart=autostart)
            self._post("SERVICE_UPDATED", sdef, info={"autostart": autostart})
        return before.autostart != autostart, sdef

    def reset_stats(self, sdef: ServiceDef) -> None:
        self._entry(_key(sdef)).stats.reset()

    def stats(self, sdef: ServiceDef, with_methods: bool = True) -> dict[str, object]:
        entry = self._entry(_key(sdef))
        inst = entry.instance
        active = inst.active_calls if inst is not None else 0
        return entry.stats.as_dict(active, with_methods)

    # ------------------------------------------------------------------ calls

    def call(self, sdef: ServiceDef, method: str, args: list[Any], call: ServiceCall) -> Any:
        """Call ``method`` of the service (loading it first when it is not loaded) with
        positional ``args``; its result. The caller has checked the permissions."""
        mdef = self.method(sdef, method, call)
        return calls.invoke(
            sdef,
            mdef,
            args,
            call,
            slots=self._entry(_key(sdef)).slots,
            max_threads=self.max_threads(),
            thread_wait=self.thread_wait,
            load=lambda d, who: self.load(d, reason="call", who=who),
        )

    def method(self, sdef: ServiceDef, method: str, call: ServiceCall | None = None) -> MethodDef:
        """The method a call names (:func:`.calls.resolve_method`): 404 SERVICE-NO-METHOD,
        403 INTERNAL-METHOD-ERROR for an internal method called from outside the service."""
        return calls.resolve_method(sdef, method, call)

    def call_from_code(self, name: str, method: str, args: list[Any]) -> Any:
        """A call from interface code (``UserApi.callService``) as the system: no RBAC; the
        service's own code may call its internal methods."""
        call = calls.code_call(method)
        return self.call(self.definition(name), method, list(args), call)

    # ------------------------------------------------------------------ state data

    def get_state(self, serviceid: int) -> Any:
        with self._read() as conn:
            return db.get_state(conn, serviceid)

    def save_state(self, inst: ServiceInstance, data: Any) -> None:
        if data is not None and not isinstance(data, dict):
            raise QorusError(
                f"saveStateData() needs a hash (or None), got {type(data).__name__}",
                code="SERVICE-STATE-ERROR",
            )
        try:
            a.check_data(data, "state data", lambda d: QorusError(d, code="SERVICE-STATE-ERROR"))
            text = db.state_text(data)  # once: nothing of the caller's object is kept
        except (TypeError, ValueError) as exc:
            raise QorusError(
                f"saveStateData(): the data cannot be stored: {exc}", code="SERVICE-STATE-ERROR"
            ) from None
        with self._state_lock, self._db().begin() as conn:
            db.save_state(conn, inst.serviceid, text)

    # ------------------------------------------------------------------ information

    def runtime_info(self, inst: ServiceInstance) -> dict[str, Any]:
        sdef = inst.sdef
        return {
            "type": sdef.type,
            "name": sdef.name,
            "version": sdef.version,
            "desc": sdef.description,
            "serviceid": sdef.serviceid,
            "status": inst.status,
            "threads": inst.thread_count(),
            "autostart": sdef.autostart,
            "loaded": inst.loaded,
            "methods": [{"name": m.name, "desc": m.description} for m in sdef.methods],
            "groups": list(sdef.groups),
        }

    def log_path(self, sdef: ServiceDef) -> str | None:
        server = self.server
        logs = getattr(server, "logs", None) if server is not None else None
        if logs is None:
            return None
        from qorus_server.logs import KINDS

        return str(logs.path(KINDS["SVC"], sdef.name))
