"""The shared insert of plain orders (issue 17): many orders of several workflows with one
commit (ONE statement on PostgreSQL, one transaction on SQLite), each checked against its
definitions stamp, all or nothing on a database error, and on PostgreSQL the wake-up sent once
per workflow only when another node is active."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.engine import Engine

from qorus_core.db import order_batch, orders, wfcache
from qorus_core.db import tables as t
from qorus_core.db.dialects import dialect_for
from qorus_core.db.refdata import now
from qorus_core.db.wake import CHANNEL
from tests.helpers.definitions import add_workflow, noop_step
from tests.helpers.engine import new_session

pytestmark = pytest.mark.integration

WI, OI = t.workflow_instance, t.order_instance


@pytest.fixture(autouse=True)
def _batching_dialects(engine: Engine) -> None:
    if dialect_for(engine).order_batches is None:
        pytest.skip(f"{engine.dialect.name} creates orders one by one")


def _brief(engine: Engine, name: str) -> tuple[orders.WorkflowBrief, str | None]:
    noop_step(engine, f"{name}Step")
    wfid = add_workflow(engine, name, [f"{name}Step"])
    with engine.connect() as conn:
        return orders.workflow_brief(conn, wfid), wfcache.read_stamp(conn)


def _plain(brief: orders.WorkflowBrief, stamp: str | None, **args: Any) -> Any:
    p = order_batch.plain_order(brief, stamp, {"staticdata": {}, **args}, now())
    assert p is not None
    return p


def _count(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            int(conn.execute(select(func.count()).select_from(WI)).scalar_one()),
            int(conn.execute(select(func.count()).select_from(OI)).scalar_one()),
        )


def test_one_statement_writes_every_order_with_its_data(engine: Engine) -> None:
    a, _ = _brief(engine, "BATCHA")
    b, stamp = _brief(engine, "BATCHB")  # the stamp after both were added
    later = datetime(2030, 1, 2, 3, 4, 5)
    batch = [
        _plain(a, stamp, staticdata={"n": 1}),
        _plain(b, stamp, staticdata={"n": 2}, priority=7, external_order_instanceid="ext-2"),
        _plain(a, stamp, staticdata={"n": 3}, dynamicdata={"d": [1, 2]}, status="BLOCKED"),
        _plain(b, stamp, staticdata={"n": 4}, scheduled=later.isoformat()),
    ]
    seen: list[str] = []

    def on_exec(_c: object, _cur: object, stmt: str, *_a: object) -> None:
        seen.append(stmt)

    event.listen(engine, "before_cursor_execute", on_exec)
    try:
        ids = order_batch.insert_plain_orders(engine, batch, now())
    finally:
        event.remove(engine, "before_cursor_execute", on_exec)
    if engine.dialect.name == "postgresql":
        assert seen == []  # one statement on the driver's cursor: nothing through SQLAlchemy
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == 4
    assert ids == sorted(ids)  # ids follow the order of the batch
    with engine.connect() as conn:
        rows = {
            int(r[0]): r[1:]
            for r in conn.execute(
                select(
                    WI.c.workflow_instanceid,
                    WI.c.workflowid,
                    WI.c.workflowstatus,
                    WI.c.workflowstatus_orig,
                    WI.c.priority,
                    WI.c.scheduled,
                    WI.c.status_sessionid,
                    OI.c.external_order_instanceid,
                    OI.c.staticdata,
                    OI.c.dynamicdata,
                ).join(OI, OI.c.workflow_instanceid == WI.c.workflow_instanceid)
            )
        }
    assert set(rows) == set(ids)
    first, second, third, fourth = (rows[i] for i in ids)  # type: ignore[index]
    assert first[:4] == (a.workflowid, "Y", None, 500) and json.loads(first[7]) == {"n": 1}
    assert second[:2] == (b.workflowid, "Y") and second[3] == 7 and second[6] == "ext-2"
    assert third[1:3] == ("B", "Y") and json.loads(third[8]) == {"d": [1, 2]}
    assert fourth[1] == "S" and fourth[4] == later and fourth[5] == 0


def test_a_stale_stamp_leaves_its_orders_out(engine: Engine) -> None:
    a, old = _brief(engine, "BATCHSTALE")
    with engine.begin() as conn:  # a load since the brief was read
        wfcache.bump_stamp(conn)
        new = wfcache.read_stamp(conn)
    before = _count(engine)
    ids = order_batch.insert_plain_orders(
        engine,
        [_plain(a, old, staticdata={}), _plain(a, new, staticdata={}), _plain(a, old)],
        now(),
    )
    assert ids[0] is None and ids[2] is None and isinstance(ids[1], int)
    assert _count(engine) == (before[0] + 1, before[1] + 1)


def test_a_database_error_writes_nothing_of_the_batch(engine: Engine) -> None:
    a, stamp = _brief(engine, "BATCHERR")
    ghost = orders.WorkflowBrief(a.workflowid + 10_000, "GHOST", "1.0", frozenset())
    before = _count(engine)
    with pytest.raises(Exception, match=r"(?i)foreign key"):  # an unknown workflow
        order_batch.insert_plain_orders(engine, [_plain(a, stamp), _plain(ghost, stamp)], now())
    assert _count(engine) == before


def test_orders_that_need_more_are_not_plain(engine: Engine) -> None:
    a, stamp = _brief(engine, "BATCHNOT")
    ts = now()
    assert order_batch.plain_order(a, stamp, {"orderkeys": {"k": "v"}}, ts) is None
    assert order_batch.plain_order(a, stamp, {"parent_workflow_instanceid": 1}, ts) is None
    assert order_batch.plain_order(a, stamp, {"staticdata": "not a hash"}, ts) is None
    assert order_batch.plain_order(a, stamp, {"priority": 5000}, ts) is None
    assert order_batch.plain_order(a, stamp, {"bogus": 1}, ts) is None
    assert order_batch.plain_order(a, stamp, {"staticdata": {}}, ts) is not None


def test_wakes_other_nodes_once_per_workflow_only_when_there_are_any(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("NOTIFY exists only on PostgreSQL; other dialects poll")
    a, _ = _brief(engine, "BATCHWAKEA")
    b, stamp = _brief(engine, "BATCHWAKEB")
    s = t.sessions
    with engine.begin() as conn:  # whatever earlier tests left: no ACTIVE session
        conn.execute(update(s).where(s.c.sessionid != 0).values(sessionstatus="CLOSED"))
    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    params = {k: v for k, v in dict(cparams).items() if k != "context"}
    listener = psycopg.connect(*cargs, **params, autocommit=True)
    listener.execute(f"LISTEN {CHANNEL}")
    try:
        batch = [_plain(a, stamp), _plain(b, stamp), _plain(a, stamp)]
        new_session(engine)  # one node: nobody to wake
        order_batch.insert_plain_orders(engine, batch, now())
        assert [n.payload for n in listener.notifies(timeout=0.5)] == []
        new_session(engine)  # a second node
        later = now() + timedelta(days=1)
        batch.append(_plain(b, stamp, scheduled=later.isoformat()))  # SCHEDULED: not due
        order_batch.insert_plain_orders(engine, batch, now())
        got = sorted(n.payload for n in listener.notifies(timeout=0.5))
        assert got == sorted([str(a.workflowid), str(b.workflowid)])
    finally:
        listener.close()
