"""The engine's statements on the driver's cursor (issue 17, ``qorus_core.db.fastexec``): the
same rows and row counts as through SQLAlchemy, the literals a statement carries included;
driver errors raised as SQLAlchemy's (a duplicate as IntegrityError, a connection the
database cut as a disconnect, the connection then invalidated), on every database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from qorus_core.db import fastexec
from qorus_core.db import tables as t
from qorus_core.db.dialects import dialect_for
from qorus_core.db.refdata import now

pytestmark = pytest.mark.integration

SP = t.system_properties
DOMAIN = "fastexec-test"
INSERT = insert(SP).values(
    domain=DOMAIN,  # a literal the statement carries
    keyname=bindparam("p_key"),
    value=bindparam("p_value"),
    created=bindparam("p_ts"),
    modified=bindparam("p_ts"),
)
UPDATE = (
    update(SP)
    .where(SP.c.domain == DOMAIN, SP.c.keyname == bindparam("p_key"))
    .values(value=None, modified=bindparam("p_ts"))  # a literal None
)


@pytest.fixture(autouse=True)
def _clean(engine: Engine) -> Any:
    yield
    with engine.begin() as conn:
        conn.execute(delete(SP).where(SP.c.domain == DOMAIN))


def _rows(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return dict(
            conn.execute(select(SP.c.keyname, SP.c.value).where(SP.c.domain == DOMAIN)).all()
        )


def test_rows_and_counts_as_through_sqlalchemy(engine: Engine) -> None:
    ts = now()
    with engine.begin() as conn:
        for key in ("a", "b"):
            assert fastexec.execute(conn, INSERT, {"p_key": key, "p_value": key, "p_ts": ts}) == 1
        assert fastexec.execute(conn, UPDATE, {"p_key": "a", "p_ts": ts}) == 1
        assert fastexec.execute(conn, UPDATE, {"p_key": "none", "p_ts": ts}) == 0
    assert _rows(engine) == {"a": None, "b": "b"}
    with engine.connect() as conn:
        created = conn.execute(
            select(SP.c.created).where(SP.c.domain == DOMAIN, SP.c.keyname == "b")
        ).scalar_one()
    assert created == ts


def test_a_rolled_back_transaction_keeps_nothing(engine: Engine) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        fastexec.execute(conn, INSERT, {"p_key": "gone", "p_value": "x", "p_ts": now()})
        raise RuntimeError("the step failed")
    assert _rows(engine) == {}


def test_a_duplicate_is_sqlalchemys_integrity_error(engine: Engine) -> None:
    ts = now()
    with engine.begin() as conn:
        fastexec.execute(conn, INSERT, {"p_key": "dup", "p_value": "1", "p_ts": ts})
    with pytest.raises(IntegrityError), engine.begin() as conn:
        fastexec.execute(conn, INSERT, {"p_key": "dup", "p_value": "2", "p_ts": ts})
    assert _rows(engine) == {"dup": "1"}


def test_a_connection_cut_by_the_database_is_a_disconnect(engine: Engine) -> None:
    if not dialect_for(engine).driver_execution:
        pytest.skip(f"{engine.dialect.name} runs these statements through SQLAlchemy")
    with engine.connect() as victim:
        pid = victim.execute(text("SELECT pg_backend_pid()")).scalar_one()
        victim.commit()
        with engine.connect() as killer:
            killer.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        with pytest.raises(DBAPIError) as info, victim.begin():
            fastexec.execute(victim, INSERT, {"p_key": "cut", "p_value": "x", "p_ts": now()})
        assert info.value.connection_invalidated
        assert victim.invalidated
    assert _rows(engine) == {}
