"""Helpers for job tests: a clock the test moves by hand, gates job code waits on, a started
scheduler."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from qorus_server.jobs.manager import JobManager

#: a Monday, 10:00 UTC: where the tests' clocks start
T0 = datetime(2030, 1, 7, 10, 0, 0)
#: events job code may wait on: ``from tests.helpers.jobs import GATES``
GATES: dict[str, threading.Event] = {}
#: what job code reports back to the test
SEEN: dict[str, list[Any]] = {}


class ManualClock:
    """A clock that stands still until the test moves it (:meth:`advance`, :meth:`set`)."""

    def __init__(self, start: datetime, tz: tzinfo = UTC) -> None:
        self._now = start
        self._tz = tz
        self._cond = threading.Condition()

    @property
    def tz(self) -> tzinfo:
        return self._tz

    def now(self) -> datetime:
        with self._cond:
            return self._now

    def set(self, when: datetime) -> None:
        with self._cond:
            self._now = when
            self._cond.notify_all()

    def advance(self, seconds: float = 0, **kw: float) -> datetime:
        with self._cond:
            self._now += timedelta(seconds=seconds, **kw)
            self._cond.notify_all()
            return self._now

    def wait(self, wake: threading.Event, until: datetime) -> None:
        with self._cond:
            while self._now < until and not wake.is_set():
                self._cond.wait(0.02)


def start_jobs(server: Any, clock: ManualClock, **kw: Any) -> JobManager:
    """A started scheduler on ``server`` (no loop thread unless ``loop=True``), registered
    among the server's components so the operations find it."""
    kw.setdefault("loop", False)
    mgr = JobManager(clock=clock, **kw)
    mgr.start(server)
    server.components.append(mgr)
    return mgr
