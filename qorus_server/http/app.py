"""The one ASGI app behind every listener: REST under ``/api`` (``/api/latest`` = ``/api/v7``;
``/api/v1`` .. ``/api/v6`` alias it too), ``/api/public/...`` without authentication.

Every REST call goes through :meth:`Registry.call`; operations marked ``blocking`` run in a
worker thread. Arguments come from the query (``&`` or ``;``), the body (JSON, YAML, XML-RPC
XML, or a form) and the path captures; ``action`` picks the action.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from qorus_core.db.engine import READONLY
from qorus_core.model.errors import (
    AuthenticationError,
    NotFoundError,
    QorusError,
    ValidationError,
)
from qorus_server import security
from qorus_server.api.registry import CallContext, PrincipalLike
from qorus_server.http import codec
from qorus_server.http.compress import CompressionMiddleware
from qorus_server.http.cors import CorsMiddleware
from qorus_server.http.dberrors import db_error
from qorus_server.http.dispatch import api_segments, query_args, resolve_call

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


def _answer(request: Request, value: Any, status: int = 200) -> Response:
    kind = codec.choose(request.headers.get("accept"))
    body, ctype = codec.encode(value, kind)
    return Response(body, status_code=status, headers={"content-type": ctype})


def _error(request: Request, exc: QorusError) -> Response:
    resp = _answer(request, exc.to_dict(), exc.http_status)
    if exc.http_status == 401:
        resp.headers["www-authenticate"] = 'Basic realm="Qorus"'
    return resp


class RestEndpoint:
    def __init__(self, server: QorusServer) -> None:
        self.server = server

    def _authenticate(self, header: str | None, token: str | None) -> PrincipalLike | None:
        """RBAC off: nobody. RBAC on: a ``Qorus-Token`` from ``public/login`` or HTTP Basic."""
        if not self.server.options.get("rbac-security"):
            return None
        engine = self.server.engine
        if token:
            with engine.connect().execution_options(**{READONLY: True}) as conn:
                return security.token_login(conn, token)
        if not header or not header.lower().startswith("basic "):
            raise AuthenticationError(
                "authentication is required (HTTP Basic or a Qorus-Token from public/login)"
            )
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            raise AuthenticationError("malformed Authorization header") from None
        with engine.connect().execution_options(**{READONLY: True}) as conn:
            return security.login(conn, user, password)

    async def handle(self, request: Request) -> Response:
        try:
            return await self._handle(request)
        except QorusError as exc:
            return _error(request, exc)
        except SQLAlchemyError as exc:
            err = db_error(exc)
            where = f"{request.method} {request.url.path}"
            if err.http_status == 503:  # an overload: no traceback per request
                log.warning("%s: %s", where, err.desc)
            else:
                log.exception("database error in %s", where)
            return _error(request, err)
        except Exception as exc:
            log.exception("error in %s %s", request.method, request.url.path)
            err = QorusError(f"{type(exc).__name__}: {exc}", code="INTERNAL-ERROR")
            err.http_status = 500
            return _error(request, err)

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
        action = args.pop("action", None)
        raw = await request.body()
        body = codec.decode_body(request.headers.get("content-type"), raw)
        if body is not None:
            if not isinstance(body, dict):
                raise ValidationError("the request body must be a hash of arguments")
            args.update(body)
        op, args = resolve_call(server.router, request.method, segs, args, action)
        user = None
        if not op.name.startswith("public."):
            user = await run_in_threadpool(
                self._authenticate,
                request.headers.get("authorization"),
                request.headers.get("qorus-token"),
            )
        client = request.client
        ctx = CallContext(
            server=server,
            user=user,
            args=args,
            transport="rest",
            source=f"{client.host}:{client.port}" if client else None,
        )
        if op.blocking:
            result = await run_in_threadpool(server.registry.call, op, ctx, args)
        else:
            result = server.registry.call(op, ctx, args)
        return _answer(request, result, op.success_status)


def build_app(server: QorusServer) -> Starlette:
    endpoint = RestEndpoint(server)
    methods = ["GET", "PUT", "POST", "DELETE", "PATCH"]
    routes = [
        Route("/api", endpoint.handle, methods=methods),
        Route("/api/{path:path}", endpoint.handle, methods=methods),
    ]
    middleware = [
        Middleware(TrackerMiddleware, server=server),
        Middleware(CorsMiddleware, options=server.options),
        Middleware(CompressionMiddleware),
    ]
    return Starlette(routes=routes, middleware=middleware)
