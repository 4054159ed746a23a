"""Helpers of the hostile-input tests that talk to a real server below httpx: raw sockets, the
server's resident memory, and a server with RBAC on and two users."""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Callable
from pathlib import Path

from qorus_proc import Qorus, tool

ADMIN = ("admin", "Adm1n-Secret")
VIEWER = ("viewer", "V1ew-Secret")


def rbac_server(omq: Path, start: Callable[..., Qorus], *overrides: str) -> Qorus:
    """A running server with RBAC on, a superuser ``admin`` and a read-only ``viewer``."""
    d = ["--qorus-dir", str(omq)]
    for (user, pw), role in ((ADMIN, "superuser"), (VIEWER, "read-only")):
        res = tool("user_tool", *d, "-A", f"{user},{pw},{role},{user}")
        assert res.returncode == 0, res.stderr
    q = start(omq, "rbac-security=true", *overrides, ready=False)
    q.wait_ready(auth=ADMIN)
    return q


def basic(user: tuple[str, str]) -> bytes:
    token = base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
    return f"Authorization: Basic {token}\r\n".encode()


def vmrss_kb(pid: int) -> int:
    """Resident memory of a process (kB), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def connect(q: Qorus) -> socket.socket:
    return socket.create_connection(("127.0.0.1", q.port), timeout=30)


def read_answer(sock: socket.socket, limit: float = 30.0) -> bytes:
    """Everything the server sends until it closes the connection or ``limit`` seconds pass
    without it (then what came so far: the caller's assertion says what was missing)."""
    sock.settimeout(limit)
    out = b""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            out += data
            if b"\r\n\r\n" in out and _complete(out):
                break
    except (TimeoutError, ConnectionResetError):
        pass
    return out


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split()[1])


def closed_by_server(sock: socket.socket, deadline: float) -> bool:
    """True once the server closed ``sock`` (EOF or reset), False if it is still open at
    ``deadline`` (time.monotonic)."""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, min(1.0, deadline - time.monotonic())))
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            return True
        if not data:
            return True
    return False
