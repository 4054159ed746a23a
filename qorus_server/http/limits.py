"""Request bodies read within limits, after the caller is known.

The REST endpoint authenticates from the headers first and only then calls :func:`read_body`,
so a stranger's upload is refused (401) without being read. A body is read as a stream: a
``Content-Length`` over ``http-max-body-size`` is refused (413) before any of it is read, a
chunked body is refused as soon as it passes the limit, a compressed body
(``Content-Encoding`` gzip, deflate or bzip2) is decompressed piece by piece and refused as
soon as its decompressed size passes the limit, and the whole body must arrive within
``http-body-timeout`` seconds (408). Requests that need no login (``public/...``) get a
small limit whatever the option says: a login needs a few hundred bytes.

A refused request whose body was not read is answered with ``Connection: close``, so the rest
of the upload is never read either.
"""

from __future__ import annotations

import asyncio
import bz2
import zlib
from typing import Any, Protocol

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from qorus_core.bounded import Limits
from qorus_core.model.errors import (
    RequestTimeoutError,
    TooLargeError,
    UnsupportedMediaError,
    ValidationError,
)
from qorus_core.options import Options
from qorus_server.http import codec

#: the largest body of a request that needs no login (``public/login``)
PUBLIC_MAX_BODY = 16 * 1024


class BodyTooLargeError(TooLargeError):
    """A request body over ``http-max-body-size`` (HTTP 413)."""

    code = "REQUEST-TOO-LARGE"


class BodyTimeoutError(RequestTimeoutError):
    """A request body that did not arrive within ``http-body-timeout`` (HTTP 408)."""

    code = "REQUEST-TIMEOUT"


class UnsupportedEncodingError(UnsupportedMediaError):
    """A ``Content-Encoding`` this server cannot decode (HTTP 415)."""

    code = "UNSUPPORTED-MEDIA-TYPE"


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes, /, max_length: int = ...) -> bytes: ...


def _decompressor(encoding: str) -> _Decompressor | None:
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return None
    if name in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if name == "deflate":
        return zlib.decompressobj(zlib.MAX_WBITS)
    if name in ("bzip2", "x-bzip2"):
        return bz2.BZ2Decompressor()
    raise UnsupportedEncodingError(
        f"unsupported Content-Encoding {encoding.strip()!r}: use gzip, deflate, bzip2 or none"
    )


def max_body_size(options: Options, public: bool) -> int:
    size = int(options.get("http-max-body-size"))
    return min(size, PUBLIC_MAX_BODY) if public else size


def body_limits(options: Options) -> Limits:
    """The structure limits of a decoded body, from the ``http-max-body-*`` options."""
    return Limits(
        max_nodes=int(options.get("http-max-body-nodes")),
        max_depth=int(options.get("http-max-body-depth")),
        max_text=int(options.get("http-max-body-size")),
    )


def _too_large(limit: int, public: bool, decompressed: bool = False) -> BodyTooLargeError:
    what = " once decompressed" if decompressed else ""
    which = "for a request without login" if public else "(option http-max-body-size)"
    return BodyTooLargeError(
        f"the request body is larger than {limit} bytes{what}, the most this server accepts {which}"
    )


async def _read(request: Request, limit: int, public: bool, encoding: str) -> bytes:
    dec = _decompressor(encoding)
    parts: list[bytes] = []
    size = 0  # bytes received
    out = 0  # bytes after decompression
    async for chunk in request.stream():
        if not chunk:
            continue
        size += len(chunk)
        if size > limit:
            raise _too_large(limit, public)
        if dec is not None:
            try:
                chunk = dec.decompress(chunk, limit - out + 1)
            except (OSError, zlib.error, ValueError, EOFError) as exc:
                raise ValidationError(
                    f"the request body is not valid {encoding.strip()} data: {exc}"
                ) from None
            if out + len(chunk) > limit:
                raise _too_large(limit, public, decompressed=True)
        out += len(chunk)
        parts.append(chunk)
    if dec is not None and size and (not dec.eof or dec.unused_data):
        problem = "is truncated" if not dec.eof else "has data after its end"
        raise ValidationError(f"the {encoding.strip()} request body {problem}")
    return b"".join(parts)


async def read_body(request: Request, options: Options, *, public: bool) -> bytes:
    """The whole body, decompressed, within the limits; 413, 408, 415 or 400 otherwise."""
    limit = max_body_size(options, public)
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise ValidationError(f"bad Content-Length header {declared!r}") from None
        if length > limit:
            raise _too_large(limit, public)
    timeout = float(options.get("http-body-timeout"))
    try:
        async with asyncio.timeout(timeout):
            encoding = request.headers.get("content-encoding", "")
            raw = await _read(request, limit, public, encoding)
        request.state.body_done = True
        return raw
    except TimeoutError:
        raise BodyTimeoutError(
            f"the request body did not arrive within {timeout:g} seconds (option http-body-timeout)"
        ) from None
    except ClientDisconnect:
        raise ValidationError("the client closed the connection before sending its body") from None


def decode(request: Request, raw: bytes, options: Options) -> Any:
    """The decoded body within the structure limits (400 past them)."""
    return codec.decode_body(request.headers.get("content-type"), raw, body_limits(options))


def refuse_query_secrets(segs: list[str], args: dict[str, object]) -> None:
    """A password in a URL ends up in access logs, proxies and browser histories: a login
    and a user's password (``users``) come in the request body only."""
    if segs[:2] == ["public", "login"] and "pass" in args:
        raise ValidationError(
            "public/login takes the password from the request body only, never from the "
            'query string: POST a body such as {"user": "NAME", "pass": "PASSWORD"}'
        )
    if segs[:1] == ["users"]:
        for name in ("pass", "password"):
            if name in args:
                raise ValidationError(
                    f"argument {name!r}: a user's password is taken from the request body "
                    "only, never from the query string"
                )


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return (length is not None and length.strip() not in ("", "0")) or (
        "transfer-encoding" in request.headers
    )


def close_if_unread(request: Request, response: Response) -> Response:
    """``Connection: close`` on an answer given before the request's body was read, so that
    the server reads no more of it."""
    if _has_body(request) and not getattr(request.state, "body_done", False):
        response.headers["connection"] = "close"
    return response
