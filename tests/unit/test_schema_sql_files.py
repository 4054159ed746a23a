"""schema/*.sql is what ``schema-tool --sql --dialect X`` prints, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from qorus_cli.schema_tool import main as schema_tool
from qorus_core.db import schema

SCHEMA = Path(__file__).resolve().parents[2] / "schema"


def test_every_dialect_has_a_file() -> None:
    assert sorted(p.stem for p in SCHEMA.glob("*.sql")) == sorted(schema.DIALECTS)
    assert (SCHEMA / "README.md").is_file()


@pytest.mark.parametrize("dialect", schema.DIALECTS)
def test_file_equals_schema_tool_output(dialect: str) -> None:
    res = CliRunner().invoke(schema_tool, ["--sql", "--dialect", dialect])
    assert res.exit_code == 0, res.output
    on_disk = (SCHEMA / f"{dialect}.sql").read_text(encoding="utf-8")
    assert on_disk == res.stdout, (
        f"schema/{dialect}.sql differs from 'schema-tool --sql --dialect {dialect}': "
        "run bin/regen-schema-sql"
    )


def test_output_is_deterministic() -> None:
    assert schema.offline_sql("postgresql") == schema.offline_sql("postgresql")
