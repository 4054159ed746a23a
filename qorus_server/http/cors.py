"""CORS by the ``cors-*`` options, read on every request so that a runtime change applies."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class CorsMiddleware:
    def __init__(self, app: ASGIApp, options: Any) -> None:
        self.app = app
        self.options = options

    def _origin_allowed(self, origin: str) -> bool:
        allowed = [str(o) for o in self.options.get("cors-allow-origin")]
        return "*" in allowed or origin in allowed

    def _base_headers(self, origin: str) -> list[tuple[bytes, bytes]]:
        allowed = [str(o) for o in self.options.get("cors-allow-origin")]
        creds = bool(self.options.get("cors-allow-credentials"))
        value = origin if (creds or "*" not in allowed) else "*"
        out = [(b"access-control-allow-origin", value.encode("latin-1"))]
        if value != "*":
            out.append((b"vary", b"Origin"))
        if creds:
            out.append((b"access-control-allow-credentials", b"true"))
        return out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.options.get("cors-enable"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        if origin is None or not self._origin_allowed(origin):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            out = self._base_headers(origin)
            methods = ", ".join(str(m) for m in self.options.get("cors-allow-methods"))
            hdrs = ", ".join(str(h) for h in self.options.get("cors-allow-headers"))
            out += [
                (b"access-control-allow-methods", methods.encode("latin-1")),
                (b"access-control-allow-headers", hdrs.encode("latin-1")),
                (b"access-control-max-age", str(self.options.get("cors-max-age")).encode()),
                (b"content-length", b"0"),
            ]
            await send({"type": "http.response.start", "status": 204, "headers": out})
            await send({"type": "http.response.body", "body": b""})
            return
        extra = self._base_headers(origin)

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, wrapped)
