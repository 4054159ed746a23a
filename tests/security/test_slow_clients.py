"""Clients that open connections and send their requests slowly, or never.

Found: half-sent requests were never closed; a slowloris held 3,000 sockets of the server.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from hostile_http import (
    VIEWER,
    basic,
    closed_by_server,
    connect,
    rbac_server,
    read_answer,
    vmrss_kb,
)

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

GRACE = 60.0  # far above the 1-second header timeout: a liveness bound, not a timing


def _ping(q: Any) -> httpx.Response:
    return httpx.get(f"{q.url}/api/latest/system/ping", auth=VIEWER, timeout=30)


def test_slow_and_idle_connections_are_closed(omq_dir: Path, start_qorus: Any) -> None:
    q = rbac_server(
        omq_dir,
        start_qorus,
        "http-header-timeout=1",
        "http-max-connections=60",
        "http-body-timeout=1",
    )
    before = vmrss_kb(q.proc.pid)

    # slowloris: 40 connections that each send one header byte after another, for ever
    slow: list[socket.socket] = []
    for _ in range(40):
        s = connect(q)
        s.sendall(b"GET /api/latest/system/ping HTTP/1.1\r\nHost: qorus\r\n")
        slow.append(s)
    idle = [connect(q) for _ in range(10)]  # and 10 that never send a byte
    # the server answers others meanwhile
    assert _ping(q).json() == "OK"

    deadline = time.monotonic() + GRACE
    still_open = list(slow)
    while still_open and time.monotonic() < deadline:
        for s in list(still_open):
            try:
                s.sendall(b"X")  # one more byte: the deadline must not move
            except OSError:
                still_open.remove(s)
                continue
            s.settimeout(0.01)
            try:
                data = s.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                data = b""
            if not data or b" 408 " in data:
                still_open.remove(s)
        time.sleep(0.2)
    assert not still_open, f"{len(still_open)} slow connections still open"
    for s in idle:
        assert closed_by_server(s, time.monotonic() + GRACE)
    for s in slow + idle:
        s.close()

    # a body that stops half-way: 408 once http-body-timeout passes, and the connection closed
    s = connect(q)
    s.sendall(
        b"GET /api/latest/system/echo HTTP/1.1\r\nHost: qorus\r\nContent-Type: application/json"
        b"\r\nContent-Length: 100\r\n" + basic(VIEWER) + b"\r\n" + b'{"a": "'
    )
    ans = read_answer(s, GRACE)
    assert ans.startswith(b"HTTP/1.1 408 ") and b"REQUEST-TIMEOUT" in ans, ans[:300]
    assert closed_by_server(s, time.monotonic() + GRACE)
    s.close()
    assert _ping(q).json() == "OK"
    assert vmrss_kb(q.proc.pid) - before < 100 * 1024


def test_connections_over_the_cap_are_refused_at_once(omq_dir: Path, start_qorus: Any) -> None:
    q = rbac_server(omq_dir, start_qorus, "http-header-timeout=2", "http-max-connections=20")
    held = [connect(q) for _ in range(20)]
    extra = connect(q)  # accepted after the 20 before it (the listen queue is in order)
    ans = read_answer(extra, GRACE)
    extra.close()
    assert ans.startswith(b"HTTP/1.1 503 "), ans[:200]
    assert b"too many connections" in ans
    # once the held connections time out, the server serves again
    for s in held:
        assert closed_by_server(s, time.monotonic() + GRACE)
        s.close()
    assert _ping(q).json() == "OK"
    # a complete request on a kept-alive connection is not cut by the header deadline
    with httpx.Client(auth=VIEWER, timeout=30) as c:
        for _ in range(3):
            assert c.get(f"{q.url}/api/latest/system/ping").json() == "OK"
