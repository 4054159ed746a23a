"""The locks of a loaded service: the read-write lock of its methods and the bound on its
threads (``max-service-threads``).

A method declared ``lock: read`` runs under the read lock (read methods run side by side),
``lock: write`` under the write lock (alone: no other locked method runs meanwhile), ``none``
takes no lock. A thread that already holds the service's lock takes none for a nested call
(a method calling another method of its own service through the API), as in Qorus; a nested
write call from a thread holding only the read lock cannot be granted without a deadlock and
is refused (SERVICE-LOCK-ERROR).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from qorus_core.model.errors import QorusError


class ServiceLockError(QorusError):
    code = "SERVICE-LOCK-ERROR"


class ThreadLimitError(QorusError):
    """Too many calls and threads in one service for too long (``max-service-threads``)."""

    code = "SERVICE-THREAD-LIMIT"


class RWLock:
    """A read-write lock that prefers writers (a waiting write call is not starved by a
    stream of read calls) and knows which threads hold it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers: dict[int, int] = {}
        self._writer: int | None = None
        self._writers_waiting = 0

    def held_by_me(self) -> bool:
        me = threading.get_ident()
        with self._cond:
            return self._writer == me or me in self._readers

    @contextmanager
    def hold(self, mode: str) -> Iterator[None]:
        """Hold the lock in ``mode`` (``read``, ``write``; anything else: no lock) for the
        block; nothing is taken when this thread already holds the lock."""
        if mode not in ("read", "write"):
            yield
            return
        me = threading.get_ident()
        with self._cond:
            if self._writer == me:
                nested = True
            elif me in self._readers:
                if mode == "write":
                    raise ServiceLockError(
                        "a write method cannot be called from a read method of the same service "
                        "(the read lock is held)"
                    )
                nested = True
            else:
                nested = False
                if mode == "read":
                    self._cond.wait_for(lambda: self._writer is None and not self._writers_waiting)
                    self._readers[me] = 1
                else:
                    self._writers_waiting += 1
                    try:
                        self._cond.wait_for(lambda: self._writer is None and not self._readers)
                    finally:
                        self._writers_waiting -= 1
                    self._writer = me
        try:
            yield
        finally:
            if not nested:
                with self._cond:
                    if mode == "read":
                        self._readers.pop(me, None)
                    else:
                        self._writer = None
                    self._cond.notify_all()


class Slots:
    """Calls in progress and threads of one service, at most ``limit`` at once: one more
    waits up to ``wait`` seconds for a free slot, then fails SERVICE-THREAD-LIMIT."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.used = 0

    def acquire(self, limit: int, wait: float, what: str) -> None:
        deadline = time.monotonic() + max(wait, 0.0)
        with self._cond:
            while self.used >= limit:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ThreadLimitError(
                        f"{what}: {self.used} calls and threads are running in the service, "
                        f"the most max-service-threads ({limit}) allows; none ended within "
                        f"{wait:g} s"
                    )
                self._cond.wait(left)
            self.used += 1

    def release(self) -> None:
        with self._cond:
            self.used = max(0, self.used - 1)
            self._cond.notify()
