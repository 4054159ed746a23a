"""Hostile input to oload's new inputs: a release's SQL that tries to leave the load transaction
or fails, ``--delete-id`` values out of range, and a refresh aimed at a server on another
schema. Each gets a clear error or warning, and nothing changes."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_cli import common
from qorus_cli.oload import main as oload_main
from qorus_core.db import tables as t
from qorus_core.db import usersql
from qorus_core.loader import load

pytestmark = pytest.mark.integration

STEP = """type: step
name: S1
version: "1.0"
desc: a step
lang: python
steptype: NORMAL
code: S1-1.0.qstep.py
"""
STEP_CODE = (
    "from wf import QorusNormalStep\n\n\nclass S1(QorusNormalStep):\n"
    "    def primary(self):\n        pass\n"
)
WATCHED = (t.steps, t.workflows, t.system_properties, t.users, t.releases, t.release_components)
INSERT = (
    "INSERT INTO system_properties (domain, keyname, value, created) "
    "VALUES ('user', 'k{n}', 'v', CURRENT_TIMESTAMP)"
)


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            tb.name: sorted((tuple(r) for r in conn.execute(select(tb))), key=repr)
            for tb in WATCHED
        }


@pytest.fixture
def cli(omq_dir: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(common.console, "_width", 250)
    monkeypatch.setattr(common.err_console, "_width", 250)
    monkeypatch.setenv("OMQ_DIR", str(omq_dir))
    return CliRunner()


def _release(root: Path, sql: str | bytes, extra: str = "") -> Path:
    (root / "S1-1.0.qstep.yaml").write_text(STEP)
    (root / "S1-1.0.qstep.py").write_text(STEP_CODE)
    p = root / "x.sql"
    if isinstance(sql, bytes):
        p.write_bytes(sql)
    else:
        p.write_text(sql)
    rel = root / "r.qrf"
    rel.write_text(f"load S1-1.0.qstep.yaml\n{extra}omquser-exec-sql x.sql\n")
    return rel


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        ("{i1};\nCOMMIT;\nDELETE FROM users;\n", "controls the transaction"),
        ("{i1};\nROLLBACK;\n{i2};\n", "controls the transaction"),
        ("{i1};\nSET autocommit = 1;\nDELETE FROM users;\n", "controls the transaction"),
        ("{i1};\n/* unterminated comment; DELETE FROM users;\n", "unterminated comment"),
        ("{i1};\nSELECT 'open; DELETE FROM users;\n", "unterminated string"),
    ],
)
def test_sql_that_would_leave_the_transaction_is_refused_before_anything_runs(
    cli: CliRunner, engine: Engine, tmp_path: Path, sql: str, why: str
) -> None:
    rel = _release(tmp_path, sql.format(i1=INSERT.format(n=1), i2=INSERT.format(n=2)))
    before = snapshot(engine)
    r = cli.invoke(oload_main, [str(rel)])
    assert r.exit_code == 1, r.output
    assert f"{rel}:2:1: omquser-exec-sql" in r.output and why in r.output
    assert "nothing was loaded" in r.output
    assert snapshot(engine) == before


def test_a_failing_statement_leaves_the_database_as_it_was(
    cli: CliRunner, engine: Engine, tmp_path: Path
) -> None:
    sql = f"{INSERT.format(n=1)};\nDELETE FROM users;\nINSERT INTO nowhere VALUES (1);\n"
    rel = _release(tmp_path, sql, extra="verify-schema\n")
    before = snapshot(engine)
    r = cli.invoke(oload_main, [str(rel)])
    assert r.exit_code == 1
    assert f"{rel}:3:1: omquser-exec-sql {tmp_path / 'x.sql'}:3: the statement failed" in r.output
    assert snapshot(engine) == before


def test_two_statements_in_one_driver_call_are_refused(engine: Engine) -> None:
    """Should the splitter ever misread a file, the driver still runs one statement a call."""
    before = snapshot(engine)
    smuggled = usersql.Statement(f"{INSERT.format(n=1)}; DELETE FROM users", 1)
    with (
        pytest.raises(usersql.UserSqlError, match="the statement failed"),
        engine.begin() as conn,
    ):
        usersql.execute(conn, [smuggled])
    assert snapshot(engine) == before


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"SELECT 1;\x00DROP TABLE users;", "NUL"),
        (b"SELECT '\xfe\xff';", "not UTF-8"),
        (b"-- only a comment\n", "holds no SQL statement"),
    ],
)
def test_unreadable_sql_files(
    cli: CliRunner, engine: Engine, tmp_path: Path, content: bytes, why: str
) -> None:
    rel = _release(tmp_path, content)
    before = snapshot(engine)
    r = cli.invoke(oload_main, [str(rel)])
    assert r.exit_code == 1 and why in r.output
    assert snapshot(engine) == before


def test_too_big_and_odd_sql_paths(cli: CliRunner, engine: Engine, tmp_path: Path) -> None:
    rel = _release(tmp_path, "SELECT 1;")
    with (tmp_path / "x.sql").open("wb") as fh:
        fh.truncate(usersql.MAX_SQL_BYTES + 1)
    before = snapshot(engine)
    r = cli.invoke(oload_main, [str(rel)])
    assert r.exit_code == 1 and "a SQL file may hold" in r.output
    for line, why in (
        ("omquser-exec-sql\n", "needs a SQL file name"),
        ("omquser-exec-sql *.sql\n", "not a pattern"),
        ("omquser-exec-sql .\n", "no such SQL file"),
        ("omquser-exec-sql /no/such.sql\n", "no such SQL file"),
    ):
        rel.write_text(line)
        r = cli.invoke(oload_main, [str(rel)])
        assert r.exit_code == 1 and f"{rel}:1:" in r.output and why in r.output
    assert snapshot(engine) == before


@pytest.mark.parametrize(
    ("arg", "why"),
    [
        ("workflow:abc", "must be a whole number"),
        ("workflow:-1", "must be a whole number"),
        ("workflow:1.5", "must be a whole number"),
        ("workflow:1e3", "must be a whole number"),
        ("workflow:", "must be a whole number"),
        ("workflow:\uff11", "must be a whole number"),
        ("workflow:9223372036854775808", "must be a whole number"),
        ("workflow:" + "9" * 5000, "must be a whole number"),
        ("workflow:[bold]1[/bold]", "must be a whole number"),
        ("workflow", "expected TYPE:ID"),
        ("wfinstances:1", "cannot delete 'wfinstances' by id"),
        ("[red]x:1", "cannot delete"),
    ],
)
def test_delete_id_out_of_range(
    cli: CliRunner, engine: Engine, tmp_path: Path, arg: str, why: str
) -> None:
    (tmp_path / "S1-1.0.qstep.yaml").write_text(STEP)
    (tmp_path / "S1-1.0.qstep.py").write_text(STEP_CODE)
    load(engine, [str(tmp_path)])
    before = snapshot(engine)
    r = cli.invoke(oload_main, ["--delete-id", arg])
    assert r.exit_code == 1 and why in r.output, r.output
    assert "Traceback" not in r.output and len(r.output) < 500
    assert snapshot(engine) == before


def test_delete_id_of_a_missing_object_deletes_nothing(cli: CliRunner, engine: Engine) -> None:
    before = snapshot(engine)
    r = cli.invoke(oload_main, ["--delete-id", "step:9223372036854775807"])
    assert r.exit_code == 1 and "step id 9223372036854775807 does not exist" in r.output
    assert snapshot(engine) == before


@pytest.fixture
def hostile_server() -> Iterator[tuple[str, list[str], dict[str, Any]]]:
    """A server that answers ``GET system`` as told and records every request it gets."""
    seen: list[str] = []
    answer: dict[str, Any] = {"status": 200, "body": {}}

    class Handler(http.server.BaseHTTPRequestHandler):
        def _reply(self) -> None:
            seen.append(f"{self.command} {self.path}")
            body = answer["body"]
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(answer["status"] if self.command == "GET" else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = _reply

        def log_message(self, *args: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", seen, answer
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize(
    ("status", "body", "why"),
    [
        (200, {"schema-id": "0" * 32, "instance-key": "other"}, "runs on another system schema"),
        (200, {"instance-key": "old-server"}, "does not report its system schema"),
        (200, {"schema-id": ["not", "text"]}, "does not report its system schema"),
        (200, b"<html>not json</html>", "does not report its system schema"),
        (401, {"err": "AUTHENTICATION-ERROR", "desc": "no"}, "did not show its system info"),
    ],
)
def test_refresh_to_a_server_on_another_schema_changes_nothing_there(
    cli: CliRunner,
    engine: Engine,
    tmp_path: Path,
    hostile_server: tuple[str, list[str], dict[str, Any]],
    status: int,
    body: Any,
    why: str,
) -> None:
    url, seen, answer = hostile_server
    answer.update(status=status, body=body)
    (tmp_path / "S1-1.0.qstep.yaml").write_text(STEP)
    (tmp_path / "S1-1.0.qstep.py").write_text(STEP_CODE)
    (tmp_path / "WF-1.0.qwf.yaml").write_text(
        'type: workflow\nname: WF\nversion: "1.0"\ndesc: wf\nsteps: ["S1"]\n'
    )
    (tmp_path / "r.qrf").write_text("load S1-1.0.qstep.yaml\nload WF-1.0.qwf.yaml\nrefresh-all\n")
    for args in ([str(tmp_path / "r.qrf")], ["-R", str(tmp_path / "WF-1.0.qwf.yaml")]):
        r = cli.invoke(oload_main, [*args, "-u", url])
        assert r.exit_code == 0, r.output
        assert why in r.output and "not refreshing it" in r.output
    assert seen == ["GET /api/latest/system"] * 2


@pytest.mark.parametrize(
    "arg",
    [
        "99999999999999999999",
        "9223372036854775808",
        "\u00b2",
        "\u0661",
        "x" * 5000,
        "[bold]demo.qrf[/bold]",
        "../../etc/passwd",
        "/dev/zero",
    ],
)
def test_show_release_with_odd_names(cli: CliRunner, engine: Engine, arg: str) -> None:
    before = snapshot(engine)
    r = cli.invoke(oload_main, [f"--show-release={arg}"])
    assert r.exit_code == 1 and "was loaded (give an id or a release file name)" in r.output
    assert "Traceback" not in r.output and len(r.output) < 600
    assert snapshot(engine) == before


def test_show_release_with_a_negative_id_is_a_usage_error(cli: CliRunner, engine: Engine) -> None:
    before = snapshot(engine)
    r = cli.invoke(oload_main, ["-s", "-1"])
    assert r.exit_code == 2 and "No such option" in r.output
    assert snapshot(engine) == before
