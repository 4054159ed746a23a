"""``schema-tool -U --sql`` prints what an upgrade would run there (as ``-d``), changing
nothing; ``--sql`` alone prints the full DDL of the datasource's database."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect

from qorus_cli.schema_tool import main
from qorus_core.db import schema
from qorus_core.db.engine import create_system_engine, sqlite_url

pytestmark = pytest.mark.integration


def test_upgrade_sql_on_a_current_schema(omq_dir: Path) -> None:
    r = CliRunner().invoke(main, ["--qorus-dir", str(omq_dir), "-U", "--sql"])
    assert r.exit_code == 0 and r.stdout.strip() == "-- the schema is current: nothing to do"
    r = CliRunner().invoke(main, ["--qorus-dir", str(omq_dir), "--sql"])
    assert r.exit_code == 0 and "CREATE TABLE release_components" in r.stdout


def test_upgrade_sql_on_an_empty_database(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "empty.sqlite")
    spec = f"sqlite:{tmp_path / 'empty.sqlite'}"
    r = CliRunner().invoke(main, ["--qorus-dir", str(tmp_path), "-D", spec, "-U", "--sql"])
    assert r.exit_code == 0, r.output
    assert r.stdout == schema.offline_sql("sqlite") + "\n"
    engine = create_system_engine(url)
    with engine.connect() as conn:
        assert inspect(conn).get_table_names() == []
    engine.dispose()
