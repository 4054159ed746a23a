"""The server's database connections cut again and again while 1,000 orders run.

``pg_terminate_backend`` on every backend of the test database (but this test's own) is what
the server sees of a PostgreSQL restart: each pooled connection fails at its next statement,
new ones succeed. Once, the database also refuses new connections for a few seconds (its
``ALLOW_CONNECTIONS``), as while a restarting server is down: the health is RED meanwhile.
Every order must end COMPLETE without a restart of the server, no step that committed may run
again (``resil``'s marker check), nothing stays IN-PROGRESS and the health is GREEN
afterwards. The PostgreSQL server itself is never restarted: it is shared.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import resil
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import NullPool

from qorus_core.db import tables as t

pytestmark = [pytest.mark.acceptance, pytest.mark.integration, pytest.mark.slow]

OBSERVER = "qorus-outage-test"
ORDERS = 1000
OPTS = ("audit=system", "workflow-workers=4", "heartbeat-interval=1", "engine-db-retry-max=2")


@pytest.fixture
def observer(db_kind: str, db_url: URL) -> Iterator[Engine]:
    """Connections of the test itself, spared by the terminations (by application name)."""
    if db_kind != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's; run with --db postgresql")
    eng = create_engine(
        db_url,
        poolclass=NullPool,
        connect_args={"application_name": OBSERVER},
        isolation_level="AUTOCOMMIT",
    )
    yield eng
    eng.dispose()


@pytest.fixture
def admin(observer: Engine, db_url: URL) -> Iterator[Engine]:
    """Connections to the maintenance database, from where the test database's are cut."""
    eng = create_engine(
        db_url.set(database="postgres"),
        poolclass=NullPool,
        connect_args={"application_name": OBSERVER},
        isolation_level="AUTOCOMMIT",
    )
    yield eng
    eng.dispose()


def terminate(admin: Engine, dbname: str) -> int:
    """Cut every connection to the test database but the test's own; how many were cut."""
    with admin.connect() as conn:
        return len(
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :db AND application_name <> :me"
                ),
                {"db": dbname, "me": OBSERVER},
            ).all()
        )


def down_for_a_while(admin: Engine, dbname: str, url: str) -> int:
    """A longer outage: the database refuses new connections for a few seconds (its own
    ``ALLOW_CONNECTIONS``, so other databases of the shared server are untouched)."""
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS false'))
    try:
        cut = terminate(admin, dbname)
        time.sleep(4)
        health = httpx.get(f"{url}/api/latest/system/health", timeout=30)
        assert health.status_code == 200 and health.json()["health"] == "RED", health.text
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true'))
    return cut


def test_backends_terminated_while_1000_orders_run(
    omq_dir: Path,
    engine: Engine,
    db_url: URL,
    observer: Engine,
    admin: Engine,
    tmp_path: Path,
    start_qorus: Any,
) -> None:
    resil.load(omq_dir)
    markers = tmp_path / "markers.txt"
    ids = resil.submit(engine, markers, ORDERS)
    engine.dispose()  # from now on the test reads through the observer only

    q = start_qorus(omq_dir, *OPTS)
    resil.wait_for("the first complete orders", lambda: resil.counts(observer)["C"] >= 20)
    cut = 0
    rounds = 0
    in_flight_at_cut = 0
    while rounds < 12:
        counts = resil.counts(observer)
        if counts["C"] >= ORDERS:
            break
        in_flight_at_cut += counts["I"]
        if rounds == 3:
            cut += down_for_a_while(admin, str(db_url.database), q.url)
        else:
            cut += terminate(admin, str(db_url.database))
        rounds += 1
        time.sleep(1.5)
    assert rounds >= 4 and cut >= rounds, (rounds, cut)  # the premise: connections were cut
    assert in_flight_at_cut > 0  # ... while orders were IN-PROGRESS

    resil.wait_for(
        "every order to end COMPLETE", lambda: resil.counts(observer)["C"] == ORDERS, 240
    )
    assert q.proc.poll() is None  # no restart: the same process and session did it all
    resil.no_in_progress(observer)
    resil.check_each_step_once(observer, ids, markers)
    with observer.connect() as conn:
        active = conn.execute(
            select(t.sessions.c.pid).where(t.sessions.c.sessionstatus == "ACTIVE")
        ).all()
    assert [r[0] for r in active] == [q.proc.pid]

    # the orders cut off in the middle went back by the sweeper, and the log says so
    system_log = "".join(p.read_text() for p in (omq_dir / "log").glob("*-qorus-core.log"))
    assert "left IN-PROGRESS by a failed database operation went back to RETRY" in system_log

    health = httpx.get(f"{q.url}/api/latest/system/health", timeout=10).json()
    assert health["health"] == "GREEN" and health["stuck-orders"] == 0, health
    code, err = q.terminate()
    assert code == 0, err
