"""Concurrent createOrder calls share one insert (group commit).

A call hands its validated plain order to the submitter and waits until it is written: a
request on the event loop awaits a future (:meth:`OrderSubmitter.submit_async`, no worker
thread per request), a caller in a thread blocks (:meth:`OrderSubmitter.submit`). One writer
thread takes every order waiting, writes them with one statement
(:func:`qorus_core.db.order_batch.insert_plain_orders`) and settles their callers, one
wake-up per event loop and batch. A lone order is written at once, so nothing waits for a
timer; under load one round trip and one commit serve many orders.

Every caller learns its own outcome: its id, ``None`` when its workflow definitions changed
(nothing of it written), or :class:`BatchFailed` when its batch met a database error (one
statement: none of the batch was written) or the submitter is stopped; the caller then creates
its order the ordinary way, which reports its own error if there is one.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from qorus_core.db.order_batch import PlainOrder, insert_plain_orders
from qorus_core.db.refdata import now

#: most orders written by one statement (its arrays stay small)
MAX_BATCH = 256

Writer = Callable[[Engine, Sequence[PlainOrder], datetime], list[int | None]]

log = logging.getLogger("qorus.engine")


class BatchFailed(Exception):
    """The order was not written (a database error of its batch, or the submitter stopped)."""


@dataclass
class _Pending:
    item: PlainOrder
    loop: asyncio.AbstractEventLoop | None = None
    future: asyncio.Future[int | None] | None = None
    event: threading.Event | None = None
    wfiid: int | None = None
    error: str | None = None


class OrderSubmitter:
    def __init__(
        self, engine: Engine, *, max_batch: int = MAX_BATCH, writer: Writer = insert_plain_orders
    ) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.writer = writer
        #: batches written and orders in them (the mean batch tells how much was shared)
        self.batches = 0
        self.orders = 0
        self._cond = threading.Condition()
        self._queue: deque[_Pending] = deque()
        self._thread: threading.Thread | None = None
        self._closed = False

    # ------------------------------------------------------------------ callers

    def submit(self, item: PlainOrder) -> int | None:
        """Write ``item`` (from a thread); its order id, or None when its definitions stamp
        is stale; :class:`BatchFailed` when it was not written."""
        p = _Pending(item, event=threading.Event())
        self._put(p)
        assert p.event is not None
        p.event.wait()
        if p.error is not None:
            raise BatchFailed(p.error)
        return p.wfiid

    def submit_async(self, item: PlainOrder) -> asyncio.Future[int | None]:
        """:meth:`submit` for a caller on the running event loop: a future of the outcome."""
        loop = asyncio.get_running_loop()
        p = _Pending(item, loop=loop, future=loop.create_future())
        self._put(p)
        assert p.future is not None
        return p.future

    def _put(self, p: _Pending) -> None:
        with self._cond:
            if self._closed:
                raise BatchFailed("the order submitter is stopped")
            self._queue.append(p)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="order-submitter", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def close(self, timeout: float = 30.0) -> None:
        """Write what is waiting, then stop the writer; later calls get :class:`BatchFailed`."""
        with self._cond:
            self._closed = True
            thread = self._thread
            self._cond.notify()
        if thread is not None:
            thread.join(timeout)

    # ------------------------------------------------------------------ the writer

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    return
                n = min(len(self._queue), self.max_batch)
                batch = [self._queue.popleft() for _ in range(n)]
            self._write(batch)

    def _write(self, batch: list[_Pending]) -> None:
        try:
            ids = self.writer(self.engine, [p.item for p in batch], now())
            for p, wfiid in zip(batch, ids, strict=True):
                p.wfiid = wfiid
        except Exception as exc:  # every caller of the batch learns of it
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            for p in batch:
                p.error = reason[0] if reason else type(exc).__name__
        self.batches += 1
        self.orders += len(batch)
        by_loop: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
        for p in batch:
            if p.event is not None:
                p.event.set()
            elif p.loop is not None:
                by_loop.setdefault(p.loop, []).append(p)
        for loop, pending in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, pending)
            except RuntimeError:  # that loop is closed: nobody waits any more
                log.warning("%d created order(s) had no caller left to answer", len(pending))


def _settle(pending: list[_Pending]) -> None:
    """Resolve the futures of one batch (on their event loop)."""
    for p in pending:
        fut = p.future
        if fut is None or fut.done():  # a caller that went away cancelled its future
            continue
        if p.error is not None:
            fut.set_exception(BatchFailed(p.error))
        else:
            fut.set_result(p.wfiid)
