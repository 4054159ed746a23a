"""``user-tool -v``: what is done, step by step; never a password; -v and -q do not mix."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_cli import common
from qorus_cli.user_tool import main
from qorus_core.db import tables as t
from qorus_core.db.engine import mask

pytestmark = pytest.mark.integration
PW = "Str0ng-Passw0rd!"


def run(omq: Path, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["--qorus-dir", str(omq), *args])
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.stdout + res.stderr


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common.console, "_width", 250)


@pytest.fixture
def server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # public/info of a server without RBAC: no login needed
            self._answer(b'{"noauth": true}')

        def do_PUT(self) -> None:
            self._answer(b'"OK"')

        def _answer(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_verbose_says_each_step(omq_dir: Path, engine: Engine, server: str) -> None:
    rc, out = run(
        omq_dir, "-v", "-A", f"ann,{PW},operator", "-P", "REPORTS:reports", "-s", "-u", server
    )
    assert rc == 0, out
    lines = out.splitlines()
    assert lines[0] == f"system datasource: {mask(engine.url)}"
    assert "system schema: current" in lines
    assert "change 1/2 done: + PERMISSION 'REPORTS' created" in lines
    assert "change 2/2 done: + USER 'ann' created with roles operator" in lines
    assert "committed 2 changes in one transaction" in lines
    assert f"asking the server at {server} to reload RBAC (PUT system/reloadRbac)" in lines
    assert f"RBAC reloaded on {server}" in lines
    assert PW not in out
    with engine.connect() as conn:
        assert conn.execute(select(t.users.c.username)).scalars().all() == ["ann"]


def test_very_verbose_and_plain(omq_dir: Path, engine: Engine) -> None:
    rc, out = run(omq_dir, "-vv", "-l", "password-policy-min-length=12")
    assert rc == 0, out
    assert f"$OMQ_DIR: {omq_dir}" in out
    assert "option password-policy-min-length set on the command line" in out
    rc, out = run(omq_dir, "-A", f"bob,{PW},operator")
    assert rc == 0 and "system datasource" not in out and "committed" not in out
    assert "+ USER 'bob' created" in out


def test_verbose_and_quiet_do_not_mix(omq_dir: Path, engine: Engine) -> None:
    rc, out = run(omq_dir, "-v", "-q", "-A", f"cy,{PW},operator")
    assert rc == 1 and "give -v (--verbose) or -q (--quiet), not both" in out
    with engine.connect() as conn:
        assert conn.execute(select(t.users.c.username)).scalars().all() == []
