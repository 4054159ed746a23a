"""The split of system-pool-maximum into API, heartbeat and engine pools, and the engine's
bounded exponential back-off."""

from __future__ import annotations

from pathlib import Path

import pytest

from qorus_core.db.engine import sqlite_url
from qorus_core.db.pools import HEARTBEAT_POOL, open_pools, pool_sizes
from qorus_core.model.errors import OptionError
from qorus_core.options import Options
from qorus_server.engine import backoff
from qorus_server.engine.backoff import Backoff


def test_default_split_keeps_the_total() -> None:
    s = pool_sizes(Options())
    assert (s.api, s.heartbeat, s.engine) == (10, HEARTBEAT_POOL, 28)
    assert s.api + s.heartbeat + s.engine == 40
    assert s.api_timeout == 5 and s.engine_timeout == 120


def test_explicit_and_small_splits() -> None:
    s = pool_sizes(Options({"system-pool-maximum": 12, "api-pool-maximum": 3}))
    assert (s.api, s.engine) == (3, 7)
    s = pool_sizes(Options({"system-pool-maximum": 6}))
    assert (s.api, s.engine) == (2, 2)  # a quarter, at least 2


@pytest.mark.parametrize(("total", "api"), [(5, 0), (12, 9), (40, 100)])
def test_a_split_that_starves_the_engine_is_refused(total: int, api: int) -> None:
    with pytest.raises(OptionError, match="workflow engine"):
        pool_sizes(Options({"system-pool-maximum": total, "api-pool-maximum": api}))


def test_pools_are_separate_engines_on_one_file(tmp_path: Path) -> None:
    pools = open_pools(sqlite_url(tmp_path / "x.sqlite"), pool_sizes(Options()))
    try:
        assert len({id(pools.api), id(pools.engine), id(pools.heartbeat)}) == 3
        assert pools.api.pool.timeout() == 5  # type: ignore[attr-defined]
    finally:
        pools.dispose()


def test_backoff_doubles_up_to_the_bound_and_resets(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(backoff.time, "monotonic", lambda: clock[0])
    b = Backoff(0.5, 3.0)
    delays = []
    for _ in range(5):
        delays.append(b.failed())
        clock[0] += 10  # the wait is over: the next failure is a new attempt
    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0]
    b.failed()
    assert b.failed() == pytest.approx(3.0)  # a failure during the wait does not lengthen it
    assert b.failing and b.remaining() > 0
    assert b.succeeded() is True and not b.failing and b.remaining() == 0
    assert b.succeeded() is False
    assert b.failed() == 0.5
