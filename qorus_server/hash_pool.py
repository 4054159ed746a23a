"""The threads that check passwords, apart from the threads that serve requests.

An argon2 check costs tens of milliseconds of CPU by design. Run in the shared worker pool, a
flood of wrong passwords would hold every worker and delay everyone else's requests; here it
runs on ``rbac-login-threads`` threads of its own, at most ``rbac-login-queue`` checks wait,
and any more are refused at once (HTTP 503 with ``Retry-After``) instead of queueing without
bound.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from qorus_core.model.errors import UnavailableError

T = TypeVar("T")


class LoginBusyError(UnavailableError):
    """Every login thread is busy and the queue is full (HTTP 503, ``Retry-After``)."""

    code = "LOGIN-BUSY"

    def __init__(self, desc: str, retry_after: int = 1) -> None:
        super().__init__(desc)
        self.retry_after = retry_after


class HashPool:
    """A bounded executor: ``threads`` workers and at most ``queue`` waiting jobs."""

    def __init__(self, threads: int, queue: int) -> None:
        self.threads = threads
        self.capacity = threads + queue
        self._slots = threading.BoundedSemaphore(self.capacity)
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="qorus-login")

    def submit(self, fn: Callable[..., T], *args: object) -> Future[T]:
        """Run ``fn(*args)`` on a login thread; LOGIN-BUSY when no room is left."""
        if not self._slots.acquire(blocking=False):
            raise LoginBusyError(
                f"all {self.capacity} password checks the server allows at a time are in "
                "progress; try again shortly"
            )
        try:
            fut = self._executor.submit(fn, *args)
        except BaseException:
            self._slots.release()
            raise
        fut.add_done_callback(lambda _f: self._slots.release())
        return fut

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
