"""A killed server's zombie, or its pid taken by another process, must not block the restart."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import free_port, run_qorus
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from qorus_core import proc
from qorus_core.db import sessions as sess
from qorus_core.db import tables as t
from qorus_core.db.engine import create_system_engine, parse_datasource
from qorus_core.db.refdata import now
from qorus_core.options import Options
from qorus_server import session as app_session
from qorus_server.audit import Auditor

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not proc.PROC.is_dir(), reason="needs Linux /proc"),
]

KEY = "zombie-test"


def _settings() -> app_session.SessionSettings:
    return app_session.SessionSettings(
        instancekey=KEY,
        node="n1",
        url=None,
        version="test",
        auto_recover=True,
        heartbeat_interval=10,
    )


def _crashed_row(engine: Engine, pid: int, pidstart: str | None) -> int:
    """An ACTIVE session of this host and node, as a process that died would leave it."""
    with engine.begin() as conn:
        res = conn.execute(
            insert(t.sessions).values(
                instancekey=KEY,
                node="n1",
                hostname=socket.gethostname(),
                pid=pid,
                pidstart=pidstart,
                sessionstatus="ACTIVE",
                started=now(),
                heartbeat=now(),
            )
        )
    assert res.inserted_primary_key is not None
    return int(res.inserted_primary_key[0])


def _status(engine: Engine, sessionid: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                select(t.sessions.c.sessionstatus).where(t.sessions.c.sessionid == sessionid)
            ).scalar_one()
        )


def _acquire(engine: Engine) -> int:
    auditor = Auditor(engine, Options())
    sid, _ = app_session.acquire(engine, _settings(), auditor, logging.getLogger("test"))
    return sid


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield child
    child.kill()
    child.wait()


def test_a_zombie_session_process_is_recovered(engine: Engine) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        marker = proc.start_marker(child.pid)
        deadline = time.monotonic() + 30
        while proc.process_state(child.pid) != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        old = _crashed_row(engine, child.pid, marker)
        new = _acquire(engine)  # before: SESSION-ERROR "pid ... is alive"
    finally:
        child.wait()
    assert new != old
    assert _status(engine, old) == "RECOVERED" and _status(engine, new) == "ACTIVE"


def test_a_reused_pid_is_recovered(engine: Engine, sleeper: subprocess.Popen[bytes]) -> None:
    marker = proc.start_marker(sleeper.pid)
    assert marker is not None
    boot, ticks = marker.rsplit(":", 1)
    # the session was opened by an earlier process that had the pid the sleeper has now
    old = _crashed_row(engine, sleeper.pid, f"{boot}:{int(ticks) - 1}")
    new = _acquire(engine)
    assert _status(engine, old) == "RECOVERED" and _status(engine, new) == "ACTIVE"


def test_the_live_process_still_refuses_a_second_start(
    engine: Engine, sleeper: subprocess.Popen[bytes]
) -> None:
    old = _crashed_row(engine, sleeper.pid, proc.start_marker(sleeper.pid))
    with pytest.raises(app_session.SessionError) as err:
        _acquire(engine)
    assert f"pid {sleeper.pid} is alive" in err.value.desc
    assert _status(engine, old) == "ACTIVE"
    with engine.connect() as conn:
        assert [s.sessionid for s in sess.active_sessions(conn, KEY)] == [old]


def test_open_session_records_its_start_marker(engine: Engine) -> None:
    with engine.begin() as conn:
        sid = sess.open_session(conn, instancekey=KEY, node="n1", url=None, version="x")
    with engine.connect() as conn:
        [row] = sess.active_sessions(conn, KEY)
    assert row.sessionid == sid and row.pidstart == proc.start_marker(os.getpid())
    assert row.process_alive() is True
    assert "pidstart" not in row.as_dict()


@pytest.mark.acceptance
def test_restart_after_kill_9_while_the_zombie_is_unreaped(omq_dir: Path, start_qorus: Any) -> None:
    q = start_qorus(omq_dir)
    os.kill(q.proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while proc.process_state(q.proc.pid) != "Z":  # dead but not reaped (no wait())
        assert time.monotonic() < deadline
        time.sleep(0.05)
    q2 = start_qorus(omq_dir, "auto-recover=true")
    assert httpx.get(f"{q2.url}/api/latest/system/ping").json() == "OK"
    assert proc.process_state(q.proc.pid) == "Z"  # it was still a zombie all along
    line = (omq_dir / "etc" / "options").read_text().splitlines()[0]
    eng = create_system_engine(parse_datasource(line.split("=", 1)[1].strip()), 1, 2)
    with eng.connect() as c:
        rows = dict(
            c.execute(
                select(t.sessions.c.pid, t.sessions.c.sessionstatus).where(
                    t.sessions.c.sessionid != 0
                )
            ).all()
        )
    eng.dispose()
    assert rows == {q.proc.pid: "RECOVERED", q2.proc.pid: "ACTIVE"}
    # the live one still refuses a second start, naming it
    res = run_qorus(omq_dir, f"http-server=127.0.0.1:{free_port()}")
    assert res.returncode == 7 and f"pid {q2.proc.pid} is alive" in res.stderr
    assert q2.terminate()[0] == 0
