"""Application sessions and crash recovery (what `schema-tool --recover` and the server run)."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from qorus_core.db import sessions as sess
from qorus_core.db import tables as t
from qorus_core.db.refdata import now

pytestmark = pytest.mark.integration


def _order(conn, wfid: int, status: str, sessionid: int) -> int:  # type: ignore[no-untyped-def]
    res = conn.execute(
        insert(t.workflow_instance).values(
            workflowid=wfid, workflowstatus=status, status_sessionid=sessionid, started=now()
        )
    )
    return int(res.inserted_primary_key[0])


def test_open_list_close(engine: Engine) -> None:
    with engine.begin() as conn:
        sid = sess.open_session(conn, instancekey="inst-a", node="n1", url=None, version="x")
    with engine.connect() as conn:
        active = sess.active_sessions(conn, "inst-a")
        assert [s.sessionid for s in active] == [sid]
        assert active[0].process_alive() is True
        assert sess.list_sessions(conn)[0].sessionid == sid
    with engine.begin() as conn:
        sess.close_session(conn, sid)
    with engine.connect() as conn:
        assert sess.active_sessions(conn, "inst-a") == []
        assert sess.list_sessions(conn, active_only=True) == []


def test_recover_crashed_session(engine: Engine) -> None:
    ts = now()
    with engine.begin() as conn:
        sid = sess.open_session(conn, instancekey="inst-b", node="n1", url=None, version="x")
        other = sess.open_session(conn, instancekey="inst-c", node="n2", url=None, version="x")
        wfid = conn.execute(
            insert(t.workflows).values(name="WF", version="1", created=ts)
        ).inserted_primary_key[0]
        stepid = conn.execute(
            insert(t.steps).values(name="S", version="1", steptype="NORMAL", created=ts)
        ).inserted_primary_key[0]
        mine = _order(conn, wfid, "I", sid)
        done = _order(conn, wfid, "C", 0)
        theirs = _order(conn, wfid, "I", other)
        for wfiid in (mine, theirs):
            conn.execute(
                insert(t.step_instance).values(
                    workflow_instanceid=wfiid, stepid=stepid, ind=0, stepstatus="I", started=ts
                )
            )
            conn.execute(
                insert(t.segment_instance).values(
                    workflow_instanceid=wfiid,
                    segmentid=0,
                    workflowid=wfid,
                    segmentstatus="I",
                    created=ts,
                )
            )
        jobid = conn.execute(
            insert(t.jobs).values(name="J", version="1", sessionid=sid, created=ts)
        ).inserted_primary_key[0]
        conn.execute(
            insert(t.job_instance).values(jobid=jobid, sessionid=sid, jobstatus="I", started=ts)
        )
        # pretend the process died: another pid on this host
        conn.execute(update(t.sessions).where(t.sessions.c.sessionid == sid).values(pid=2**22 + 7))

    with engine.begin() as conn:
        res = sess.recover_session(conn, sid)
    assert res.as_dict() == {"sessionid": sid, "orders": 1, "segments": 1, "steps": 1, "jobs": 1}

    wi = t.workflow_instance
    with engine.connect() as conn:
        rows = {
            r.workflow_instanceid: (r.workflowstatus, r.status_sessionid)
            for r in conn.execute(select(wi))
        }
        assert rows[mine] == ("R", 0)
        assert rows[done] == ("C", 0)
        assert rows[theirs] == ("I", other)
        steps = dict(
            conn.execute(
                select(t.step_instance.c.workflow_instanceid, t.step_instance.c.stepstatus)
            ).all()
        )
        assert steps == {mine: "R", theirs: "I"}
        assert conn.execute(select(t.job_instance.c.jobstatus)).scalar_one() == "Z"
        status = conn.execute(
            select(t.sessions.c.sessionstatus).where(t.sessions.c.sessionid == sid)
        ).scalar_one()
        assert status == "RECOVERED"
