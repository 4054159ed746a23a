"""Is the process that opened a session still running?

``os.kill(pid, 0)`` is not enough: a killed process stays a zombie until its parent reaps it,
and after a crash or a reboot its pid may belong to another process. So a session records a
*start marker* of its process: the host's boot id and the process start time in clock ticks
after boot (Linux ``/proc/PID/stat`` field 22). A pid is alive for a session only when it
exists, is no zombie, and (when a marker was recorded) has the same marker. Where ``/proc`` is
missing (not Linux) the marker is None and only ``os.kill`` decides.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
_BOOT_ID = PROC / "sys" / "kernel" / "random" / "boot_id"
_DEAD_STATES = frozenset("ZXx")  # zombie, dead


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` from field 3 (state) on; None when unreadable."""
    try:
        raw = (PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # field 2 is the command name in parentheses and may itself hold spaces and ')'
    _, paren, rest = raw.rpartition(")")
    return rest.split() if paren else None


def process_state(pid: int) -> str | None:
    """The one-letter state of ``pid`` (R, S, D, Z, ...), or None when it cannot be read."""
    fields = _stat_fields(pid)
    return fields[0] if fields else None


def _boot_id() -> str:
    try:
        return _BOOT_ID.read_text(encoding="ascii").strip()
    except OSError:
        return "-"


def start_marker(pid: int) -> str | None:
    """``BOOT_ID:START_TICKS`` of ``pid``, or None where the system does not tell."""
    fields = _stat_fields(pid)
    if fields is None or len(fields) < 20:
        return None
    return f"{_boot_id()}:{fields[19]}"  # field 22 of the whole line


def process_alive(pid: int, marker: str | None = None) -> bool:
    """Whether ``pid`` is a running process and, when ``marker`` is given, the same process
    that recorded it."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, owned by another user
    if not PROC.is_dir():
        return True  # nothing more to learn here
    fields = _stat_fields(pid)
    if fields is None or fields[0] in _DEAD_STATES:  # gone since os.kill, or a zombie
        return False
    return marker is None or start_marker(pid) == marker
