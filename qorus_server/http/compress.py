"""Response compression by Accept-Encoding: gzip, deflate (zlib) and bzip2.

The API's answers are small and whole, so the middleware buffers one answer, picks the
client's best encoding by q-value (ties: gzip, deflate, bzip2), and compresses it; large
bodies are compressed in a worker thread so the event loop never stalls.
"""

from __future__ import annotations

import bz2
import gzip
import zlib
from collections.abc import Callable

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qorus_server.http.negotiate import weighted

ENCODINGS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda b: gzip.compress(b, compresslevel=6, mtime=0),
    "deflate": lambda b: zlib.compress(b, 6),
    "bzip2": lambda b: bz2.compress(b, 9),
}
_ALIASES = {"x-gzip": "gzip", "x-bzip2": "bzip2"}
_PREFERENCE = ("gzip", "deflate", "bzip2")
MIN_SIZE = 128
THREAD_SIZE = 64 * 1024


def choose_encoding(accept_encoding: str) -> str | None:
    """The encoding to use, or None for identity."""
    best: tuple[float, int, str] | None = None
    star: float | None = None
    for value, q in weighted(accept_encoding):
        name = _ALIASES.get(value, value)
        if name == "*":
            star = q
        elif name in ENCODINGS and q > 0:
            rank = -_PREFERENCE.index(name)
            if best is None or (q, rank) > best[:2]:
                best = (q, rank, name)
    if best:
        return best[2]
    if star:
        return "gzip"
    return None


def _skipped(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


class CompressionMiddleware:
    """``skip``: path prefixes answered uncompressed and unbuffered (``/webdav``: files of any
    size, ranges)."""

    def __init__(self, app: ASGIApp, min_size: int = MIN_SIZE, skip: tuple[str, ...] = ()) -> None:
        self.app = app
        self.min_size = min_size
        self.skip = skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _skipped(scope["path"], self.skip):
            await self.app(scope, receive, send)
            return
        accept = ""
        for k, v in scope.get("headers", []):
            if k == b"accept-encoding":
                accept = v.decode("latin-1")
        encoding = choose_encoding(accept) if accept else None
        if encoding is None:
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def wrapped(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await self._finish(start, b"".join(chunks), encoding, send)

        await self.app(scope, receive, wrapped)

    async def _finish(self, start: Message, body: bytes, encoding: str, send: Send) -> None:
        headers = [(k, v) for k, v in start.get("headers", [])]
        already = any(k.lower() == b"content-encoding" for k, _ in headers)
        if not already and len(body) >= self.min_size:
            fn = ENCODINGS[encoding]
            if len(body) >= THREAD_SIZE:
                body = await anyio.to_thread.run_sync(fn, body)
            else:
                body = fn(body)
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            headers.append((b"content-encoding", encoding.encode()))
            headers.append((b"content-length", str(len(body)).encode()))
            headers.append((b"vary", b"Accept-Encoding"))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
