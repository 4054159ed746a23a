"""``/webdav`` in the one app, in-process, with ``rbac-security`` off (everyone may do
everything): files in and out, ranges, no compression, the folder created at the first
request, anonymous OPTIONS, paths that climb out, and methods that are not WebDAV."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from qorus_core.omqdir import OmqDir
from qorus_server.http.app import build_app
from tests.helpers.rpc_fake import FakeServer, fake_registry


def call(server: FakeServer, method: str, path: str, **kw: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=build_app(server))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.request(method, path, **kw)

    return asyncio.run(go())


def server_in(tmp_path: Path) -> FakeServer:
    server = FakeServer(fake_registry())
    server.omq = OmqDir(tmp_path / "omq")  # type: ignore[attr-defined]
    return server


def test_files_in_and_out_with_rbac_off(tmp_path: Path) -> None:
    server = server_in(tmp_path)
    user = tmp_path / "omq" / "user"
    assert call(server, "MKCOL", "/webdav/docs").status_code == 201
    assert user.is_dir() and (user.stat().st_mode & 0o777) == 0o750  # made, 0750
    body = b"0123456789" * 1000
    assert call(server, "PUT", "/webdav/docs/a.txt", content=body).status_code == 201
    assert (user / "docs" / "a.txt").read_bytes() == body
    r = call(server, "GET", "/webdav/docs/a.txt", headers={"accept-encoding": "gzip"})
    assert r.status_code == 200 and r.content == body
    assert "content-encoding" not in r.headers  # files are sent as they are
    assert not r.headers.get_list("date")  # the HTTP server (uvicorn) adds its own, once
    r = call(server, "GET", "/webdav/docs/a.txt", headers={"range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == b"0123456789"
    r = call(server, "PROPFIND", "/webdav", headers={"depth": "1"})
    assert r.status_code == 207 and "/webdav/docs/" in r.text
    dest = "http://t/webdav/docs/b.txt"
    r = call(server, "COPY", "/webdav/docs/a.txt", headers={"destination": dest})
    assert r.status_code == 201 and (user / "docs" / "b.txt").read_bytes() == body
    assert call(server, "DELETE", "/webdav/docs/b.txt").status_code == 204
    assert not (user / "docs" / "b.txt").exists()


def test_refusals_before_wsgidav(tmp_path: Path) -> None:
    server = server_in(tmp_path)
    r = call(server, "OPTIONS", "/webdav/")
    assert r.status_code == 200 and r.headers["dav"] == "1, 2" and "LOCK" in r.headers["allow"]
    r = call(server, "PATCH", "/webdav/x")
    assert r.status_code == 405 and r.json()["err"] == "METHOD-NOT-ALLOWED"
    assert "PROPFIND" in r.headers["allow"]
    assert call(server, "GET", "/webdavx").status_code == 404
    r = call(server, "PROPFIND", "/webdav/", content=b"x" * 100, headers={"content-length": "9"})
    assert r.status_code != 413
    big = b"<x/>" + b" " * (8 * 1024 * 1024)
    r = call(server, "PROPFIND", "/webdav/", content=big)
    assert r.status_code == 413 and r.json()["err"] == "REQUEST-TOO-LARGE"


def test_a_path_climbing_out_is_400(tmp_path: Path) -> None:
    server = server_in(tmp_path)
    app = build_app(server)  # type: ignore[arg-type]
    for path in ("/webdav/../etc/passwd", "/webdav/a/../../x", "/webdav/.."):
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any], sent: list[dict[str, Any]] = sent) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,  # as the HTTP server hands it on: decoded, not normalised
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"t")],
            "client": ("127.0.0.1", 1),
            "server": ("t", 80),
        }
        asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
        assert sent[0]["status"] == 400, path
        assert json.loads(sent[1]["body"])["err"] == "INVALID-ARGUMENT"
