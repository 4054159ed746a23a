"""`schema-tool` run as a user runs it: a real process on a fresh $OMQ_DIR."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, update
from sqlalchemy.engine import URL

from qorus_core.db import tables as t
from qorus_core.db.engine import create_system_engine

pytestmark = pytest.mark.acceptance


def run(omq: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMQ_DIR": str(omq), "COLUMNS": "200"}
    return subprocess.run(
        ["schema-tool", *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def test_status_of_current_schema(omq_dir: Path) -> None:
    res = run(omq_dir)
    assert res.returncode == 0, res.stderr
    assert "schema version" in res.stdout and "6.0.0" in res.stdout
    assert "rows in permissions" in res.stdout


def test_align_is_a_no_op_when_current(omq_dir: Path) -> None:
    res = run(omq_dir, "-V")
    assert res.returncode == 0, res.stderr
    assert "already current" in res.stdout


def test_drop_needs_confirmation(omq_dir: Path, db_url: URL) -> None:
    res = run(omq_dir, "--drop-schema", stdin="n\n")
    assert res.returncode == 1
    assert "not confirmed" in res.stderr
    engine = create_system_engine(db_url)
    assert "workflow_instance" in inspect(engine).get_table_names()
    res = run(omq_dir, "--drop-schema", "-f")
    assert res.returncode == 0, res.stderr
    assert inspect(engine).get_table_names() == []
    res = run(omq_dir)
    assert "none" in res.stdout
    res = run(omq_dir, "-d")
    assert res.returncode == 0 and "CREATE TABLE" in res.stdout
    assert inspect(engine).get_table_names() == []
    res = run(omq_dir, "-V")
    assert res.returncode == 0 and "now current" in res.stdout
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.roles)).scalar_one() == 5
    engine.dispose()


def test_offline_oracle_ddl_needs_no_database(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    # a datasource that could never be opened: --dialect must not try
    (tmp_path / "etc" / "options").write_text("qorus.systemdb = pgsql:x/y@nodb%127.0.0.1:1\n")
    res = run(tmp_path, "--sql", "--dialect", "oracle")
    assert res.returncode == 0, res.stderr
    assert "CREATE TABLE workflow_instance" in res.stdout and "VARCHAR2" in res.stdout


def test_database_down_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "options").write_text(
        "qorus.systemdb = pgsql:omq/hunter2@omq%127.0.0.1:1\n"
    )
    res = run(tmp_path)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot open system datasource" in lines[0]
    assert "hunter2" not in res.stderr and "Traceback" not in res.stderr


def test_unparsable_datasource(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "options").write_text("qorus.systemdb = not a datasource\n")
    res = run(tmp_path)
    assert res.returncode == 2
    assert "cannot parse datasource" in res.stderr and "Traceback" not in res.stderr


def test_bad_options_file(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "options").write_text("qorus.max-retrys = 3\n")
    res = run(tmp_path)
    assert res.returncode == 2
    assert "options:1" in res.stderr and "max-retries" in res.stderr


def test_new_omq_dir_defaults_to_embedded_sqlite(tmp_path: Path) -> None:
    res = run(tmp_path, "-V")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "var" / "qorus.sqlite").is_file()


def test_newer_schema_refused(omq_dir: Path, db_url: URL) -> None:
    engine = create_system_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_future'")
    engine.dispose()
    res = run(omq_dir, "-V")
    assert res.returncode == 2
    assert "newer release" in res.stderr


def test_sessions_and_recover(omq_dir: Path, db_url: URL) -> None:
    from qorus_core.db import sessions as sess

    engine = create_system_engine(db_url)
    with engine.begin() as conn:
        sid = sess.open_session(
            conn, instancekey="qorus-test-instance", node="n", url=None, version="x"
        )
    res = run(omq_dir, "-L")
    assert res.returncode == 0 and "qorus-test-instance" in res.stdout
    # the session's process (this test) is alive: recovery is refused
    res = run(omq_dir, "--recover")
    assert res.returncode == 1 and "is alive" in res.stderr
    with engine.begin() as conn:
        conn.execute(update(t.sessions).where(t.sessions.c.sessionid == sid).values(pid=2**22 + 9))
    res = run(omq_dir, "--recover=qorus-test-instance")
    assert res.returncode == 0, res.stderr
    assert f"recovered session {sid}" in res.stdout
    res = run(omq_dir, "-l")
    assert "RECOVERED" in res.stdout
    res = run(omq_dir, "--recover")
    assert "nothing to recover" in res.stdout
    engine.dispose()


def test_recover_leaves_live_nodes_alone(omq_dir: Path, db_url: URL) -> None:
    from qorus_core.db import sessions as sess

    engine = create_system_engine(db_url)
    with engine.begin() as conn:
        live, dead = (
            sess.open_session(
                conn, instancekey="qorus-test-instance", node=node, url=None, version="x"
            )
            for node in ("live", "dead")
        )
        conn.execute(update(t.sessions).where(t.sessions.c.sessionid == dead).values(pid=2**22 + 9))
    res = run(omq_dir, "--recover")
    assert res.returncode == 0, res.stderr
    assert f"recovered session {dead}" in res.stdout
    assert f"left alone: session {live}" in res.stderr and "is alive" in res.stderr
    with engine.connect() as conn:
        status = dict(conn.execute(select(t.sessions.c.node, t.sessions.c.sessionstatus)).all())
    assert status["live"] == "ACTIVE" and status["dead"] == "RECOVERED"
    engine.dispose()


def test_verbose_status_counts_every_table(omq_dir: Path) -> None:
    res = run(omq_dir, "-v")
    assert res.returncode == 0, res.stderr
    assert "rows in permission_includes" in res.stdout
    assert "rows in permission_includes" not in run(omq_dir).stdout


def test_dialect_alone_is_a_usage_error(omq_dir: Path) -> None:
    res = run(omq_dir, "--dialect", "oracle")
    assert res.returncode == 1 and "--dialect goes with --sql" in res.stderr
