"""``oload -R`` and a release's ``refresh-*`` line against two real servers on two system schemas:
the server on the schema just loaded is reset; one on another schema is told nothing."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import tool
from sqlalchemy import text
from sqlalchemy.engine import URL

from qorus_core.db import refdata, schema
from qorus_core.db.engine import create_system_engine, sqlite_url

pytestmark = [pytest.mark.acceptance, pytest.mark.integration, pytest.mark.slow]
DATA = Path(__file__).parent / "data" / "wf"
_n = itertools.count()


@pytest.fixture
def other_db(db_factory: Any, db_kind: str, tmp_path: Path) -> Iterator[URL]:
    """A second system schema made on its own by ``schema.align`` (not a copy of the first)."""
    if db_kind == "sqlite":
        url = sqlite_url(tmp_path / "other.sqlite")
        admin = None
        name = ""
    else:
        name = f"qorus_test_{os.getpid()}_other_{next(_n)}"
        base: URL = db_factory.template
        admin_url = base.set(database="postgres" if db_kind == "postgresql" else None)
        admin = create_system_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            c.execute(text(f"CREATE DATABASE {name}"))
        url = base.set(database=name)
    engine = create_system_engine(url)
    schema.align(engine)
    engine.dispose()
    yield url
    if admin is not None:
        force = " WITH (FORCE)" if db_kind == "postgresql" else ""
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
        admin.dispose()


def _omq(root: Path, url: URL) -> Path:
    for sub in ("etc", "log", "user", "var"):
        (root / sub).mkdir(parents=True)
    (root / "etc" / "options").write_text(
        f"qorus.systemdb = {url.render_as_string(hide_password=False)}\n"
    )
    return root


def _schema_id(url: URL) -> str | None:
    engine = create_system_engine(url)
    try:
        with engine.connect() as conn:
            return refdata.get_schema_id(conn)
    finally:
        engine.dispose()


def _http_log(omq: Path) -> str:
    return "".join(p.read_text() for p in (omq / "log").glob("*HTTP*"))


def test_refresh_reaches_only_the_server_on_the_same_schema(
    db_url: URL, other_db: URL, tmp_path: Path, start_qorus: Any
) -> None:
    assert _schema_id(db_url) != _schema_id(other_db)
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    rel = data / "acc.qrf"
    rel.write_text(
        "load ACC-SIMPLE-1.0.qwf.yaml\nload AccFirst-1.0.qstep.yaml\n"
        "load AccSecond-1.0.qstep.yaml\nrefresh-workflows\n"
    )
    omq_a = _omq(tmp_path / "a", db_url)
    omq_b = _omq(tmp_path / "b", other_db)
    for omq in (omq_a, omq_b):
        res = tool("oload", "--qorus-dir", str(omq), str(rel), "-u", "http://127.0.0.1:9")
        assert res.returncode == 0, res.stderr + res.stdout
    a = start_qorus(omq_a)
    b = start_qorus(omq_b)
    info = httpx.get(f"{b.url}/api/latest/system", timeout=10).json()
    assert info["schema-id"] == _schema_id(other_db)

    # A's datasource, B's URL: a warning, exit 0, and B is never asked to reset anything
    res = tool("oload", "--qorus-dir", str(omq_a), str(rel), "-u", b.url)
    assert res.returncode == 0, res.stderr + res.stdout
    assert "runs on another system schema" in res.stderr
    assert "not refreshing it" in res.stderr
    assert "reset workflow" not in res.stdout
    # a request made after oload's is logged after them: once it shows, theirs would too
    httpx.get(f"{b.url}/api/latest/system/ping?marker=after-oload", timeout=10)
    log = _http_log(omq_b)
    for _ in range(50):
        if "marker=after-oload" in log:
            break
        httpx.get(f"{b.url}/api/latest/system/ping", timeout=10)
        log = _http_log(omq_b)
    assert "marker=after-oload" in log and "GET /api/latest/system " in log
    assert "action=reset" not in log

    # the matching case: A's datasource and A's URL, by -R
    wf = str(data / "ACC-SIMPLE-1.0.qwf.yaml")
    res = tool("oload", "--qorus-dir", str(omq_a), "-R", "-r", "w", wf, "-u", a.url)
    assert res.returncode == 0, res.stderr + res.stdout
    assert "reset workflow ACC-SIMPLE" in res.stdout and "warning" not in res.stderr
