"""Service operations: ``services``, ``services/{id|name|name:version}`` and method calls
``services/{id}/{method}?action=call``.

A service is named by its id, by its name (the loaded version, else the latest) or by
``name:version``. Reads need LOGIN; load, unload, reset, autostart and the call statistics
need the narrow permissions of SERVICE-CONTROL (LOAD-SERVICE, UNLOAD-SERVICE, RESET-SERVICE,
SET-SERVICE-AUTOSTART), enable and disable SERVICE-CONTROL itself. A method call needs
CALL-USER-SERVICES-RW (CALL-SYSTEM-SERVICES-RW for a system service), or the -RO permission
for a method whose ``write`` flag is off; it is checked inside ``services.call`` because it
depends on the target. With RBAC on, a user sees the user services of its interface groups
(every system service).

``services.call`` (``id``, ``method``, ``args``, ``servicetype``) is also what the RPC
gateways call for ``omq.user.service.NAME.METHOD`` and ``omq.system.service.NAME.METHOD``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from qorus_core.db.services import MethodDef, ServiceDef
from qorus_core.model import args as a
from qorus_core.model.errors import AuthorizationError, QorusError, ValidationError
from qorus_server.api import access
from qorus_server.api.registry import CallContext, operation
from qorus_server.services.instance import ServiceInstance
from qorus_server.services.manager import ServiceManager
from qorus_server.userapi.context import ServiceCall

#: the widest service name and version (their columns)
MAX_NAME, MAX_VERSION = 160, 80
STATUSES = ("running", "loaded", "unloaded")
TYPES = ("USER", "SYSTEM")


def manager(ctx: CallContext) -> ServiceManager:
    mgr: ServiceManager = ctx.server.services
    return mgr


def service_ref(value: object, name: str = "id") -> tuple[str, str | None]:
    """A service named by id (0 .. 2**63-1), name or ``name:version``: (name or id text,
    version); 400 when it is none of them."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(a.arg_id(value, name)), None
    text = a.arg_text(value, name, max_len=MAX_NAME + 1 + MAX_VERSION).strip()
    if not text:
        raise ValidationError(f"argument {name!r}: a service name or id is required")
    if text.isascii() and text.isdigit():
        return str(a.arg_id(text, name)), None
    ref, sep, version = text.partition(":")
    if sep and not version.strip():
        raise ValidationError(f"argument {name!r}: no version after ':' in {a.shown(text)}")
    if not ref.strip():
        raise ValidationError(f"argument {name!r}: a service name or id is required")
    return ref.strip(), version.strip() if sep else None


def _type_arg(value: object) -> str | None:
    if a.absent(value):
        return None
    text = a.arg_text(value, "servicetype", max_len=20).strip().upper()
    if text not in TYPES:
        raise ValidationError(
            f"argument 'servicetype' must be USER or SYSTEM, got {a.shown(value)}"
        )
    return text


def _sees(ctx: CallContext, sdef: ServiceDef) -> bool:
    """System services are in no group: every caller sees them."""
    return sdef.service_type == "SYSTEM" or access.visible(ctx, "service", sdef.serviceid)


def resolve(
    ctx: CallContext, ref: object, arg: str = "id", service_type: str | None = None
) -> ServiceDef:
    """The service ``ref`` names, visible to the caller: 400 when malformed, 404
    SERVICE-ERROR when unknown (or of the other ``service_type``), 403 when hidden."""
    name, version = service_ref(ref, arg)
    sdef = manager(ctx).definition(name, version, service_type)
    if sdef.service_type != "SYSTEM":
        access.check_visible(ctx, "service", sdef.serviceid, a.shown(ref))
    return sdef


def _loaded(ctx: CallContext, sdef: ServiceDef) -> ServiceInstance | None:
    inst = manager(ctx).loaded_instance(sdef.serviceid)
    return inst


def _summary(ctx: CallContext, sdef: ServiceDef, inst: ServiceInstance | None) -> dict[str, Any]:
    mgr = manager(ctx)
    return {
        "serviceid": sdef.serviceid,
        "type": sdef.type,
        "name": sdef.name,
        "version": sdef.version,
        "desc": sdef.description,
        "author": sdef.author,
        "autostart": sdef.autostart,
        "enabled": sdef.enabled,
        "status": inst.status if inst is not None else "unloaded",
        "threads": inst.thread_count() if inst is not None else 0,
        "loaded": inst.loaded if inst is not None else None,
        "methods": [{"name": m.name, "desc": m.description} for m in sdef.methods],
        "groups": list(sdef.groups),
        "log": mgr.log_path(sdef),
    }


def info_of(ctx: CallContext, sdef: ServiceDef) -> dict[str, Any]:
    """Everything ``GET services/{id}`` answers about one service version."""
    mgr = manager(ctx)
    stored = mgr.stored(sdef.serviceid)  # the flags as they are now
    inst = _loaded(ctx, stored)
    out = _summary(ctx, stored, inst)
    out.update(
        language=stored.language,
        class_name=stored.class_name,
        created=stored.created,
        modified=stored.modified,
        methods=[m.as_dict() for m in stored.methods],
        options=stored.options,
        resources=stored.resources,
        state=mgr.get_state(stored.serviceid),
        stats=mgr.stats(stored),
    )
    return out


# ---------------------------------------------------------------------- queries


@operation("services.list", rest=[("GET", "services", None)], rpc="omq.system.list-all-services")
def list_services(ctx: CallContext, status: object = None) -> list[dict[str, Any]]:
    """Every visible service (its latest version, or the loaded one) with its status and
    call statistics; ``status`` (running, loaded, unloaded) filters."""
    want = None
    if not a.absent(status):
        want = a.arg_text(status, "status", max_len=20).strip().lower()
        if want not in STATUSES:
            raise ValidationError(
                f"argument 'status' must be running, loaded or unloaded, got {a.shown(status)}"
            )
    out = []
    for sdef, inst in manager(ctx).listing():
        if not _sees(ctx, sdef):
            continue
        entry = _summary(ctx, sdef, inst)
        if want == "loaded" and inst is None:
            continue
        if want in ("running", "unloaded") and entry["status"] != want:
            continue
        entry["stats"] = manager(ctx).stats(sdef, with_methods=False)
        out.append(entry)
    return out


def _loaded_of_type(ctx: CallContext, service_type: str) -> list[dict[str, Any]]:
    return [
        _summary(ctx, sdef, inst)
        for sdef, inst in manager(ctx).listing()
        if inst is not None and sdef.service_type == service_type and _sees(ctx, sdef)
    ]


@operation("services.list-system", rpc="omq.system.list-services")
def list_system(ctx: CallContext) -> list[dict[str, Any]]:
    """The loaded system services."""
    return _loaded_of_type(ctx, "SYSTEM")


@operation("services.list-user", rpc="omq.user.list-services")
def list_user(ctx: CallContext) -> list[dict[str, Any]]:
    """The loaded user services the caller sees."""
    return _loaded_of_type(ctx, "USER")


@operation("services.info", rest=[("GET", "services/{id}", None)])
def service_info(ctx: CallContext, id: str) -> dict[str, Any]:
    """One service: definition, methods, groups, status, state data, call statistics."""
    return info_of(ctx, resolve(ctx, id))


@operation("services.methods", rest=[("GET", "services/{id}/methods", None)])
def service_methods(ctx: CallContext, id: str) -> list[dict[str, Any]]:
    """The methods of a service: name, desc, lock, internal, write."""
    return [m.as_dict() for m in resolve(ctx, id).methods]


@operation("services.method-info", rest=[("GET", "services/{id}/{method}", None)])
def method_info(ctx: CallContext, id: str, method: str) -> dict[str, Any]:
    """One method of a service, with the service's id, name, type and status."""
    sdef = resolve(ctx, id)
    mname = a.arg_text(method, "method", max_len=MAX_NAME)
    mdef = sdef.method(mname)
    if mdef is None:
        manager(ctx).method(sdef, mname)  # raises the 404
        raise AssertionError("unreachable")
    inst = _loaded(ctx, sdef)
    return {
        **mdef.as_dict(),
        "serviceid": sdef.serviceid,
        "service_name": sdef.name,
        "service_type": sdef.type,
        "service_status": inst.status if inst is not None else "unloaded",
    }


# ---------------------------------------------------------------------- one service


def _result(sdef: ServiceDef, info: str, **extra: Any) -> dict[str, Any]:
    return {
        "serviceid": sdef.serviceid,
        "type": sdef.type,
        "name": sdef.name,
        "version": sdef.version,
        "info": f"{sdef.type} service {sdef.name} v{sdef.version} ({sdef.serviceid}) {info}",
        **extra,
    }


def _load(ctx: CallContext, sdef: ServiceDef) -> dict[str, Any]:
    mgr = manager(ctx)
    loaded = mgr.loaded_by_name(sdef.service_type, sdef.name)
    if loaded is not None and loaded.serviceid != sdef.serviceid:
        raise QorusError(
            f"{loaded.sdef.label()} is loaded: reset the service to load version {sdef.version}",
            code="SERVICE-VERSION-ERROR",
        )
    before = loaded
    inst = mgr.load(sdef, reason="load", who=ctx.username)
    return _result(
        sdef,
        "was already loaded" if before is not None else "loaded",
        loaded=True,
        already_loaded=before is not None,
        status=inst.status,
    )


@operation(
    "services.load",
    # start and init: the real product's other names of load
    rest=[
        ("PUT", "services/{id}", "load"),
        ("PUT", "services/{id}", "start"),
        ("PUT", "services/{id}", "init"),
    ],
    permissions=("LOAD-SERVICE",),
    audit=True,
)
def load(ctx: CallContext, id: str) -> dict[str, Any]:
    """Load the service (compile its code, run ``init()``, start ``start()``)."""
    return _load(ctx, resolve(ctx, id))


def _unload(ctx: CallContext, sdef: ServiceDef) -> dict[str, Any]:
    mgr = manager(ctx)
    if mgr.loaded_instance(sdef.serviceid) is None:
        return _result(sdef, "is not loaded", loaded=False, unloaded=False)
    mgr.unload(sdef, reason="unload", who=ctx.username)
    return _result(sdef, "unloaded", loaded=True, unloaded=True)


@operation(
    "services.unload",
    # stop: the real product's other name of unload
    rest=[("PUT", "services/{id}", "unload"), ("PUT", "services/{id}", "stop")],
    rpc="omq.system.delete-service",
    permissions=("UNLOAD-SERVICE",),
    audit=True,
)
def unload(ctx: CallContext, id: str) -> dict[str, Any]:
    """Unload the service: calls in progress finish, ``stop()`` runs, its threads end."""
    return _unload(ctx, resolve(ctx, id))


@operation(
    "services.reset",
    rest=[("PUT", "services/{id}", "reset")],
    rpc="omq.system.reset-service",
    permissions=("RESET-SERVICE",),
    audit=True,
)
def reset(ctx: CallContext, id: str, load: object = None) -> bool:
    """Load the stored code again while the service keeps answering (``load``: also when it
    is not loaded); True when it was loaded before."""
    flag = False if a.absent(load) else a.arg_bool(load, "load")
    name, version = service_ref(id)
    sdef = resolve(ctx, id)
    # a bare name resets to the latest version stored; an id or name:version to that one
    bare = version is None and not name.isdigit()
    target: str | int = sdef.name if bare else sdef.serviceid
    res = manager(ctx).reset(target, load=flag, who=ctx.username)
    return bool(res["loaded"])


def _enable(ctx: CallContext, id: object, enabled: bool) -> dict[str, Any]:
    sdef = resolve(ctx, id)
    sdef = manager(ctx).set_enabled(sdef.serviceid, enabled, who=ctx.username)
    return _result(sdef, "enabled" if enabled else "disabled", enabled=enabled)


@operation(
    "services.enable",
    rest=[("PUT", "services/{id}", "enable")],
    permissions=("SERVICE-CONTROL",),
    audit=True,
)
def enable(ctx: CallContext, id: str) -> dict[str, Any]:
    """Enable the service (an autostart service is loaded)."""
    return _enable(ctx, id, True)


@operation(
    "services.disable",
    rest=[("PUT", "services/{id}", "disable")],
    permissions=("SERVICE-CONTROL",),
    audit=True,
)
def disable(ctx: CallContext, id: str) -> dict[str, Any]:
    """Disable the service: it is unloaded and cannot be loaded or called (SERVICE-DISABLED)."""
    return _enable(ctx, id, False)


@operation(
    "services.set-autostart",
    rest=[("PUT", "services/{id}", "setAutostart")],
    rpc="omq.system.set-service-autostart",
    permissions=("SET-SERVICE-AUTOSTART",),
    audit=True,
)
def set_autostart(ctx: CallContext, id: str, autostart: object = None) -> dict[str, Any]:
    """Set whether the service is loaded at start-up (``autostart``: true or false)."""
    if a.absent(autostart):
        raise ValidationError("missing argument 'autostart' (true or false)")
    value = a.arg_bool(autostart, "autostart")
    sdef = resolve(ctx, id)
    changed, sdef = manager(ctx).set_autostart(sdef.serviceid, value)
    return _result(sdef, f"autostart = {str(value).lower()}", autostart=value, updated=changed)


@operation(
    "services.reset-stats",
    rest=[("PUT", "services/{id}", "resetStats")],
    permissions=("RESET-SERVICE",),
    audit=True,
)
def reset_stats(ctx: CallContext, id: str) -> dict[str, Any]:
    """Clear the service's call statistics."""
    sdef = resolve(ctx, id)
    manager(ctx).reset_stats(sdef)
    return _result(sdef, "call statistics reset", stats=manager(ctx).stats(sdef))


# ---------------------------------------------------------------------- method calls


def _call_args(value: object) -> list[Any]:
    """``args``: a list is the positional arguments, any other value the one argument."""
    if value is None:
        return []
    a.check_data(value, "argument 'args'")
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _check_call(ctx: CallContext, sdef: ServiceDef, mdef: MethodDef | None) -> None:
    user = ctx.user
    if user is None:
        return
    kind = "SYSTEM" if sdef.service_type == "SYSTEM" else "USER"
    rw, ro = f"CALL-{kind}-SERVICES-RW", f"CALL-{kind}-SERVICES-RO"
    if not (user.has(rw) or user.has(ro)):
        raise AuthorizationError(
            f"user {user.username!r} lacks permission {rw} (or {ro} for a method that "
            f"changes nothing) needed to call {sdef.type} services"
        )
    if mdef is not None and mdef.write and not user.has(rw):
        raise AuthorizationError(
            f"user {user.username!r} lacks permission {rw} needed by method {mdef.name}() of "
            f"{sdef.type} service {sdef.name} (it changes data; {ro} is not enough)"
        )


@operation(
    "services.call",
    rest=[("PUT", "services/{id}/{method}", "call"), ("POST", "services/{id}/{method}", "call")],
    audit=True,
)
def call(
    ctx: CallContext, id: str, method: str, args: object = None, servicetype: object = None
) -> Any:
    """Call a method of the service (loaded first when it is not); ``args`` a list of
    positional arguments or one value; ``servicetype`` (USER, SYSTEM) when the service must
    be of that type. An exception raised by the method answers 409 with its error code."""
    stype = _type_arg(servicetype)
    sdef = resolve(ctx, id, service_type=stype)
    mname = a.arg_text(method, "method", max_len=MAX_NAME)
    if not mname:
        raise ValidationError("argument 'method': a method name is required")
    argv = _call_args(args)
    _check_call(ctx, sdef, None)
    mgr = manager(ctx)
    mdef = mgr.method(sdef, mname)
    _check_call(ctx, sdef, mdef)
    who = ServiceCall(method=mname, user=ctx.username, source=ctx.source, transport=ctx.transport)
    return _answer(sdef, mname, mgr.call(sdef, mname, argv, who))


#: what an answer may hold (every gateway encodes these)
_SCALARS = (str, int, float, bool, bytes, Decimal, _dt.date, _dt.time, type(None))


def _answer(sdef: ServiceDef, method: str, value: Any) -> Any:
    """The result of a method as sent back: plain data (hashes, lists, text, numbers, dates),
    finite and nested at most 64 levels; anything else is the method's error (409
    SERVICE-RESULT-ERROR), not a failure of the server."""

    def bad(desc: str) -> QorusError:
        return QorusError(
            f"method {method}() of {sdef.label()} returned a value that cannot be sent: {desc}",
            code="SERVICE-RESULT-ERROR",
            info={"service": sdef.name, "method": method},
        )

    a.check_data(value, "the result", bad)
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif not isinstance(item, _SCALARS):
            raise bad(f"a {type(item).__name__} object")
    return value


# ---------------------------------------------------------------------- several services


def _each(
    ctx: CallContext, ids: object, fn: Callable[[ServiceDef], dict[str, Any]], ok: str
) -> list[dict[str, Any]]:
    """``fn`` on each service of ``ids`` (a list or a comma-separated string); per service its
    result or its error."""
    refs = [service_ref(r, "ids") for r in a.arg_list(ids, "ids")]  # all parsed first
    out = []
    for name, version in refs:
        arg = name if version is None else f"{name}:{version}"
        try:
            sdef = resolve(ctx, arg, "ids")
            out.append({"arg": arg, **fn(sdef)})
        except QorusError as exc:
            out.append({"arg": arg, ok: False, "err": exc.code, "info": f"{exc.code}: {exc.desc}"})
    return out


@operation(
    "services.load-many",
    rest=[("PUT", "services", "load")],
    permissions=("LOAD-SERVICE",),
    audit=True,
)
def load_many(ctx: CallContext, ids: object = None) -> list[dict[str, Any]]:
    """Load each service of ``ids``."""
    return _each(ctx, ids, lambda s: _load(ctx, s), "loaded")


@operation(
    "services.unload-many",
    rest=[("PUT", "services", "unload")],
    permissions=("UNLOAD-SERVICE",),
    audit=True,
)
def unload_many(ctx: CallContext, ids: object = None) -> list[dict[str, Any]]:
    """Unload each service of ``ids``."""
    return _each(ctx, ids, lambda s: _unload(ctx, s), "unloaded")


@operation(
    "services.reset-many",
    rest=[("PUT", "services", "reset")],
    permissions=("RESET-SERVICE",),
    audit=True,
)
def reset_many(ctx: CallContext, ids: object = None, load: object = None) -> list[dict[str, Any]]:
    """Reset each service of ``ids`` (``load``: also those not loaded)."""
    flag = False if a.absent(load) else a.arg_bool(load, "load")

    def one(sdef: ServiceDef) -> dict[str, Any]:
        res = manager(ctx).reset(sdef.serviceid, load=flag, who=ctx.username)
        what = "was reset" if res["reset"] else "is not loaded"
        return _result(res["sdef"], what, loaded=res["loaded"], reset=res["reset"])

    return _each(ctx, ids, one, "reset")


@operation(
    "services.reset-all",
    rest=[("PUT", "services", "resetAll")],
    rpc="omq.system.reset-all-services",
    permissions=("RESET-SERVICE",),
    audit=True,
)
def reset_all(ctx: CallContext) -> list[dict[str, Any]]:
    """Reset every loaded service the caller sees."""
    out = []
    for res in manager(ctx).reset_all(lambda s: _sees(ctx, s), who=ctx.username):
        sdef = res["sdef"]
        err = res["error"]
        entry = {
            "type": sdef.type,
            "name": sdef.name,
            "version": sdef.version,
            "reset": res["reset"],
        }
        if err is not None:
            entry["info"] = f"{err.code}: {err.desc}"
        out.append(entry)
    return out
