"""The one ASGI app behind every listener: REST under ``/api`` (``/api/latest`` = ``/api/v7``;
``/api/v1`` .. ``/api/v6`` alias it too), ``/api/public/...`` without authentication; the RPC
gateways (:data:`RPC_GATEWAYS`: JSON-RPC at ``/JSON``, XML-RPC at ``/RPC2``, YAML-RPC at
``/YAML``) and ``/SOAP`` (501); ``/webdav`` (:mod:`qorus_server.http.webdav`), the ``/log``
WebSocket (:mod:`qorus_server.http.logstream`) and the ``/apievents`` WebSocket
(:mod:`qorus_server.http.apievents`).

Every REST call goes through :meth:`Registry.call`; operations marked ``blocking`` run in a
worker thread. Arguments come from the query (``&`` or ``;``), the body (JSON, YAML, XML-RPC
XML, or a form) and the path captures; ``action`` picks the action.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from qorus_core.model.errors import NotFoundError, ValidationError
from qorus_server.api.errors import error_answer
from qorus_server.api.registry import CallContext, PrincipalLike
from qorus_server.http import codec, limits
from qorus_server.http.apievents import EventStream
from qorus_server.http.compress import CompressionMiddleware
from qorus_server.http.cors import CorsMiddleware
from qorus_server.http.dispatch import api_segments, call_operation, query_args, resolve_call
from qorus_server.http.logstream import LogStream
from qorus_server.http.rpc_common import RpcGateway
from qorus_server.http.rpc_json import JsonRpcGateway
from qorus_server.http.rpc_soap import soap
from qorus_server.http.rpc_xml import XmlRpcGateway
from qorus_server.http.rpc_yaml import YamlRpcGateway
from qorus_server.http.webdav import MOUNT, WebDavGateway
from qorus_server.security import Credentials

if TYPE_CHECKING:
    from qorus_server.server import QorusServer

log = logging.getLogger("qorus.http")


class RequestTracker:
    """Counts HTTP requests in progress so shutdown can let them finish.

    A request blocked in :meth:`waiting` (``shutdownWait``) does not count: it waits for the
    shutdown itself.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.active = 0
        self.waiters = 0

    def enter(self) -> None:
        with self._lock:
            self.active += 1

    def leave(self) -> None:
        with self._lock:
            self.active -= 1

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        with self._lock:
            self.waiters += 1
        try:
            yield
        finally:
            with self._lock:
                self.waiters -= 1

    @property
    def busy(self) -> int:
        with self._lock:
            return self.active - self.waiters

    async def drained(self, timeout: float = 300.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.busy > 0 and loop.time() < deadline:
            await asyncio.sleep(0.02)


class TrackerMiddleware:
    """Counts requests; refuses new ones with 503 once the shutdown has begun."""

    def __init__(self, app: ASGIApp, server: QorusServer) -> None:
        self.app = app
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.server.stopping:
            body, ctype = codec.encode(
                {"err": "SHUTDOWN-IN-PROGRESS", "desc": "the system is shutting down"}, codec.JSON
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [(b"content-type", ctype.encode()), (b"connection", b"close")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        tracker = self.server.requests
        tracker.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            tracker.leave()


def _answer(request: Request, value: object, status: int = 200) -> Response:
    kind = codec.choose(request.headers.get("accept"))
    body, ctype = codec.encode(value, kind)
    return Response(body, status_code=status, headers={"content-type": ctype})


def _error(request: Request, exc: Exception) -> Response:
    """The one error answer (:func:`~qorus_server.api.errors.error_answer`) encoded for REST."""
    answer = error_answer(exc, f"{request.method} {request.url.path}")
    resp = _answer(request, answer.body, answer.http_status)
    resp.headers.update(answer.headers)
    return resp


class RestEndpoint:
    def __init__(self, server: QorusServer) -> None:
        self.server = server

    async def _authenticate(self, request: Request) -> PrincipalLike | None:
        """The one login (:mod:`qorus_server.logins`): a ``Qorus-Token`` or HTTP Basic."""
        client = request.client
        credentials = Credentials.from_headers(request.headers, client.host if client else None)
        return await self.server.logins.authenticate(credentials)

    async def handle(self, request: Request) -> Response:
        try:
            return await self._handle(request)
        except Exception as exc:  # the database's words and tracebacks only to the log
            return limits.close_if_unread(request, _error(request, exc))

    async def _handle(self, request: Request) -> Response:
        server = self.server
        segs = [s for s in request.path_params.get("path", "").split("/") if s]
        if not segs:
            return _answer(request, {"versions": ["latest", *(f"v{i}" for i in range(1, 8))]})
        segs = api_segments(segs)
        if not segs:
            if request.method != "GET":
                raise NotFoundError(f"{request.method} /api/latest is not supported")
            return _answer(request, server.router.resources())
        args = query_args(request.url.query)
        limits.refuse_query_secrets(segs, args)
        action = args.pop("action", None)
        public = segs[0] == "public"  # login from the headers before reading any body
        user = None if public else await self._authenticate(request)
        raw = await limits.read_body(request, server.options, public=public)
        body = limits.decode(request, raw, server.options)
        if body is not None:
            if not isinstance(body, dict):
                raise ValidationError("the request body must be a hash of arguments")
            args.update(body)
        op, args = resolve_call(server.router, request.method, segs, args, action)
        if public and not op.name.startswith("public."):
            user = await self._authenticate(request)
        client = request.client
        ctx = CallContext(
            server=server,
            user=user,
            args=args,
            transport="rest",
            source=f"{client.host}:{client.port}" if client else None,
            request=f"REST {request.method} {request.url.path}"
            + (f"?action={str(action)[:80]}" if action else ""),
        )
        return _answer(request, await call_operation(server, op, ctx, args), op.success_status)


#: The RPC gateways: one mount per protocol, each a thin layer over the one login, the one
#: registry and the one error mapping (:mod:`qorus_server.http.rpc_common`).
RPC_GATEWAYS: dict[str, type[RpcGateway]] = {
    "/JSON": JsonRpcGateway,
    "/RPC2": XmlRpcGateway,
    "/YAML": YamlRpcGateway,
}


def build_app(server: QorusServer) -> Starlette:
    endpoint = RestEndpoint(server)
    methods = ["GET", "PUT", "POST", "DELETE", "PATCH"]
    routes: list[BaseRoute] = [
        Route("/api", endpoint.handle, methods=methods),
        Route("/api/{path:path}", endpoint.handle, methods=methods),
    ]
    for path, gateway in RPC_GATEWAYS.items():
        routes.append(Route(path, gateway(server).handle, methods=methods))
    routes.append(Route("/SOAP", soap, methods=methods))
    routes.append(Route(MOUNT + "{rest:path}", WebDavGateway(server)))  # every method
    logs = LogStream(server)
    routes += [WebSocketRoute("/log", logs.handle), WebSocketRoute("/log/{path:path}", logs.handle)]
    routes.append(WebSocketRoute("/apievents", EventStream(server).handle))  # system events
    middleware = [
        Middleware(TrackerMiddleware, server=server),
        Middleware(CorsMiddleware, options=server.options),
        Middleware(CompressionMiddleware, skip=(MOUNT,)),  # files stream as they are
    ]
    return Starlette(routes=routes, middleware=middleware)
