"""The scheduler's clock: what time it is (naive UTC, the storage convention), the time zone
cron schedules are read in, and a wait until a given time that a wake-up cuts short.

The server runs on :class:`SystemClock`; tests hand the scheduler a clock of their own (one
they move forward by hand), so no test waits for a schedule.
"""

from __future__ import annotations

import threading
from datetime import datetime, tzinfo
from typing import Protocol

from qorus_core.db.refdata import now as utc_now
from qorus_core.model.schedule import local_zone


class Clock(Protocol):
    """What the scheduler asks of a clock."""

    @property
    def tz(self) -> tzinfo:
        """The time zone cron fields are read in."""
        ...

    def now(self) -> datetime:
        """The time now, naive UTC."""
        ...

    def wait(self, wake: threading.Event, until: datetime) -> None:
        """Return at ``until`` (by this clock) or as soon as ``wake`` is set."""
        ...


class SystemClock:
    """The real time, in the server's time zone (``$TZ`` or the system's)."""

    def __init__(self, tz: tzinfo | None = None) -> None:
        self._tz = tz or local_zone()

    @property
    def tz(self) -> tzinfo:
        return self._tz

    def now(self) -> datetime:
        return utc_now()

    def wait(self, wake: threading.Event, until: datetime) -> None:
        wake.wait(max(0.0, (until - self.now()).total_seconds()))
