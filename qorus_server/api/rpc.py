"""RPC method names onto registry operations, the same for every RPC protocol (JSON-RPC,
XML-RPC, YAML-RPC), and the two operations that describe them (``omq.system.help``,
``system.listMethods``), generated from the registry: an operation registered with an ``rpc=``
name is an RPC method of every protocol at once.

Method names: an operation's ``rpc`` name (``omq.system.get-order-info``); and
``omq.user.service.NAME.METHOD`` / ``omq.system.service.NAME.METHOD`` call a service method
through the operation ``services.call`` (NAME is everything between the prefix and the next
dot, as in Qorus, so a method name may hold dots), with the call's params as the method's
``args``.

Params (:func:`bind_params`):

* named (a JSON-RPC or YAML-RPC params object): the handler's arguments by name;
* positional (a list; XML-RPC params are always positional): the handler's parameters in
  declared order, ``ctx`` skipped; a handler that takes ``**kwargs`` takes one trailing
  struct as named arguments (``omq.system.create-order("WF", {"staticdata": {...}})``), so a
  struct meant as a positional value of such a handler goes inside that trailing struct;
* none (no params, null, an empty list): no arguments; a single scalar (YAML-RPC) is one
  positional param.

More positional params than parameters, a name given twice, or an argument the handler does
not take is INVALID-ARGUMENT (JSON-RPC -32602).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass

from qorus_core.model.args import arg_texts
from qorus_core.model.errors import NotFoundError, RpcMethodNotFoundError, ValidationError
from qorus_server.api.registry import CallContext, Operation, Registry, operation

#: the registry operation service method calls go to (the service manager's)
SERVICE_CALL = "services.call"
#: RPC name prefixes of service methods and the service type each calls
SERVICE_PREFIXES = {"omq.user.service.": "USER", "omq.system.service.": "SYSTEM"}
_SERVICE_HELP = {
    "USER": "calls a method of a user service (operation services.call)",
    "SYSTEM": "calls a method of a system service (operation services.call)",
}


@dataclass(frozen=True)
class RpcCall:
    """An RPC method name resolved: the operation and its named arguments."""

    op: Operation
    args: dict[str, object]


def _names(op: Operation) -> tuple[list[str], bool]:
    """The handler's parameter names after ``ctx`` in declared order; whether it takes
    ``**kwargs``."""
    params = list(inspect.signature(op.handler).parameters.values())[1:]
    named = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return named, any(p.kind is p.VAR_KEYWORD for p in params)


def bind_params(method: str, op: Operation, params: object) -> dict[str, object]:
    """The named arguments of ``params`` for ``op`` (the rule in the module's docstring)."""
    if params is None:
        return {}
    if isinstance(params, Mapping):
        bad = [k for k in params if not isinstance(k, str)]
        if bad:
            raise ValidationError(f"{method}: named params must have text names, got {bad[0]!r}")
        return dict(params)
    values = list(params) if isinstance(params, list | tuple) else [params]
    names, kwargs = _names(op)
    named: dict[str, object] = {}
    if kwargs and values and isinstance(values[-1], Mapping):
        named = bind_params(method, op, values.pop())
    if len(values) > len(names):
        takes = f"({', '.join(names)})" if names else "none"
        raise ValidationError(
            f"{method} takes at most {len(names)} positional params {takes}, got {len(values)}"
        )
    args: dict[str, object] = dict(zip(names, values, strict=False))
    twice = [k for k in named if k in args]
    if twice:
        raise ValidationError(f"{method}: param {twice[0]!r} is given twice")
    args.update(named)
    return args


def service_method(method: str) -> tuple[str, str, str] | None:
    """``(service type, service name, method)`` of a service method name, None for another
    name; RpcMethodNotFoundError for a service method name without a service or a method."""
    for prefix, stype in SERVICE_PREFIXES.items():
        if method.startswith(prefix):
            name, dot, meth = method[len(prefix) :].partition(".")
            if not dot or not name or not meth:
                raise RpcMethodNotFoundError(
                    f"no RPC method {method!r}: a service method is called as "
                    f"{prefix}SERVICE.METHOD"
                )
            return stype, name, meth
    return None


def resolve(registry: Registry, method: str, params: object) -> RpcCall:
    """The operation and arguments RPC ``method`` with ``params`` calls; RpcMethodNotFoundError
    for an unknown method, INVALID-ARGUMENT for params that do not fit."""
    svc = service_method(method)
    if svc is not None:
        stype, name, meth = svc
        if SERVICE_CALL not in registry:
            raise RpcMethodNotFoundError(
                f"no RPC method {method!r}: service methods cannot be called on this server "
                f"(it has no operation {SERVICE_CALL})"
            )
        args = {"id": name, "method": meth, "args": params, "servicetype": stype}
        return RpcCall(registry.get(SERVICE_CALL), args)
    try:
        op = registry.by_rpc(method)
    except NotFoundError:
        raise RpcMethodNotFoundError(
            f"no RPC method {method!r}; omq.system.help lists them all"
        ) from None
    return RpcCall(op, bind_params(method, op, params))


# ---------------------------------------------------------------------- describing methods


def _params_text(op: Operation) -> str:
    params = list(inspect.signature(op.handler).parameters.values())[1:]
    out = []
    for p in params:
        if p.kind is p.VAR_KEYWORD:
            out.append("[{NAME: VALUE, ...}]")
        elif p.kind is not p.VAR_POSITIONAL:
            out.append(p.name if p.default is p.empty else f"[{p.name}]")
    return ", ".join(out)


def methods(registry: Registry) -> dict[str, dict[str, object]]:
    """Every RPC method by name: ``params``, ``description``, ``category``, ``permissions``
    and the ``operation`` it calls."""
    out: dict[str, dict[str, object]] = {}
    for op in registry:
        if op.rpc is None:
            continue
        out[op.rpc] = {
            "params": _params_text(op),
            "description": op.desc,
            "category": op.name.partition(".")[0],
            "permissions": list(op.permissions or ("LOGIN",)),
            "operation": op.name,
        }
    if SERVICE_CALL in registry:
        op = registry.get(SERVICE_CALL)
        for prefix, stype in SERVICE_PREFIXES.items():
            out[f"{prefix}[servicename].[method]"] = {
                "params": "depends on the service method",
                "description": _SERVICE_HELP[stype],
                "category": "services",
                "permissions": list(op.permissions or ("LOGIN",)),
                "operation": op.name,
            }
    return dict(sorted(out.items()))


def _full_name(name: str) -> str:
    """Qorus's short forms: ``add-user`` and ``job.run`` are ``omq.system.*``, ``user.*``
    and ``system.*`` are ``omq.*``."""
    if "." not in name:
        return f"omq.system.{name}"
    if name.startswith(("system.", "user.")):
        return f"omq.{name}"
    if name.startswith(("group.", "job.")):
        return f"omq.system.{name}"
    return name


@operation("rpc.help", rpc="omq.system.help", blocking=False)
def rpc_help(ctx: CallContext, names: object = None) -> dict[str, dict[str, object]]:
    """Every RPC method (or those ``names`` match) with its params and description."""
    every = methods(ctx.server.registry)
    if names is None or names == []:
        return every
    wanted = arg_texts(names, "names")
    out: dict[str, dict[str, object]] = {}
    for name in wanted:
        full = _full_name(name)
        if full in every:
            out[full] = every[full]
            continue
        found = {k: v for k, v in every.items() if name in k}
        out.update(found or {full: {"description": f"error: no match found for method {name!r}"}})
    return out


@operation("rpc.list-methods", rpc="system.listMethods", blocking=False)
def list_methods(ctx: CallContext) -> list[str]:
    """The names of every RPC method."""
    return list(methods(ctx.server.registry))
