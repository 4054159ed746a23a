"""Password guessing against a real server under ``rbac-security``: failed logins are throttled
per client address (429 with Retry-After) and per user name, logged and audited without the
password, and a flood of wrong passwords neither queues without bound nor locks the real user
out. Other client addresses are simulated by binding the client to 127.0.0.x."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import tool
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.refdata import AUDIT_CODE_BY_NAME

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

ADMIN = ("admin", "Adm1n-Secret")
VIEWER = ("viewer", "V1ew-Secret")
GUESS = "Gu3ss-Nr-"


def _users(omq: Path) -> None:
    for (name, pw), role in ((ADMIN, "superuser"), (VIEWER, "read-only")):
        res = tool("user_tool", "--qorus-dir", str(omq), "-A", f"{name},{pw},{role}")
        assert res.returncode == 0, res.stderr


def _client(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=60)


def _retry_after(r: httpx.Response) -> int:
    assert r.status_code == 429, r.text
    assert r.json()["err"] == "LOGIN-THROTTLED"
    value = int(r.headers["retry-after"])
    assert value >= 1
    return value


def test_failed_logins_from_one_address_are_throttled_logged_and_audited(
    omq_dir: Path, engine: Engine, start_qorus: Any
) -> None:
    _users(omq_dir)
    q = start_qorus(
        omq_dir,
        "rbac-security=true",
        "audit=api",
        "rbac-login-max-failures=3",
        "rbac-login-lock-time=600",
        ready=False,
    )
    q.wait_ready(auth=ADMIN)
    api = f"{q.url}/api/latest"
    with _client("127.0.0.3") as attacker, _client("127.0.0.2") as user:
        r = attacker.post(f"{q.url}/api/public/login", json={"user": "viewer", "pass": GUESS + "0"})
        assert r.status_code == 401 and r.json()["err"] == "AUTHENTICATION-ERROR"
        for i in (1, 2):
            r = attacker.get(f"{api}/system/ping", auth=("viewer", f"{GUESS}{i}"))
            assert r.status_code == 401, r.text
        # the limit is reached: refused without checking, even the right password
        assert 1 <= _retry_after(attacker.get(f"{api}/system/ping", auth=VIEWER)) <= 600
        r = attacker.get(f"{api}/system/ping", auth=("viewer", GUESS + "3"))
        _retry_after(r)
        r = attacker.post(f"{q.url}/api/public/login", json={"user": "admin", "pass": ADMIN[1]})
        _retry_after(r)
        assert GUESS not in r.text
        # the real user, from another address, is not locked out
        assert user.get(f"{api}/system/ping", auth=VIEWER).json() == "OK"
        r = user.post(f"{q.url}/api/public/login", json={"user": "viewer", "pass": VIEWER[1]})
        assert r.status_code == 200 and r.json()["token"]

    info = httpx.get(f"{api}/system", auth=ADMIN, timeout=30).json()
    log = Path(info["logfile"]).read_text(encoding="utf-8")
    failed = [line for line in log.splitlines() if "login failed" in line]
    assert len(failed) == 3, failed
    assert all("'viewer'" in line and "127.0.0.3" in line for line in failed)
    assert any("public/login" in line for line in failed)
    assert "login throttled: address 127.0.0.3" in log
    assert GUESS not in log and VIEWER[1] not in log

    api_call = AUDIT_CODE_BY_NAME["API-CALL"]
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.audit_events).where(t.audit_events.c.audit_event_code == api_call)
        ).all()
    login_rows = [r for r in rows if r.reason in ("login failed", "login throttled")]
    assert [r.reason for r in login_rows].count("login failed") == 3
    assert [r.reason for r in login_rows].count("login throttled") == 1
    assert all(r.who == "viewer" and r.source == "127.0.0.3" for r in login_rows)
    for row in rows:
        assert GUESS not in " ".join(str(v) for v in row)
        assert VIEWER[1] not in " ".join(str(v) for v in row)


def test_a_user_lock_spares_the_address_where_the_user_works(
    omq_dir: Path, start_qorus: Any
) -> None:
    _users(omq_dir)
    q = start_qorus(
        omq_dir,
        "rbac-security=true",
        "rbac-login-user-max-failures=4",
        "rbac-login-user-lock-time=600",
        ready=False,
    )
    q.wait_ready(auth=ADMIN)
    api = f"{q.url}/api/latest"
    with _client("127.0.0.2") as home:
        assert home.get(f"{api}/system/ping", auth=VIEWER).json() == "OK"
    # one guess each from four addresses: no address reaches its own limit
    for n in range(10, 14):
        with _client(f"127.0.0.{n}") as c:
            r = c.get(f"{api}/system/ping", auth=("viewer", f"{GUESS}{n}"))
            assert r.status_code == 401
    with _client("127.0.0.20") as new_place:
        assert _retry_after(new_place.get(f"{api}/system/ping", auth=VIEWER)) <= 600
        # other users are not affected
        assert new_place.get(f"{api}/system/ping", auth=ADMIN).json() == "OK"
    with _client("127.0.0.2") as home:
        assert home.get(f"{api}/system/ping", auth=VIEWER).json() == "OK"


async def _flood(url: str, addresses: int, per_address: int) -> list[httpx.Response]:
    clients = [
        httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(local_address=f"127.0.1.{n + 1}"), timeout=120
        )
        for n in range(addresses)
    ]
    try:
        calls = [
            c.get(url, auth=("viewer", f"{GUESS}{n}-{i}"))
            for n, c in enumerate(clients)
            for i in range(per_address)
        ]
        return list(await asyncio.gather(*calls))
    finally:
        for c in clients:
            await c.aclose()


async def _valid_during_flood(
    api: str, token: str, flood: asyncio.Task[list[httpx.Response]]
) -> list[httpx.Response]:
    async with httpx.AsyncClient(
        transport=httpx.AsyncHTTPTransport(local_address="127.0.0.2"), timeout=120
    ) as c:
        out = []
        while not flood.done() or not out:
            out.append(await c.get(f"{api}/system/ping", auth=VIEWER))
            out.append(await c.get(f"{api}/system/ping", headers={"Qorus-Token": token}))
        return out


async def _scenario(api: str, token: str) -> tuple[list[httpx.Response], list[httpx.Response]]:
    flood = asyncio.create_task(_flood(f"{api}/system/ping", addresses=30, per_address=4))
    valid = await _valid_during_flood(api, token, flood)
    return await flood, valid


def test_a_flood_of_wrong_passwords_is_refused_quickly_and_spares_the_valid_user(
    omq_dir: Path, start_qorus: Any
) -> None:
    _users(omq_dir)
    q = start_qorus(
        omq_dir,
        "rbac-security=true",
        "rbac-login-threads=1",
        "rbac-login-queue=2",
        "rbac-login-max-failures=3",
        ready=False,
    )
    q.wait_ready(auth=ADMIN)
    api = f"{q.url}/api/latest"
    with _client("127.0.0.2") as c:
        assert c.get(f"{api}/system/ping", auth=VIEWER).json() == "OK"
        r = c.post(f"{q.url}/api/public/login", json={"user": "viewer", "pass": VIEWER[1]})
        token = r.json()["token"]

    flood, valid = asyncio.run(_scenario(api, token))

    assert {r.status_code for r in flood} <= {401, 429, 503}
    refused = [r for r in flood if r.status_code in (429, 503)]
    assert refused, "a flood larger than the login threads and queue was never refused"
    for r in refused:
        assert int(r.headers["retry-after"]) >= 1
        assert r.json()["err"] in ("LOGIN-THROTTLED", "LOGIN-BUSY")
    assert any(r.status_code == 503 for r in flood)
    # per address, at most rbac-login-max-failures guesses were checked
    assert sum(1 for r in flood if r.status_code == 401) <= 30 * 3
    assert valid and all(r.status_code == 200 and r.json() == "OK" for r in valid)
