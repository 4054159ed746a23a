"""Sessions of several nodes: stale detection, recovery by exactly one live node, fencing of a
node whose session was recovered, orphaned orders, and the start-up check per node."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from qorus_core.db import sessions as sess
from qorus_core.db import tables as t
from qorus_core.db.refdata import now
from qorus_core.options import Options
from qorus_server import session as app_session
from qorus_server.audit import Auditor
from qorus_server.events import EventBus

pytestmark = pytest.mark.integration

LOG = logging.getLogger("test.stale")


def _open(engine: Engine, node: str, instancekey: str = "inst") -> int:
    with engine.begin() as conn:
        return sess.open_session(conn, instancekey=instancekey, node=node, url=None, version="x")


def _age(engine: Engine, sessionid: int, seconds: int) -> None:
    """Pretend the session's last heartbeat was ``seconds`` ago."""
    with engine.begin() as conn:
        conn.execute(
            update(t.sessions)
            .where(t.sessions.c.sessionid == sessionid)
            .values(heartbeat=now() - timedelta(seconds=seconds))
        )


def _workflow(engine: Engine) -> int:
    with engine.begin() as conn:
        res = conn.execute(insert(t.workflows).values(name="WF", version="1", created=now()))
        return int(res.inserted_primary_key[0])  # type: ignore[index]


def _orders(engine: Engine, wfid: int, sessionid: int, n: int) -> list[int]:
    with engine.begin() as conn:
        return [
            int(
                conn.execute(
                    insert(t.workflow_instance).values(
                        workflowid=wfid,
                        workflowstatus="I",
                        status_sessionid=sessionid,
                        started=now(),
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )
            for _ in range(n)
        ]


def _status(engine: Engine, ids: list[int]) -> set[tuple[str, int]]:
    wi = t.workflow_instance
    with engine.connect() as conn:
        return {
            (str(s), int(o))
            for s, o in conn.execute(
                select(wi.c.workflowstatus, wi.c.status_sessionid).where(
                    wi.c.workflow_instanceid.in_(ids)
                )
            )
        }


def _session_status(engine: Engine, sessionid: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                select(t.sessions.c.sessionstatus).where(t.sessions.c.sessionid == sessionid)
            ).scalar_one()
        )


def _watcher(engine: Engine, sessionid: int, events: EventBus | None = None) -> object:
    auditor = Auditor(engine, Options({"audit": ["system"]}))
    return app_session.StaleSessionWatcher(engine, sessionid, 30, auditor, events, LOG)


def test_stale_sessions_lists_other_stale_active_ones(engine: Engine) -> None:
    me, fresh, dead = _open(engine, "a"), _open(engine, "b"), _open(engine, "c")
    _age(engine, dead, 60)
    _age(engine, me, 60)
    with engine.connect() as conn:
        found = [s.sessionid for s in sess.stale_sessions(conn, 30, exclude=me)]
    assert found == [dead]
    assert fresh not in found


def test_a_dead_node_is_recovered_once_by_two_live_ones(engine: Engine) -> None:
    wfid = _workflow(engine)
    a, b, dead = _open(engine, "a"), _open(engine, "b"), _open(engine, "c")
    ids = _orders(engine, wfid, dead, 5)
    _age(engine, dead, 60)
    events = EventBus()
    seen: list[object] = []
    events.subscribe(seen.append)
    watchers = [_watcher(engine, a, events), _watcher(engine, b, events)]
    results: list[list[sess.RecoveryResult]] = [[], []]
    barrier = threading.Barrier(2)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = watchers[i].check()  # type: ignore[attr-defined]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    recovered = [r for rs in results for r in rs]
    assert [(r.sessionid, r.orders, r.workflows) for r in recovered] == [(dead, 5, {wfid: 5})]
    assert _status(engine, ids) == {("R", 0)}
    assert _session_status(engine, dead) == "RECOVERED"
    assert {_session_status(engine, a), _session_status(engine, b)} == {"ACTIVE"}
    with engine.connect() as conn:
        codes = [r[0] for r in conn.execute(select(t.audit_events.c.audit_event_code))]
    assert sorted(codes) == [4, 5]
    [event] = [e for e in seen if e.eventstr == "WORKFLOW_RECOVERED"]  # type: ignore[attr-defined]
    assert event.info == {  # type: ignore[attr-defined]
        "name": "WF",
        "version": "1",
        "workflowid": wfid,
        "old_statuses": ["IN-PROGRESS"],
        "new_status": "RETRY",
    }


def test_a_live_session_is_not_recovered(engine: Engine) -> None:
    wfid = _workflow(engine)
    me, other = _open(engine, "a"), _open(engine, "b")
    ids = _orders(engine, wfid, other, 2)
    assert _watcher(engine, me).check() == []  # type: ignore[attr-defined]
    assert _status(engine, ids) == {("I", other)}
    with engine.begin() as conn:  # seen stale, then it beat again before the lock
        sess.lock_sessions(conn)
        assert sess.lock_if_stale(conn, other, 30) is None


def test_a_recovered_node_is_fenced(engine: Engine) -> None:
    wfid = _workflow(engine)
    me, slow = _open(engine, "a"), _open(engine, "b")
    _age(engine, slow, 60)
    _watcher(engine, me).check()  # type: ignore[attr-defined]
    with engine.begin() as conn:
        assert sess.heartbeat(conn, slow) is False  # it must stop
        assert sess.heartbeat(conn, me) is True
    # it claimed more orders before it noticed: they are orphans, swept at the next check
    late = _orders(engine, wfid, slow, 3)
    with engine.connect() as conn:
        assert sess.has_orphans(conn)
    [res] = _watcher(engine, me).check()  # type: ignore[attr-defined]
    assert (res.sessionid, res.orders) == (slow, 3)
    assert _status(engine, late) == {("R", 0)}
    with engine.begin() as conn:
        sess.close_session(conn, slow)  # its shutdown does not hide the recovery
    assert _session_status(engine, slow) == "RECOVERED"


def test_heartbeat_thread_stops_the_node_when_its_session_is_recovered(engine: Engine) -> None:
    me = _open(engine, "a")
    with engine.begin() as conn:
        sess.recover_session(conn, me)
    lost = threading.Event()
    hb = app_session.Heartbeat(engine, me, 1, LOG, on_lost=lost.set)
    hb.start()
    assert lost.wait(10)
    hb.stop()


def _settings(node: str, auto_recover: bool = True) -> app_session.SessionSettings:
    return app_session.SessionSettings(
        instancekey="inst",
        node=node,
        url=None,
        version="x",
        auto_recover=auto_recover,
        heartbeat_interval=10,
    )


def test_acquire_is_per_node(engine: Engine) -> None:
    auditor = Auditor(engine, Options({}))
    a, _ = app_session.acquire(engine, _settings("a"), auditor, LOG)
    b, _ = app_session.acquire(engine, _settings("b"), auditor, LOG)  # another node: allowed
    assert a != b
    with pytest.raises(app_session.SessionError, match="node 'a' is already running"):
        app_session.acquire(engine, _settings("a"), auditor, LOG)
    # node a crashed (its pid is gone): the next start of node a recovers it, not node b's
    with engine.begin() as conn:
        conn.execute(update(t.sessions).where(t.sessions.c.sessionid == a).values(pid=2**22 + 7))
    with pytest.raises(app_session.SessionError, match="schema-tool --recover"):
        app_session.acquire(engine, _settings("a", auto_recover=False), auditor, LOG)
    a2, [res] = app_session.acquire(engine, _settings("a"), auditor, LOG)
    assert res.sessionid == a
    assert _session_status(engine, b) == "ACTIVE" and _session_status(engine, a2) == "ACTIVE"


def test_concurrent_acquire_of_one_node_lets_one_in(engine: Engine) -> None:
    auditor = Auditor(engine, Options({}))
    barrier = threading.Barrier(4)
    outcomes: list[str] = []
    lock = threading.Lock()

    def start() -> None:
        barrier.wait()
        try:
            app_session.acquire(engine, _settings("same"), auditor, LOG)
            result = "opened"
        except app_session.SessionError:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert sorted(outcomes) == ["opened", "refused", "refused", "refused"]
