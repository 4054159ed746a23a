"""``user-tool -v`` under hostile input: no password in what it says, names never read as
markup, any count of -v, and -v with -q refused before anything is changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_cli import common
from qorus_cli.user_tool import main
from qorus_core.db import tables as t

pytestmark = pytest.mark.integration
PW = "Str0ng-Passw0rd!"


def run(omq: Path, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["--qorus-dir", str(omq), *args])
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.stdout + res.stderr


def users(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(t.users.c.username)).scalars())


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common.console, "_width", 250)


def test_datasource_password_is_masked(omq_dir: Path) -> None:
    rc, out = run(omq_dir, "-v", "-D", "pgsql:omq/S3cret-pw@omq%127.0.0.1:1", "-l")
    assert rc == 2 and "S3cret-pw" not in out and "omq:********@127.0.0.1:1" in out


def test_new_password_never_said(omq_dir: Path, engine: Engine) -> None:
    rc, out = run(omq_dir, "-vvvvvvvvvvvvvvvv", "-A", f"dee,{PW},operator")
    assert rc == 0 and "committed 1 change in one transaction" in out
    rc, out = run(omq_dir, "-vv", "-d", f"dee:pass={PW}x", f"ldap.password={PW}")
    assert rc == 0, out
    assert PW not in out and "option ldap.password set on the command line" in out


def test_names_are_not_markup(omq_dir: Path, engine: Engine) -> None:
    rc, out = run(omq_dir, "-v", "-P", "[bold red]X[/]:desc [link=file:///etc/passwd]y[/link]")
    assert rc == 0, out
    assert "+ PERMISSION '[bold red]X[/]' created" in out


def test_verbose_with_quiet_changes_nothing(omq_dir: Path, engine: Engine) -> None:
    rc, out = run(omq_dir, "-q", "-v", "-A", f"eve,{PW},operator", "-s", "-u", "http://127.0.0.1:9")
    assert rc == 1 and "not both" in out and PW not in out
    assert users(engine) == []
