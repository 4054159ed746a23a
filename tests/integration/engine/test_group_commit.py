"""Group commit of step writes (issue 17) on every database: with one slot, units that arrive
while a commit is in progress share the next transaction; when a shared transaction fails (a
unit's own exception, a constraint), every unit's in-memory state is put back and each runs
again alone, so only the failing unit's worker sees an error and the others commit; units
that may not be shared, and every unit with no slots set, commit on their own."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from qorus_core.db import tables as t
from qorus_core.db.refdata import now
from qorus_server.engine.groupcommit import GroupCommit
from qorus_server.engine.workerdb import WorkerDb

pytestmark = pytest.mark.integration

SP = t.system_properties
DOMAIN = "gc-test"


def _put(key: str) -> Callable[[Connection], str]:
    def unit(conn: Connection) -> str:
        ts = now()
        conn.execute(
            insert(SP).values(domain=DOMAIN, keyname=key, value=key, created=ts, modified=ts)
        )
        return key

    return unit


def _keys(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(SP.c.keyname).where(SP.c.domain == DOMAIN)).scalars())


@pytest.fixture(autouse=True)
def _clean(engine: Engine) -> Any:
    yield
    with engine.begin() as conn:
        conn.execute(delete(SP).where(SP.c.domain == DOMAIN))


def _pile_up(
    engine: Engine,
    group: GroupCommit,
    units: list[Callable[[Connection], Any]],
    undo: Callable[[], None] | None = None,
) -> list[Any]:
    """Run ``units`` from threads of their own, the first one holding its transaction until
    all the others wait behind it; each thread's result or exception."""
    release = threading.Event()
    out: list[Any] = [None] * len(units)
    first = units[0]

    def held(conn: Connection) -> Any:
        res = first(conn)
        assert release.wait(10)
        return res

    def worker(i: int, fn: Callable[[Connection], Any]) -> None:
        db = WorkerDb(engine)
        try:
            out[i] = group.run(db, fn, undo=undo)
        except BaseException as exc:
            out[i] = exc
        finally:
            db.close()

    threads = [threading.Thread(target=worker, args=(0, held))]
    threads[0].start()
    while not group._leading:
        threading.Event().wait(0.005)
    threads += [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(units[1:], 1)]
    for th in threads[1:]:
        th.start()
    while len(group._queue) < len(units) - 1:
        threading.Event().wait(0.005)
    release.set()
    for th in threads:
        th.join(30)
    return out


def test_units_waiting_share_one_transaction(engine: Engine) -> None:
    group = GroupCommit(slots=1)
    names = [f"k{i}" for i in range(6)]
    out = _pile_up(engine, group, [_put(k) for k in names])
    assert out == names
    assert (group.transactions, group.units) == (2, 6)
    assert _keys(engine) == set(names)


def test_a_failing_unit_fails_alone(engine: Engine) -> None:
    def broken(conn: Connection) -> None:
        _put("broken")(conn)
        raise ValueError("the step's own error")

    undone: list[int] = []
    group = GroupCommit(slots=1)
    out = _pile_up(
        engine, group, [_put("a"), _put("b"), broken, _put("c")], undo=lambda: undone.append(1)
    )
    assert out[:2] == ["a", "b"] and out[3] == "c"
    assert isinstance(out[2], ValueError)
    assert _keys(engine) == {"a", "b", "c"}
    assert len(undone) == 3  # the shared transaction of b, broken and c failed: all put back


def test_a_constraint_violation_fails_only_its_unit(engine: Engine) -> None:
    group = GroupCommit(slots=1)
    out = _pile_up(engine, group, [_put("x"), _put("y"), _put("y"), _put("z")])
    assert out[0] == "x" and out[3] == "z"
    assert sum(isinstance(o, IntegrityError) for o in out) == 1
    assert out.count("y") == 1
    assert _keys(engine) == {"x", "y", "z"}


def test_no_slots_and_unshareable_units_commit_alone(engine: Engine) -> None:
    db = WorkerDb(engine)
    try:
        off = GroupCommit()  # workflow-commit-slots 0: nothing shared, nothing counted
        assert off.run(db, _put("off")) == "off"
        assert (off.transactions, off.units) == (0, 0)
        on = GroupCommit(slots=1)
        assert on.run(db, _put("alone"), shareable=False) == "alone"
        assert (on.transactions, on.units) == (0, 0)
        assert on.run(db, _put("lone")) == "lone"
        assert (on.transactions, on.units) == (1, 1)
    finally:
        db.close()
    assert _keys(engine) == {"off", "alone", "lone"}
