"""What every RPC gateway (JSON-RPC ``/JSON``, XML-RPC ``/RPC2``, YAML-RPC ``/YAML``) shares:
the one login from the headers before any body is read, the body read within the request
limits, one call through the registry, and an error as an RPC fault.

A gateway is a subclass of :class:`RpcGateway` that decodes a body into calls (``serve``) and
encodes results and faults (``refusal``); method names and params go through
:mod:`qorus_server.api.rpc`, permissions and arguments through ``registry.call``, errors
through :func:`~qorus_server.api.errors.error_answer`. A request refused before its body is
decoded (401 login, 405 not POST, 408, 413, 415 body limits, 503) is answered with that HTTP
status and the protocol's fault; anything after (parse error, unknown method, bad params,
AUTHORIZATION-ERROR, the operation's own errors) is HTTP 200 with the fault, as the protocols
want.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

from starlette.requests import Request
from starlette.responses import Response

from qorus_core.model.errors import MethodNotAllowedError, RpcInvalidRequestError
from qorus_server.api.errors import error_answer
from qorus_server.api.registry import CallContext, PrincipalLike
from qorus_server.api.rpc import resolve
from qorus_server.contract import ServerContract
from qorus_server.http import limits
from qorus_server.http.dispatch import call_operation
from qorus_server.security import Credentials

#: the longest method name a call may give
MAX_METHOD_NAME = 512


@dataclass(frozen=True)
class Fault:
    """One error as every RPC protocol answers it: ``code`` (the fault code of its error
    family, or of the protocol error), ``err`` and ``desc`` (the Qorus error), ``data`` (the
    ``{err, desc[, info]}`` body REST would answer), and what HTTP needs when the error ends
    the whole request."""

    code: int
    err: str
    desc: str
    data: dict[str, object]
    http_status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """``ERROR-CODE: description``."""
        return f"{self.err}: {self.desc}"


def fault(exc: Exception, where: str) -> Fault:
    """The fault of ``exc`` (any exception: the database's words and tracebacks only to the
    log, as for REST)."""
    ans = error_answer(exc, where)
    return Fault(
        ans.rpc_fault, ans.error.code, ans.error.desc, ans.body, ans.http_status, ans.headers
    )


@dataclass(frozen=True)
class Caller:
    """Who calls: the logged-in user (None when RBAC is off) and the client address."""

    user: PrincipalLike | None
    source: str | None


class RpcGateway(ABC):
    """One RPC protocol at one path; subclasses implement :meth:`serve` and :meth:`refusal`."""

    name: ClassVar[str] = "RPC"  # "JSON-RPC"
    transport: ClassVar[str] = "rpc"  # CallContext.transport: "json-rpc", ...

    def __init__(self, server: ServerContract) -> None:
        self.server = server

    async def handle(self, request: Request) -> Response:
        """The ASGI endpoint: POST only, login, body, then the protocol."""
        client = request.client
        address = client.host if client else None
        try:
            if request.method != "POST":
                exc = MethodNotAllowedError(
                    f"{self.name} calls are sent with POST, not {request.method[:16]}"
                )
                exc.allow = ("POST",)
                raise exc
            user = await self.server.logins.authenticate(
                Credentials.from_headers(request.headers, address)
            )
            raw = await limits.read_body(request, self.server.options, public=False)
        except Exception as exc:  # answered before the body is decoded
            f = fault(exc, f"{self.name} {request.url.path}")
            resp = self.refusal(request, f)
            resp.status_code = f.http_status
            resp.headers.update(f.headers)
            return limits.close_if_unread(request, resp)
        source = f"{client.host}:{client.port}" if client else None
        return await self.serve(request, raw, Caller(user, source))

    @abstractmethod
    async def serve(self, request: Request, raw: bytes, caller: Caller) -> Response:
        """The answer to a request body (HTTP 200 with results or faults)."""

    @abstractmethod
    def refusal(self, request: Request, f: Fault) -> Response:
        """A whole request refused, encoded as the protocol's fault (status set by the caller)."""

    def where(self, method: object) -> str:
        return f"{self.name} {str(method)[:MAX_METHOD_NAME]}"

    async def invoke(self, caller: Caller, method: object, params: object) -> object:
        """Run one call of RPC ``method`` with ``params`` through the registry (an operation
        marked ``blocking`` in a worker thread); its result, or the exception it raised."""
        if not isinstance(method, str) or not method:
            raise RpcInvalidRequestError(
                f"the method name must be a non-empty text, got {type(method).__name__}"
            )
        if len(method) > MAX_METHOD_NAME or "\x00" in method:
            raise RpcInvalidRequestError(
                f"the method name is not a method name ({len(method)} characters)"
            )
        server = self.server
        call = resolve(server.registry, method, params)
        ctx = CallContext(
            server=server,
            user=caller.user,
            args=call.args,
            transport=self.transport,
            source=caller.source,
            request=f"RPC: {method}",
        )
        return await call_operation(server, call.op, ctx, call.args)
