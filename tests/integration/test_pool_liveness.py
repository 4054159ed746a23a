"""The PostgreSQL pools check a connection at checkout without a round trip when it was used
a moment ago (issue 17), and still never hand out one the server closed."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine

from qorus_core.db import engine as dbengine
from qorus_core.db.engine import create_system_engine

pytestmark = pytest.mark.integration


@pytest.fixture
def pg(db_kind: str, db_url: URL) -> Iterator[Engine]:
    if db_kind != "postgresql":
        pytest.skip("PostgreSQL pools; run with --db postgresql")
    eng = create_system_engine(db_url, pool_min=2, pool_max=2)
    yield eng
    eng.dispose()


def test_no_ping_for_a_connection_just_used(pg: Engine) -> None:
    with pg.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    pings: list[int] = []
    orig = pg.dialect.do_ping

    def counting(dbapi_conn: object) -> bool:
        pings.append(1)
        return orig(dbapi_conn)

    pg.dialect.do_ping = counting  # type: ignore[method-assign]
    for _ in range(5):
        with pg.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() == pid
    assert pings == []


def test_a_terminated_connection_is_replaced(pg: Engine, db_url: URL) -> None:
    with pg.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    other = create_system_engine(db_url, pool_min=1, pool_max=1)
    try:
        with other.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    finally:
        other.dispose()
    time.sleep(0.5)  # the backend's FATAL message reaches the idle socket
    with pg.connect() as conn:  # no ping (used a moment ago), yet not handed out dead
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid


def test_a_long_idle_connection_is_pinged(pg: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with pg.connect() as conn:
        conn.execute(text("SELECT 1"))
    monkeypatch.setattr(dbengine, "PING_IDLE_SECONDS", 0.0)
    pings: list[int] = []
    orig = pg.dialect.do_ping

    def counting(dbapi_conn: object) -> bool:
        pings.append(1)
        return orig(dbapi_conn)

    pg.dialect.do_ping = counting  # type: ignore[method-assign]
    with pg.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert pings == [1]
