"""Hostile login input against a real server under ``rbac-security``: ``public/login``
arguments, ``Authorization`` and ``Qorus-Token`` headers and ``logout`` arguments of the wrong
type, too long, with NUL or broken text get a clear 4xx, leak nothing and count no failure
that could lock the real user out."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import tool

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

ADMIN = ("admin", "Adm1n-Secret")


def _basic(raw: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def test_hostile_login_input(omq_dir: Path, start_qorus: Any) -> None:
    res = tool("user_tool", "--qorus-dir", str(omq_dir), "-A", f"{ADMIN[0]},{ADMIN[1]},superuser")
    assert res.returncode == 0, res.stderr
    q = start_qorus(omq_dir, "rbac-security=true", "rbac-login-max-failures=2", ready=False)
    q.wait_ready(auth=ADMIN)
    login = f"{q.url}/api/public/login"
    api = f"{q.url}/api/latest"

    bad_bodies: list[Any] = [
        {"user": 5, "pass": "x"},
        {"user": ["admin"], "pass": "x"},
        {"user": {"a": 1}, "pass": "x"},
        {"user": "admin"},
        {"user": "admin", "pass": 12345},
        {"pass": "x"},
        {"user": "admin", "pass": "x", "extra": 1},
        {"user": "a" * 161, "pass": "x"},
        {"user": "admin", "pass": "p" * 4097},
        {"user": "ad\u0000min", "pass": "x"},
        {"user": "", "pass": "x"},
    ]
    for body in bad_bodies:
        r = httpx.post(login, json=body, timeout=30)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["err"] == "INVALID-ARGUMENT"
        assert "a" * 200 not in r.text
    # a body past the 16 kB allowed without a login is refused before it is parsed
    r = httpx.post(login, json={"user": "a" * 100000, "pass": "x"}, timeout=30)
    assert r.status_code == 413 and r.json()["err"] == "REQUEST-TOO-LARGE"
    assert "a" * 200 not in r.text
    r = httpx.post(
        login,
        content=b'{"user": "admin", "pass": "\\ud800"}',
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert r.status_code == 400 and r.json()["err"] == "INVALID-ARGUMENT"

    bad_headers = [
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Bearer abc"},
        {"Authorization": "Basic"},
        _basic(b"no-colon"),
        _basic(b"\xff\xfe:x"),
        _basic(b"ad\x00min:x"),
        _basic(b"a" * 5000 + b":x"),
        _basic(b"admin:" + b"p" * 5000),
        {"Qorus-Token": "x" * 7000},
        {"Qorus-Token": "not-a-token"},
    ]
    for headers in bad_headers:
        r = httpx.get(f"{api}/system/ping", headers=headers, timeout=30)
        assert r.status_code == 401, (headers, r.text)
        assert r.json()["err"] == "AUTHENTICATION-ERROR"
        assert "x" * 100 not in r.text and "p" * 100 not in r.text

    # none of that counted as a failed guess: the admin still logs in from this address
    assert httpx.get(f"{api}/system/ping", auth=ADMIN, timeout=30).json() == "OK"
    token = httpx.post(login, json={"user": "admin", "pass": ADMIN[1]}, timeout=30).json()["token"]
    r = httpx.post(f"{api}/logout", json={"all": True}, headers={"Qorus-Token": token}, timeout=30)
    assert r.status_code == 400 and r.json()["err"] == "INVALID-ARGUMENT"
    assert httpx.get(f"{api}/system/ping", headers={"Qorus-Token": token}, timeout=30).is_success

    # a wrong login of a user name no one has (on a throttled address) reveals nothing more
    for _ in range(2):
        r = httpx.post(login, json={"user": "nobody", "pass": "x"}, timeout=30)
        assert r.status_code == 401 and "wrong user name or password" in r.json()["desc"]
    r = httpx.post(login, json={"user": "admin", "pass": ADMIN[1]}, timeout=30)
    assert r.status_code == 429 and r.json()["err"] == "LOGIN-THROTTLED"
    assert int(r.headers["retry-after"]) >= 1
    # a live token still works from the throttled address
    assert httpx.get(f"{api}/system/ping", headers={"Qorus-Token": token}, timeout=30).is_success
