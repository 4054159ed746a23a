"""Start-up, shutdown, the application session and crash recovery of a real ``qorus``."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import free_port, run_qorus, tool
from sqlalchemy import select

from qorus_core.db import tables as t
from qorus_core.db.engine import create_system_engine, parse_datasource

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]


def _engine(omq: Path) -> Any:
    line = (omq / "etc" / "options").read_text().splitlines()[0]
    return create_system_engine(parse_datasource(line.split("=", 1)[1].strip()), 1, 2)


def _sessions(omq: Path) -> list[Any]:
    eng = _engine(omq)
    with eng.connect() as c:
        rows = list(c.execute(select(t.sessions).where(t.sessions.c.sessionid != 0)))
    eng.dispose()
    return rows


def _audit_codes(omq: Path) -> list[int]:
    eng = _engine(omq)
    with eng.connect() as c:
        rows = [
            r[0]
            for r in c.execute(
                select(t.audit_events.c.audit_event_code).order_by(t.audit_events.c.audit_eventid)
            )
        ]
    eng.dispose()
    return rows


def test_start_and_sigterm_shutdown(omq_dir: Path, start_qorus: Any) -> None:
    q = start_qorus(omq_dir, "audit=system")
    pid_file = omq_dir / "var" / "qorus-qorus-test-instance.pid"
    assert pid_file.read_text().strip() == str(q.proc.pid)
    info = httpx.get(f"{q.url}/api/latest/system").json()
    assert info["pid"] == q.proc.pid and info["instance-key"] == "qorus-test-instance"
    [row] = _sessions(omq_dir)
    assert row.sessionstatus == "ACTIVE" and row.pid == q.proc.pid
    code, err = q.terminate()
    assert code == 0, err
    [row] = _sessions(omq_dir)
    assert row.sessionstatus == "CLOSED" and row.ended is not None
    assert not pid_file.exists()
    assert _audit_codes(omq_dir) == [2, 3]  # SYSTEM-STARTUP, SYSTEM-SHUTDOWN
    log = (omq_dir / "log" / "OMQ-qorus-test-instance-qorus-core.log").read_text()
    assert "system started" in log and "system stopped" in log


def test_sigint_and_shutdown_wait(omq_dir: Path, start_qorus: Any) -> None:
    q = start_qorus(omq_dir)
    q.proc.send_signal(signal.SIGINT)
    assert q.wait_exit()[0] == 0
    q = start_qorus(omq_dir)
    r = httpx.put(f"{q.url}/api/latest/system/shutdownWait", timeout=60)
    assert r.status_code == 200 and r.json() == "the system has been shut down"
    # the answer came after the session was closed
    assert all(s.sessionstatus == "CLOSED" for s in _sessions(omq_dir))
    assert q.wait_exit()[0] == 0


def test_second_start_is_refused(omq_dir: Path, start_qorus: Any) -> None:
    q = start_qorus(omq_dir)
    res = run_qorus(omq_dir, f"http-server=127.0.0.1:{free_port()}")
    assert res.returncode == 7, res.stderr
    assert socket.gethostname() in res.stderr and f"pid {q.proc.pid}" in res.stderr
    assert len(_sessions(omq_dir)) == 1
    assert httpx.get(f"{q.url}/api/latest/system/ping").json() == "OK"


def test_crash_then_recovery(omq_dir: Path, start_qorus: Any) -> None:
    q = start_qorus(omq_dir, "audit=system")
    os.kill(q.proc.pid, signal.SIGKILL)
    q.proc.wait()
    res = run_qorus(omq_dir, "auto-recover=false", f"http-server=127.0.0.1:{free_port()}")
    assert res.returncode == 7
    assert "schema-tool --recover" in res.stderr and "auto-recover=true" in res.stderr
    q2 = start_qorus(omq_dir, "audit=system", "auto-recover=true")
    rows = {r.sessionid: r for r in _sessions(omq_dir)}
    assert len(rows) == 2
    old, new = sorted(rows)
    assert rows[old].sessionstatus == "RECOVERED"
    assert rows[new].sessionstatus == "ACTIVE" and rows[new].pid == q2.proc.pid
    # STARTUP (crashed run), RECOVERY-START, RECOVERY-COMPLETE, STARTUP
    assert _audit_codes(omq_dir) == [2, 4, 5, 2]
    assert q2.terminate()[0] == 0


def test_daemon_mode(omq_dir: Path) -> None:
    port = free_port()
    res = tool("qorus", "-d", str(omq_dir), f"http-server=127.0.0.1:{port}")
    assert res.returncode == 0, res.stderr
    assert "started" in res.stderr
    url = f"http://127.0.0.1:{port}"
    assert httpx.get(f"{url}/api/latest/system/ping").json() == "OK"
    out = tool("qrest", "-u", url, "put", "system/shutdownWait")
    assert out.returncode == 0, out.stderr
    assert not (omq_dir / "var" / "qorus-qorus-test-instance.pid").exists()


def test_exit_9_bad_option(omq_dir: Path) -> None:
    res = run_qorus(omq_dir, "max-retries=lots")
    assert res.returncode == 9 and "max-retries" in res.stderr
    res = run_qorus(omq_dir, "http-server=localhost:notaport")
    assert res.returncode == 9 and "notaport" in res.stderr


def test_exit_1_and_2(omq_dir: Path) -> None:
    assert run_qorus(omq_dir, "instance-key=").returncode == 1
    res = run_qorus(omq_dir, "db-max-threads=50", "system-pool-maximum=40")
    assert res.returncode == 2 and "db-max-threads" in res.stderr


def test_exit_3_datasource(omq_dir: Path, tmp_path: Path) -> None:
    res = run_qorus(omq_dir, "systemdb=pgsql:omq/secret@omq%127.0.0.1:1")
    assert res.returncode == 3, res.stderr
    assert "secret" not in res.stderr
    res = run_qorus(omq_dir, f"systemdb=sqlite:{tmp_path / 'empty.sqlite'}")
    assert res.returncode == 3 and "schema-tool -V" in res.stderr


def test_exit_4_log_files(omq_dir: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    res = run_qorus(omq_dir, f"logdir={blocker}/logs")
    assert res.returncode == 4 and "log" in res.stderr


def test_exit_5_rbac(omq_dir: Path) -> None:
    res = run_qorus(omq_dir, "rbac-security=true", f"http-server=127.0.0.1:{free_port()}")
    assert res.returncode == 5 and "LOGIN" in res.stderr and "SHUTDOWN" in res.stderr
    assert _sessions(omq_dir) == []


def test_port_in_use_leaves_no_session(omq_dir: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        res = run_qorus(omq_dir, f"http-server=127.0.0.1:{port}")
    assert res.returncode == 99 and f"127.0.0.1:{port}" in res.stderr
    assert [r.sessionstatus for r in _sessions(omq_dir)] == ["CLOSED"]
