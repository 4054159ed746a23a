"""The request body reader on its own: declared and streamed size, decompression with a cap,
unknown encodings, broken compressed data, and the small limit of requests without login."""

from __future__ import annotations

import asyncio
import bz2
import gzip
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from qorus_core.model.errors import QorusError
from qorus_core.options import Options
from qorus_server.http import limits

MAX = 4096
OPTIONS = Options({"http-max-body-size": MAX})


async def _endpoint(request: Request) -> Response:
    try:
        raw = await limits.read_body(request, OPTIONS, public="public" in request.url.path)
    except QorusError as exc:
        resp = JSONResponse(exc.to_dict(), status_code=exc.http_status)
        return limits.close_if_unread(request, resp)
    return JSONResponse({"size": len(raw), "head": raw[:20].decode("latin-1")})


APP = Starlette(routes=[Route("/{path:path}", _endpoint, methods=["POST"])])


class Client:
    """Requests to the app in this process through httpx's ASGI transport."""

    def post(self, path: str, **kw: Any) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=APP)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                return await c.post(path, **kw)

        return asyncio.run(call())


@pytest.fixture
def client() -> Client:
    return Client()


def test_plain_body_up_to_the_limit(client: Client) -> None:
    r = client.post("/x", content=b"a" * MAX)
    assert r.status_code == 200 and r.json()["size"] == MAX
    r = client.post("/x", content=b"a" * (MAX + 1))
    assert r.status_code == 413 and r.json()["err"] == "REQUEST-TOO-LARGE"
    assert "http-max-body-size" in r.json()["desc"]
    assert r.headers["connection"] == "close"  # the rest is never read


def test_streamed_body_without_length_is_cut_at_the_limit(client: Client) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"b" * 1000

    r = client.post("/x", content=chunks())
    assert r.status_code == 413
    assert r.json()["err"] == "REQUEST-TOO-LARGE"


ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,
    "bzip2": bz2.compress,
}


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_compressed_body_is_capped_once_decompressed(client: Client, encoding: str) -> None:
    enc = ENCODERS[encoding]
    r = client.post("/x", content=enc(b'{"a": 1}'), headers={"content-encoding": encoding})
    assert r.status_code == 200 and r.json() == {"size": 8, "head": '{"a": 1}'}
    bomb = enc(b"\0" * 2_000_000)  # 2 MB, 500 times the limit, in at most 2 kB
    assert len(bomb) < MAX
    r = client.post("/x", content=bomb, headers={"content-encoding": encoding})
    assert r.status_code == 413
    assert "once decompressed" in r.json()["desc"]


def test_bad_compressed_data_and_unknown_encodings(client: Client) -> None:
    r = client.post("/x", content=b"not gzip", headers={"content-encoding": "gzip"})
    assert r.status_code == 400 and "not valid gzip" in r.json()["desc"]
    r = client.post(
        "/x", content=gzip.compress(b"x" * 100)[:-4], headers={"content-encoding": "gzip"}
    )
    assert r.status_code == 400 and "truncated" in r.json()["desc"]
    r = client.post(
        "/x", content=gzip.compress(b"x") + b"extra", headers={"content-encoding": "gzip"}
    )
    assert r.status_code == 400 and "after its end" in r.json()["desc"]
    r = client.post("/x", content=b"x", headers={"content-encoding": "br"})
    assert r.status_code == 415 and r.json()["err"] == "UNSUPPORTED-MEDIA-TYPE"
    r = client.post("/x", content=b"x", headers={"content-encoding": "identity"})
    assert r.status_code == 200


def test_requests_without_login_get_a_small_limit() -> None:
    big = Options({"http-max-body-size": 10 * 1024 * 1024})
    assert limits.max_body_size(big, public=True) == limits.PUBLIC_MAX_BODY
    assert limits.max_body_size(big, public=False) == 10 * 1024 * 1024
    assert limits.max_body_size(OPTIONS, public=True) == MAX  # never above the option


def test_password_in_the_login_query_is_refused() -> None:
    with pytest.raises(QorusError) as exc:
        limits.refuse_query_secrets(["public", "login"], {"user": "u", "pass": "s3cr3t"})
    assert exc.value.http_status == 400 and "body only" in exc.value.desc
    assert "s3cr3t" not in exc.value.desc
    limits.refuse_query_secrets(["public", "login"], {"user": "u"})
    limits.refuse_query_secrets(["orders"], {"pass": "x"})
