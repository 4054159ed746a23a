"""Splitting a release's SQL file into statements, and which statements each database refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from qorus_core.db import usersql
from qorus_core.db.usersql import Statement, UserSqlError, dialect_for, split


def texts(sql: str, dialect: str = "postgresql") -> list[tuple[str, int]]:
    return [(s.text, s.line) for s in split(sql, dialect_for(dialect))]


def test_statements_lines_and_comments() -> None:
    sql = "-- head; comment\nSELECT 1;\n\n/* a;\n b */ INSERT INTO t VALUES ('a;b');\nSELECT 2"
    assert texts(sql) == [
        ("SELECT 1", 2),
        ("INSERT INTO t VALUES ('a;b')", 5),
        ("SELECT 2", 6),
    ]


def test_quotes_and_doubled_quotes() -> None:
    assert texts("SELECT 'it''s; fine', \"a;b\";SELECT 3;") == [
        ("SELECT 'it''s; fine', \"a;b\"", 1),
        ("SELECT 3", 1),
    ]


def test_postgres_dollar_quotes_nested_comments_and_e_strings() -> None:
    sql = (
        "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n"
        "/* outer /* inner; */ still comment; */ SELECT e'a\\';b';\n"
        "SELECT $$x;y$$;"
    )
    got = texts(sql)
    assert [g[0].split()[0] for g in got] == ["CREATE", "SELECT", "SELECT"]
    assert got[1] == ("SELECT e'a\\';b'", 2)
    # outside PostgreSQL a backslash is an ordinary character in a standard string
    assert texts("SELECT 'a\\';SELECT 2;", "sqlite") == [("SELECT 'a\\'", 1), ("SELECT 2", 1)]


def test_mysql_backslashes_backticks_and_hash_comments() -> None:
    sql = "# note; here\nINSERT INTO `a;b` VALUES ('x\\';y');\nSELECT 1 # tail;\n;"
    assert texts(sql, "mysql") == [("INSERT INTO `a;b` VALUES ('x\\';y')", 2), ("SELECT 1", 3)]


@pytest.mark.parametrize(
    ("sql", "line"),
    [("SELECT 1;\nSELECT 'open", 2), ("SELECT 1;\n/* open", 2), ('SELECT "x', 1)],
)
def test_unterminated(sql: str, line: int) -> None:
    with pytest.raises(UserSqlError, match="unterminated") as exc:
        split(sql, dialect_for("postgresql"))
    assert exc.value.line == line


@pytest.mark.parametrize(
    "stmt",
    [
        "COMMIT",
        "commit work",
        "BEGIN",
        "START TRANSACTION",
        "ROLLBACK",
        "END",
        "SAVEPOINT a",
        "RELEASE SAVEPOINT a",
        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
        "SET autocommit = 1",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
        "PREPARE TRANSACTION 'x'",
        "(COMMIT)",
    ],
)
@pytest.mark.parametrize("dialect", ["postgresql", "sqlite", "mysql", "oracle"])
def test_transaction_control_is_refused_everywhere(stmt: str, dialect: str) -> None:
    why = dialect_for(dialect).refusal(Statement(stmt, 1))
    assert why is not None and "transaction" in why


def test_ddl_allowed_only_where_it_is_transactional() -> None:
    ddl = Statement("CREATE TABLE x (a INT)", 1)
    assert dialect_for("postgresql").refusal(ddl) is None
    assert dialect_for("sqlite").refusal(ddl) is None
    for name in ("mysql", "oracle"):
        why = dialect_for(name).refusal(ddl)
        assert why is not None and "commits implicitly" in why
    for dml in (
        "INSERT INTO x VALUES (1)",
        "update x set a=1",
        "DELETE FROM x",
        "WITH a AS (SELECT 1) SELECT * FROM a",
    ):
        assert dialect_for("mysql").refusal(Statement(dml, 1)) is None
    assert dialect_for("sqlite").refusal(Statement("ATTACH DATABASE 'x' AS y", 1)) is not None
    assert dialect_for("sqlite").refusal(Statement("PRAGMA foreign_keys=OFF", 1)) is not None


def test_read_bounds(tmp_path: Path) -> None:
    big = tmp_path / "big.sql"
    with big.open("wb") as fh:
        fh.truncate(usersql.MAX_SQL_BYTES + 1)
    with pytest.raises(UserSqlError, match="may hold"):
        usersql.read(big)
    bad = tmp_path / "bad.sql"
    bad.write_bytes(b"SELECT 1;\nSELECT '\xff';\n")
    with pytest.raises(UserSqlError, match="not UTF-8") as exc:
        usersql.read(bad)
    assert exc.value.line == 2
    nul = tmp_path / "nul.sql"
    nul.write_bytes(b"SELECT 1;\n\nSELECT '\x00';\n")
    with pytest.raises(UserSqlError, match="NUL") as exc:
        usersql.read(nul)
    assert exc.value.line == 3
    with pytest.raises(UserSqlError, match="not a regular file"):
        usersql.read(tmp_path)
    empty = tmp_path / "empty.sql"
    empty.write_text("-- nothing\n;\n")
    with pytest.raises(UserSqlError, match="no SQL statement"):
        usersql.parse(empty, "sqlite")


def test_too_many_statements() -> None:
    with pytest.raises(UserSqlError, match="statements"):
        split("SELECT 1;" * (usersql.MAX_STATEMENTS + 1), dialect_for("sqlite"))
