"""The order submitter's group commit with a fake writer (the real insert is tested on
PostgreSQL in tests/integration/engine/test_order_batch.py and over HTTP in
tests/acceptance/test_create_order_concurrent.py): orders that arrive while a write is in
progress share the next one, every caller gets its own outcome, a failed batch fails each of
its callers alone, and a stopped submitter refuses rather than loses."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pytest

from qorus_core.db.order_batch import PlainOrder
from qorus_core.db.orders import WorkflowBrief
from qorus_server.engine.submitter import BatchFailed, OrderSubmitter


def _item(n: int, stamp: str | None = "s") -> PlainOrder:
    brief = WorkflowBrief(n, f"WF{n}", "1.0", frozenset())
    return PlainOrder(brief=brief, stamp=stamp, order=None)  # type: ignore[arg-type]


class FakeWriter:
    """Gives each order id 1000 + workflowid (None for stamp None); holds the first write
    until ``release`` is set, so that others pile up behind it."""

    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.started = threading.Event()
        self.release = threading.Event()
        self.fail = fail

    def __call__(self, _engine: Any, batch: Sequence[PlainOrder], _ts: datetime) -> list[Any]:
        self.batches.append([b.workflowid for b in batch])
        self.started.set()
        self.release.wait(10)
        if self.fail:
            raise RuntimeError("connection lost\nmore lines")
        return [None if b.stamp is None else 1000 + b.workflowid for b in batch]


def test_orders_arriving_during_a_write_share_the_next_one() -> None:
    writer = FakeWriter()
    sub = OrderSubmitter(None, writer=writer)  # type: ignore[arg-type]
    results: dict[int, Any] = {}

    def call(n: int) -> None:
        results[n] = sub.submit(_item(n, None if n == 5 else "s"))

    first = threading.Thread(target=call, args=(0,))
    first.start()
    assert writer.started.wait(5)
    rest = [threading.Thread(target=call, args=(n,)) for n in range(1, 9)]
    for th in rest:
        th.start()
    while len(sub._queue) < 8:  # all eight wait behind the first write
        threading.Event().wait(0.01)
    writer.release.set()
    for th in [first, *rest]:
        th.join(10)
    assert writer.batches[0] == [0]
    assert sorted(writer.batches[1]) == list(range(1, 9))
    assert (sub.batches, sub.orders) == (2, 9)
    assert results == {n: None if n == 5 else 1000 + n for n in range(9)}
    sub.close()


def test_a_failed_batch_fails_each_caller_and_the_next_batch_works() -> None:
    writer = FakeWriter(fail=True)
    writer.release.set()
    sub = OrderSubmitter(None, writer=writer)  # type: ignore[arg-type]
    with pytest.raises(BatchFailed, match=r"^connection lost$"):
        sub.submit(_item(1))
    writer.fail = False
    assert sub.submit(_item(2)) == 1002
    sub.close()


def test_callers_on_an_event_loop_await_their_order() -> None:
    writer = FakeWriter()
    writer.release.set()
    sub = OrderSubmitter(None, writer=writer)  # type: ignore[arg-type]

    async def main() -> list[Any]:
        futs = [sub.submit_async(_item(n)) for n in range(5)]
        gone = sub.submit_async(_item(99))
        gone.cancel()  # a caller that went away: its order is written, nobody answered
        return list(await asyncio.gather(*futs))

    assert asyncio.run(main()) == [1000 + n for n in range(5)]
    assert sum(len(b) for b in writer.batches) == 6
    sub.close()


def test_a_failed_batch_fails_each_awaiting_caller() -> None:
    writer = FakeWriter(fail=True)
    writer.release.set()
    sub = OrderSubmitter(None, writer=writer)  # type: ignore[arg-type]

    async def main() -> list[Any]:
        return list(
            await asyncio.gather(
                *(sub.submit_async(_item(n)) for n in range(3)), return_exceptions=True
            )
        )

    out = asyncio.run(main())
    assert all(isinstance(e, BatchFailed) for e in out)
    assert len({id(e) for e in out}) == 3  # each caller its own exception
    sub.close()


def test_close_writes_what_waits_then_refuses() -> None:
    writer = FakeWriter()
    sub = OrderSubmitter(None, writer=writer)  # type: ignore[arg-type]
    got: list[Any] = []
    th = threading.Thread(target=lambda: got.append(sub.submit(_item(1))))
    th.start()
    assert writer.started.wait(5)
    closer = threading.Thread(target=sub.close)
    closer.start()
    writer.release.set()
    th.join(10)
    closer.join(10)
    assert got == [1001]
    with pytest.raises(BatchFailed, match="stopped"):
        sub.submit(_item(2))


def test_batches_are_capped() -> None:
    writer = FakeWriter()
    sub = OrderSubmitter(None, writer=writer, max_batch=3)  # type: ignore[arg-type]
    threads = [threading.Thread(target=sub.submit, args=(_item(n),)) for n in range(8)]
    threads[0].start()
    assert writer.started.wait(5)
    for th in threads[1:]:
        th.start()
    while len(sub._queue) < 7:
        threading.Event().wait(0.01)
    writer.release.set()
    for th in threads:
        th.join(10)
    assert [len(b) for b in writer.batches] == [1, 3, 3, 1]
    sub.close()
