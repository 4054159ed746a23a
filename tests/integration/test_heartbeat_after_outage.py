"""After its heartbeat failed (the database was away), a node does not judge the other nodes'
sessions stale until they had a full stale timeout to beat again: their heartbeats are as old
as its own, and taking a live node for dead would stop it."""

from __future__ import annotations

import logging
import threading
from contextlib import AbstractContextManager
from typing import Any

import pytest
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from qorus_core.db import sessions as sess
from qorus_server import session as app_session

pytestmark = pytest.mark.integration


class Flaky:
    """An engine whose ``begin`` fails while ``down`` is set (the database is away)."""

    def __init__(self, engine: Engine, journal: list[str]) -> None:
        self.engine = engine
        self.journal = journal
        self.down = threading.Event()

    def begin(self) -> AbstractContextManager[Connection]:
        if self.down.is_set():
            self.journal.append("beat failed")
            raise OperationalError("BEGIN", {}, Exception("database away"))
        self.journal.append("beat")
        return self.engine.begin()


class Watcher:
    max_age = 3

    def __init__(self, journal: list[str], checks: threading.Semaphore) -> None:
        self.journal = journal
        self.checks = checks

    def check(self) -> list[Any]:
        self.journal.append("check")
        self.checks.release()
        return []


@pytest.fixture
def sessionid(engine: Engine) -> int:
    with engine.begin() as conn:
        return sess.open_session(conn, instancekey="inst", node="a", url=None, version="x")


def test_no_stale_check_until_the_others_could_beat_again(engine: Engine, sessionid: int) -> None:
    journal: list[str] = []
    checks = threading.Semaphore(0)
    flaky = Flaky(engine, journal)
    hb = app_session.Heartbeat(
        flaky,  # type: ignore[arg-type]
        sessionid,
        1,
        logging.getLogger("test.heartbeat"),
        watcher=Watcher(journal, checks),  # type: ignore[arg-type]
    )
    hb.start()
    try:
        assert checks.acquire(timeout=10)  # beats and checks while the database answers
        flaky.down.set()
        while "beat failed" not in journal:
            assert not hb._stop.wait(0.1)
        flaky.down.clear()
        assert checks.acquire(timeout=15)  # checks resume, but only later
    finally:
        hb.stop()
    after = journal[len(journal) - journal[::-1].index("beat failed") :]
    first_check = after.index("check")
    # the first good beat after the outage did not check (without the quiet time it would:
    # one beat, then its check); the check came a stale timeout (3 beats) later
    assert after[:first_check].count("beat") >= 2, journal
