"""A bounded exponential delay between attempts against a failing database.

Workers that kept going at full speed against a database that is down would burn through
their claimed orders and flood the log; they wait instead, twice as long after each further
failure (from ``first`` up to ``maximum`` seconds), and start afresh after a success.
"""

from __future__ import annotations

import threading
import time


class Backoff:
    def __init__(self, first: float = 0.5, maximum: float = 30.0) -> None:
        self.first = first
        self.maximum = max(first, maximum)
        self._lock = threading.Lock()
        self._delay = 0.0
        self._until = 0.0
        self.failures = 0

    def failed(self) -> float:
        """Count a failure; the delay before the next attempt (also in :meth:`remaining`).

        Failures during a wait already decided (several workers whose connections broke at
        once) do not lengthen it: only a failed new attempt doubles the delay.
        """
        with self._lock:
            left = self._until - time.monotonic()
            if left > 0:
                return left
            self.failures += 1
            self._delay = self.first if self._delay == 0 else min(self._delay * 2, self.maximum)
            self._until = time.monotonic() + self._delay
            return self._delay

    def succeeded(self) -> bool:
        """Forget the failures; True when there were some (the database came back)."""
        with self._lock:
            was = self.failures > 0
            self._delay = 0.0
            self._until = 0.0
            self.failures = 0
            return was

    def remaining(self) -> float:
        """Seconds left to wait before the next attempt (0 when it may go ahead)."""
        with self._lock:
            return max(0.0, self._until - time.monotonic())

    @property
    def failing(self) -> bool:
        with self._lock:
            return self.failures > 0
