"""``/webdav``: ``$OMQ_DIR/user`` over WebDAV (wsgidav, with its lock manager and dead
properties), behind the one login.

This ASGI layer runs on the event loop and does what needs no file: it logs the caller in from
the request headers (HTTP Basic or ``Qorus-Token``, :mod:`qorus_server.logins`: throttled,
audited) before any body is read, turns the principal into a
:class:`~qorus_server.http.davfs.DavAccess` (its WEBDAV-* permissions and the names of its
interface groups), refuses a method the caller may not use (403) or does not exist (405), and
bounds the XML bodies (everything but PUT) by ``http-max-body-size``. wsgidav itself is a WSGI
application: a2wsgi runs it on a pool of :data:`DAV_THREADS` threads of its own, so file work
never blocks the event loop; what it may touch is decided in :mod:`qorus_server.http.davfs`.

With ``rbac-security`` off everyone may do everything, as elsewhere. ``OPTIONS`` without
credentials is answered with the server's WebDAV capabilities only (clients such as Windows'
ask before they log in).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from a2wsgi import WSGIMiddleware
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qorus_core.db.engine import READONLY
from qorus_core.db.names import group_names
from qorus_core.model.errors import AuthorizationError, MethodNotAllowedError
from qorus_core.omqdir import SHARED_DIR_MODE, make_private_dir
from qorus_server.api.errors import error_answer
from qorus_server.http import codec
from qorus_server.http.davfs import METHOD_NEEDS, MOUNT, DavAccess, make_dav_app
from qorus_server.http.limits import BodyTooLargeError, max_body_size
from qorus_server.security import Credentials

if TYPE_CHECKING:
    from qorus_core.rbac import Principal
    from qorus_server.contract import ServerContract

__all__ = ["MOUNT", "DavAccess", "WebDavGateway"]

#: threads that run wsgidav (file work); requests beyond them wait for one
DAV_THREADS = 8
#: what an anonymous OPTIONS learns: the WebDAV classes and methods, nothing of the files
_OPTIONS_HEADERS = [
    (b"dav", b"1, 2"),
    (b"ms-author-via", b"DAV"),
    (b"allow", ", ".join(sorted(METHOD_NEEDS)).encode()),
    (b"content-length", b"0"),
]


class WebDavGateway:
    """The ASGI app of ``/webdav`` and everything under it."""

    def __init__(self, server: ServerContract) -> None:
        self.server = server
        self._app: Any = None
        self._lock = threading.Lock()

    def dav_app(self) -> ASGIApp:
        """wsgidav in its thread pool, made at the first request (the folder is created when
        missing, 0750)."""
        with self._lock:
            if self._app is None:
                root = self.server.omq.user
                make_private_dir(root, SHARED_DIR_MODE)
                self._app = WSGIMiddleware(make_dav_app(root), workers=DAV_THREADS)
            app: ASGIApp = self._app
            return app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1008})
            return
        path: str = scope["path"]
        rest = path[len(MOUNT) :]
        if rest and not rest.startswith("/"):  # /webdavX is not ours
            await _answer(send, 404, {"err": "NOT-FOUND", "desc": f"no such path {path!r}"})
            return
        if _climbs(rest):
            desc = f"the path {path[:200]!r} leaves {MOUNT}"
            await _answer(send, 400, {"err": "INVALID-ARGUMENT", "desc": desc})
            return
        method = str(scope["method"]).upper()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope.get("client")
        creds = Credentials.from_headers(headers, client[0] if client else None)
        if method == "OPTIONS" and not creds.authorization and not creds.token:
            await send({"type": "http.response.start", "status": 200, "headers": _OPTIONS_HEADERS})
            await send({"type": "http.response.body", "body": b""})
            return
        try:
            access = await self._access(creds, method)
            receive = self._bounded(method, headers, receive)
        except Exception as exc:
            answer = error_answer(exc, f"{method} {path}")
            extra = dict(answer.headers)
            if _has_body(headers):
                extra["connection"] = "close"
            await _answer(send, answer.http_status, answer.body, extra)
            return
        sub = dict(scope)
        sub["root_path"] = scope.get("root_path", "") + MOUNT
        sub["path"] = scope.get("root_path", "") + MOUNT + (rest or "/")
        sub["qorus.webdav"] = access

        async def send_once_dated(message: Message) -> None:  # the HTTP server adds Date
            if message["type"] == "http.response.start":
                heads = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                message = {**message, "headers": heads}
            await send(message)

        await self.dav_app()(sub, receive, send_once_dated)

    async def _access(self, creds: Credentials, method: str) -> DavAccess:
        if method not in METHOD_NEEDS:
            err = MethodNotAllowedError(f"{method} is not a WebDAV method of this server")
            err.allow = tuple(sorted(METHOD_NEEDS))
            raise err
        principal = await self.server.logins.authenticate(creds)
        if principal is None:  # rbac-security off
            return DavAccess.everything()
        access = await run_in_threadpool(self._principal_access, principal)
        lacking = access.missing(method)
        if lacking:
            raise AuthorizationError(
                f"user {principal.username!r} may not {method} over WebDAV: it lacks "
                + " or ".join(sorted(lacking)),
                info={"method": method, "missing": sorted(lacking)},
            )
        return access

    def _principal_access(self, principal: Principal) -> DavAccess:
        with self.server.engine.connect().execution_options(**{READONLY: True}) as conn:
            names = group_names(conn, principal.group_ids)
        return DavAccess.of(principal.username, principal.permissions, names)

    def _bounded(self, method: str, headers: dict[str, str], receive: Receive) -> Receive:
        """PUT streams a file of any size; any other body is XML, bounded like API bodies."""
        if method == "PUT":
            return receive
        limit = max_body_size(self.server.options, public=False)
        length = headers.get("content-length", "").strip()
        if length.isdigit() and int(length) > limit:
            raise BodyTooLargeError(
                f"the request body is larger than {limit} bytes, the most this server accepts "
                "for a WebDAV request other than PUT (option http-max-body-size)"
            )
        seen = 0

        async def bounded() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # a chunked body: the rest is not handed on
                    return {"type": "http.disconnect"}
            return message

        return bounded


def _climbs(path: str) -> bool:
    """Whether a (decoded) path goes above its start through ``..`` segments."""
    depth = 0
    for part in path.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def _has_body(headers: dict[str, str]) -> bool:
    length = headers.get("content-length", "").strip()
    return (length not in ("", "0")) or "transfer-encoding" in headers


async def _answer(
    send: Send, status: int, body: dict[str, object], extra: dict[str, str] | None = None
) -> None:
    data, ctype = codec.encode(body, codec.JSON)
    headers = [(b"content-type", ctype.encode()), (b"content-length", str(len(data)).encode())]
    headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
