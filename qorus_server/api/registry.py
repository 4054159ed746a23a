"""The one registry of system API operations.

Every operation of the system API is defined once here, and REST, the RPC protocols (JSON-RPC,
XML-RPC, YAML-RPC) and the internal Python API all reach it through :func:`call` (or
:meth:`Registry.call`), so permissions, argument checks and auditing happen in one place.

Contract (other modules depend on it):

* :class:`Operation` -- ``name`` (``system.ping``), ``handler``, ``permissions`` (tuple of
  permission names, all required; empty means LOGIN only), ``audit`` (the operation changes
  something: write an API-CALL audit row when the ``audit`` option includes ``api``; the other
  operations only read, audited with ``api-read``), ``rest`` (list of ``(METHOD, template,
  action)``: ``("GET", "system/health", None)`` for a sub-resource or ``("PUT", "system",
  "shutdown")`` for an action, reachable as ``system?action=shutdown`` and ``system/shutdown``;
  declare an action as an action, the way the reference endpoint list names it; a template
  segment ``{id}`` captures an argument), ``rpc`` (``omq.system.ping`` or None), ``blocking``
  (True, the default: the HTTP layer runs the handler in a worker thread, never on the event
  loop) and ``success_status`` (HTTP status of a success, e.g. 201 for creation).
* Register with the decorator::

      @operation("system.ping", rest=[("GET", "system", "ping")], rpc="omq.system.ping")
      def ping(ctx: CallContext) -> str:
          return "OK"

  A handler is ``def handler(ctx: CallContext, **args) -> Any``. Arguments it does not accept,
  or required ones missing, are refused with INVALID-ARGUMENT (HTTP 400) before it runs.
  Handlers raise :class:`~qorus_core.model.errors.QorusError` subclasses; the REST layer maps
  them to ``{err, desc}`` answers with their ``http_status`` (NotFoundError 404,
  ValidationError 400, anything else 409).
* :class:`CallContext` carries ``server`` (the running server as the typed
  :class:`~qorus_server.contract.ServerContract`: ``.engine``, ``.options``, ``.events``,
  ``.sessionid``, ``.omq``, ``.logs``, ``.components``, ...), ``user`` (a
  :class:`Principal`, or None when RBAC is off) and the raw ``args``.
* Modules register their operations by being imported from ONE place,
  :mod:`qorus_server.api` (its ``__init__`` imports ``system`` and later ``workflows``,
  ``orders``, ...).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from qorus_core.db import audit as audit_trail
from qorus_core.model.errors import AuthorizationError, NotFoundError, ValidationError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from qorus_server.contract import ServerContract

Handler = Callable[..., Any]
#: an operation's shortcut on the event loop: ``(ctx, args)`` -> awaitable result or None
FastHandler = Callable[["CallContext", dict[str, object]], "Awaitable[Any] | None"]
#: what a shortcut's awaitable gives when it declined after all (the handler then runs)
DECLINED: Any = object()
RestRoute = tuple[str, str, str | None]

HTTP_METHODS = ("GET", "PUT", "POST", "DELETE")


@dataclass(frozen=True)
class Principal:
    """Who calls: a user name and every permission the user holds (umbrellas expanded).

    The RBAC module may hand in its own object: anything with ``username`` and ``has(perm)``.
    """

    username: str
    permissions: frozenset[str] = frozenset()

    def has(self, permission: str) -> bool:
        return permission in self.permissions


class PrincipalLike(Protocol):
    @property
    def username(self) -> str: ...

    def has(self, permission: str) -> bool: ...


@dataclass
class CallContext:
    """What a handler gets besides its arguments."""

    server: ServerContract
    user: PrincipalLike | None = None
    args: Mapping[str, object] = field(default_factory=dict)
    transport: str = "internal"  # "rest", "json-rpc", "xml-rpc", "yaml-rpc", "internal"
    source: str | None = None  # the client address, when known
    #: the request as the audit names it (``REST PUT /api/latest/orders/5?action=retry``,
    #: ``RPC: omq.system.retry-workflow-instance``), when known
    request: str | None = None

    @property
    def username(self) -> str | None:
        return self.user.username if self.user is not None else None

    #: the audited operation running with this context and its arguments, until its API-CALL
    #: row is written (set by :meth:`Registry.call`)
    pending_audit: tuple[Operation, Mapping[str, object]] | None = field(
        default=None, repr=False, compare=False
    )

    def audit_in(self, conn: Connection) -> None:
        """Write the API-CALL audit row of the running audited operation on ``conn``, in the
        handler's own transaction (one commit for the change and its audit row); the registry
        then writes none after the handler."""
        pending, self.pending_audit = self.pending_audit, None
        if pending is not None:
            self.server.audit_api_call(pending[0], self, pending[1], None, conn=conn)


@dataclass(frozen=True)
class Operation:
    name: str
    handler: Handler
    permissions: tuple[str, ...] = ()
    audit: bool = False
    rest: tuple[RestRoute, ...] = ()
    #: an operation that only reads gets its API-CALL row (code ``api-read``) from the
    #: registry; False for one that writes its own (arguments it must not show)
    read_audit: bool = True
    rpc: str | None = None
    blocking: bool = True
    success_status: int = 200
    desc: str = ""
    #: a shortcut run on the event loop before the handler (see :meth:`Registry.try_fast`)
    fast: FastHandler | None = None

    def check_args(self, args: Mapping[str, object]) -> None:
        """Refuse arguments the handler cannot take (INVALID-ARGUMENT, HTTP 400)."""
        shape = _shape(self.handler)
        if (
            shape is not None
            and shape[0] <= args.keys()
            and (args.keys() <= shape[2] or (shape[1] and shape[3] not in args))
        ):
            return  # the usual case, without binding (every call checks its arguments)
        sig = _signature(self.handler)
        try:
            sig.bind(None, **args)
        except TypeError as exc:
            raise ValidationError(f"{self.name}: {exc}") from None


_SIGS: dict[Handler, inspect.Signature] = {}
#: handler -> (required keyword names, takes **kwargs, every keyword name, the context's
#: name), or None when its signature is anything else (then ``bind`` decides)
Shape = tuple[frozenset[str], bool, frozenset[str], str]
_SHAPES: dict[Handler, Shape | None] = {}


def _shape(fn: Handler) -> Shape | None:
    if fn in _SHAPES:
        return _SHAPES[fn]
    first, *params = list(_signature(fn).parameters.values())
    P = inspect.Parameter
    shape: Shape | None = None
    if all(p.kind in (P.POSITIONAL_OR_KEYWORD, P.KEYWORD_ONLY, P.VAR_KEYWORD) for p in params):
        named = [p for p in params if p.kind != P.VAR_KEYWORD]
        shape = (
            frozenset(p.name for p in named if p.default is P.empty),
            any(p.kind == P.VAR_KEYWORD for p in params),
            frozenset(p.name for p in named),
            first.name,
        )
    _SHAPES[fn] = shape
    return shape


def _signature(fn: Handler) -> inspect.Signature:
    sig = _SIGS.get(fn)
    if sig is None:
        sig = _SIGS[fn] = inspect.signature(fn)
    return sig


class Registry:
    """Operations by name and by RPC name, and the one way to call them."""

    def __init__(self) -> None:
        self._ops: dict[str, Operation] = {}
        self._rpc: dict[str, Operation] = {}

    def add(self, op: Operation) -> Operation:
        if op.name in self._ops:
            raise ValueError(f"operation {op.name!r} is registered twice")
        if op.rpc is not None and op.rpc in self._rpc:
            raise ValueError(f"RPC method {op.rpc!r} is registered twice")
        for method, template, _action in op.rest:
            if method not in HTTP_METHODS:
                raise ValueError(f"{op.name}: bad HTTP method {method!r}")
            if template.startswith("/") or template.endswith("/"):
                raise ValueError(f"{op.name}: REST template {template!r} has a stray '/'")
        self._ops[op.name] = op
        if op.rpc is not None:
            self._rpc[op.rpc] = op
        return op

    def remove(self, name: str) -> Operation | None:
        """Unregister operation ``name`` (tests); the operation removed, or None."""
        op = self._ops.pop(name, None)
        if op is not None and op.rpc is not None:
            self._rpc.pop(op.rpc, None)
        return op

    def __contains__(self, name: object) -> bool:
        return name in self._ops

    def __iter__(self) -> Iterator[Operation]:
        return iter(list(self._ops.values()))

    def get(self, name: str) -> Operation:
        op = self._ops.get(name)
        if op is None:
            raise NotFoundError(f"no system API operation {name!r}", code="NO-SUCH-OPERATION")
        return op

    def by_rpc(self, method: str) -> Operation:
        op = self._rpc.get(method)
        if op is None:
            raise NotFoundError(f"no RPC method {method!r}", code="NO-SUCH-METHOD")
        return op

    def authorize(self, op: Operation, ctx: CallContext) -> None:
        """Refuse a caller lacking a permission the operation needs (RBAC on: ``ctx.user``)."""
        if ctx.user is None:
            return
        needed = op.permissions or ("LOGIN",)
        missing = [p for p in needed if not ctx.user.has(p)]
        if missing:
            raise AuthorizationError(
                f"user {ctx.user.username!r} lacks permission {', '.join(missing)} "
                f"needed by {op.name}"
            )

    def try_fast(
        self, op: Operation, ctx: CallContext, args: dict[str, object]
    ) -> Awaitable[Any] | None:
        """The operation's shortcut for a call on the event loop, after the permission and
        argument checks: an awaitable of the result (:data:`DECLINED` when the shortcut gave
        up after all), or None when there is no shortcut for this call. A shortcut never
        blocks and writes no audit row: it declines a call that needs one."""
        if op.fast is None:
            return None
        self.authorize(op, ctx)
        op.check_args(args)
        return op.fast(ctx, args)

    def call(self, name: str | Operation, ctx: CallContext, args: Mapping[str, object]) -> Any:
        """Check permissions and arguments, run the handler, audit it; return its result."""
        op = name if isinstance(name, Operation) else self.get(name)
        self.authorize(op, ctx)
        op.check_args(args)
        auditor = getattr(ctx.server, "auditor", None)
        # the changes the call makes are audited under the caller's name, address and request
        with audit_trail.using(auditor.call_trail(ctx) if auditor is not None else None):
            # (a read answered on the event loop, such as ping, writes no api-read row there)
            if not (op.audit or (op.read_audit and op.blocking)):
                return op.handler(ctx, **args)
            outer, ctx.pending_audit = ctx.pending_audit, (op, args)
            try:
                result = op.handler(ctx, **args)
                record = getattr(ctx.server, "audit_api_call", None)  # absent in bare fakes
                if ctx.pending_audit is not None and record is not None:
                    # not written in the handler's own transaction (see CallContext.audit_in)
                    record(op, ctx, args, result)
            finally:
                ctx.pending_audit = outer
        return result


REGISTRY = Registry()
"""The process-wide registry every operation module registers into."""


def operation(
    name: str,
    *,
    rest: list[RestRoute] | tuple[RestRoute, ...] = (),
    rpc: str | None = None,
    permissions: tuple[str, ...] = (),
    audit: bool = False,
    blocking: bool = True,
    success_status: int = 200,
    registry: Registry | None = None,
    read_audit: bool = True,
    fast: FastHandler | None = None,
) -> Callable[[Handler], Handler]:
    """Register the decorated function as operation ``name``; the function is returned as is."""

    def deco(fn: Handler) -> Handler:
        (registry or REGISTRY).add(
            Operation(
                name=name,
                handler=fn,
                permissions=tuple(permissions),
                audit=audit,
                rest=tuple(rest),
                rpc=rpc,
                blocking=blocking,
                success_status=success_status,
                desc=(inspect.getdoc(fn) or "").split("\n", 1)[0],
                read_audit=read_audit,
                fast=fast,
            )
        )
        return fn

    return deco


def call(name: str, ctx: CallContext, args: Mapping[str, object] | None = None) -> Any:
    """Call operation ``name`` of the process-wide registry (the internal Python API)."""
    return REGISTRY.call(name, ctx, args or {})
