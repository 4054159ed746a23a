"""Dialect classes are chosen once by name; SQLite takes no row locks, the others do."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import mysql, postgresql, sqlite

from qorus_core.db import tables as t
from qorus_core.db.dialects import MySQL, PostgreSQL, SQLite, dialect_for


def test_dialect_for_names() -> None:
    assert isinstance(dialect_for("postgresql"), PostgreSQL)
    assert isinstance(dialect_for("mariadb"), MySQL)
    assert isinstance(dialect_for("sqlite"), SQLite)
    assert dialect_for("postgresql").has_notify and not dialect_for("mysql").has_notify


def test_claim_and_lock_clauses() -> None:
    q = select(t.workflow_instance.c.workflow_instanceid)
    pg = str(dialect_for("postgresql").claim_rows(q).compile(dialect=postgresql.dialect()))
    assert pg.endswith("FOR UPDATE SKIP LOCKED")
    my = str(dialect_for("mysql").lock_rows(q).compile(dialect=mysql.dialect()))
    assert my.endswith("FOR UPDATE")
    lite = str(dialect_for("sqlite").claim_rows(q).compile(dialect=sqlite.dialect()))
    assert "FOR UPDATE" not in lite


def test_ddl_and_notify_flags() -> None:
    assert dialect_for("postgresql").transactional_ddl
    assert not dialect_for("mysql").transactional_ddl
    assert not dialect_for("oracle").transactional_ddl
    assert dialect_for("sqlite").transactional_ddl
    dialect_for("sqlite").notify(None, "chan", ["1"])  # type: ignore[arg-type]  # a no-op
