"""Process liveness for sessions: a zombie and a reused pid are dead (Linux /proc)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from qorus_core import proc

pytestmark = pytest.mark.skipif(not proc.PROC.is_dir(), reason="needs Linux /proc")


def _wait_state(pid: int, state: str) -> None:
    deadline = time.monotonic() + 30
    while proc.process_state(pid) != state:
        assert time.monotonic() < deadline, f"pid {pid} never reached state {state}"
        time.sleep(0.02)


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield child
    child.kill()
    child.wait()


def test_a_running_process_is_alive_with_its_own_marker(
    sleeper: subprocess.Popen[bytes],
) -> None:
    marker = proc.start_marker(sleeper.pid)
    assert marker is not None and marker.split(":")[1].isdigit()
    assert proc.process_alive(sleeper.pid, marker)
    assert proc.process_alive(sleeper.pid)  # no marker recorded: the pid alone decides
    assert proc.start_marker(os.getpid()) != marker


def test_a_reused_pid_is_dead(sleeper: subprocess.Popen[bytes]) -> None:
    marker = proc.start_marker(sleeper.pid)
    assert marker is not None
    boot, ticks = marker.rsplit(":", 1)
    # the pid is held by a process that started at another time than the recorded one
    assert not proc.process_alive(sleeper.pid, f"{boot}:{int(ticks) + 1}")
    # ... or the host was rebooted since
    assert not proc.process_alive(sleeper.pid, f"00000000-0000-0000-0000-000000000000:{ticks}")


def test_a_zombie_is_dead() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        _wait_state(child.pid, "Z")  # exited, not reaped: os.kill(pid, 0) still succeeds
        os.kill(child.pid, 0)
        assert not proc.process_alive(child.pid)
        assert not proc.process_alive(child.pid, proc.start_marker(child.pid))
    finally:
        child.wait()
    assert not proc.process_alive(child.pid)  # reaped: gone


def test_impossible_pids_are_dead() -> None:
    assert not proc.process_alive(0)
    assert not proc.process_alive(-1)
    assert proc.process_state(2**22 + 12345) is None
    assert proc.start_marker(2**22 + 12345) is None


def test_a_command_name_with_parentheses_and_spaces() -> None:
    code = (
        "import ctypes, sys, time\n"
        "ctypes.CDLL(None).prctl(15, b'a) b (c', 0, 0, 0)\n"  # PR_SET_NAME
        "print('named', flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "named"
        with open(f"/proc/{child.pid}/comm") as fh:
            assert fh.read().strip() == "a) b (c"
        marker = proc.start_marker(child.pid)
        assert proc.process_state(child.pid) in ("S", "R")
        assert marker is not None and marker.split(":")[1].isdigit()
        assert proc.process_alive(child.pid, marker)
    finally:
        child.kill()
        child.communicate()
