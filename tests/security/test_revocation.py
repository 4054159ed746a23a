"""Access ends when RBAC says so, against a real server under ``rbac-security``: a changed
password, a deleted user or a lost LOGIN stop the Basic login and the tokens at the reload
(``user-tool -s``); ``POST logout`` revokes the caller's token and no one else's; ``user-tool
-s`` that cannot log in refuses before it writes anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import env, tool
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

ADMIN = ("admin", "Adm1n-Secret")
VIEWER = ("viewer", "V1ew-Secret")
OPS = ("ops", "0ps-Secret!")


def _start(omq: Path, start_qorus: Any) -> tuple[str, str]:
    d = ["--qorus-dir", str(omq)]
    for (name, pw), role in ((ADMIN, "superuser"), (VIEWER, "read-only"), (OPS, "operator")):
        res = tool("user_tool", *d, "-A", f"{name},{pw},{role}")
        assert res.returncode == 0, res.stderr
    q = start_qorus(omq, "rbac-security=true", ready=False)
    q.wait_ready(auth=ADMIN)
    return q.url, f"{q.url}/api/latest"


def _token(url: str, who: tuple[str, str]) -> str:
    r = httpx.post(f"{url}/api/public/login", json={"user": who[0], "pass": who[1]}, timeout=30)
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def _ping(api: str, auth: tuple[str, str] | None = None, token: str | None = None) -> int:
    headers = {"Qorus-Token": token} if token else {}
    return httpx.get(f"{api}/system/ping", auth=auth, headers=headers, timeout=30).status_code


def _user_tool(omq: Path, url: str, *args: str, auth: tuple[str, str] | None = ADMIN) -> Any:
    e = env()
    if auth:
        e.update(QORUS_USER=auth[0], QORUS_PASS=auth[1])
    return tool("user_tool", "--qorus-dir", str(omq), "-u", url, *args, env=e)


def test_password_change_deletion_and_lost_login_end_access_at_the_reload(
    omq_dir: Path, start_qorus: Any
) -> None:
    url, api = _start(omq_dir, start_qorus)
    assert _ping(api, VIEWER) == 200 and _ping(api, OPS) == 200  # remembered logins
    v_token, o_token, a_token = _token(url, VIEWER), _token(url, OPS), _token(url, ADMIN)
    assert _ping(api, token=v_token) == 200 and _ping(api, token=o_token) == 200

    # a new password: the old one stops at once, the token at the reload
    new_pw = "N3w-V1ew-Secret"
    res = _user_tool(omq_dir, url, "-d", f"viewer:pass={new_pw}", auth=None)
    assert res.returncode == 0, res.stderr
    assert _ping(api, VIEWER) == 401
    res = _user_tool(omq_dir, url, "-s")
    assert res.returncode == 0 and "RBAC reloaded" in res.stdout, res.stderr
    assert _ping(api, token=v_token) == 401
    assert _ping(api, ("viewer", new_pw)) == 200

    # a role without LOGIN: the token ends, a Basic login is refused
    res = _user_tool(
        omq_dir, url, "-R", "nologin:no login:RELOAD-RBAC", "-d", "ops:roles=nologin", "-s"
    )
    assert res.returncode == 0, res.stderr
    assert _ping(api, token=o_token) == 401
    r = httpx.get(f"{api}/system/ping", auth=OPS, timeout=30)
    assert r.status_code == 403 and "LOGIN" in r.json()["desc"]

    # a deleted user
    v2_token = _token(url, ("viewer", new_pw))
    res = _user_tool(omq_dir, url, "-X", "user:viewer", "-s")
    assert res.returncode == 0, res.stderr
    assert _ping(api, ("viewer", new_pw)) == 401
    assert _ping(api, token=v2_token) == 401
    # a user created again with the same name and password does not revive the old token
    res = _user_tool(omq_dir, url, "-A", f"viewer,{new_pw},read-only", "-s")
    assert res.returncode == 0, res.stderr
    assert _ping(api, token=v2_token) == 401
    assert _ping(api, ("viewer", new_pw)) == 200

    # the admin's token, untouched by all of this, still works
    assert _ping(api, token=a_token) == 200


def test_logout_revokes_the_callers_token_only(omq_dir: Path, start_qorus: Any) -> None:
    url, api = _start(omq_dir, start_qorus)
    mine, other = _token(url, VIEWER), _token(url, OPS)
    # the token of another user cannot be revoked by naming it
    r = httpx.post(f"{api}/logout", json={"token": other}, headers={"Qorus-Token": mine})
    assert r.status_code == 400 and r.json()["err"] == "INVALID-ARGUMENT"
    assert other not in r.text
    assert _ping(api, token=other) == 200 and _ping(api, token=mine) == 200
    r = httpx.post(f"{api}/logout", headers={"Qorus-Token": mine})
    assert r.status_code == 200, r.text
    assert _ping(api, token=mine) == 401 and _ping(api, token=other) == 200
    r = httpx.post(f"{api}/logout", headers={"Qorus-Token": mine})
    assert r.status_code == 401 and r.json()["err"] == "AUTHENTICATION-ERROR"
    # unauthenticated
    assert httpx.post(f"{api}/logout").status_code == 401
    assert httpx.post(f"{url}/api/public/logout").status_code == 401
    # the public/logout form and the v1 path do the same
    r = httpx.post(f"{url}/api/public/logout", headers={"Qorus-Token": other})
    assert r.status_code == 200 and _ping(api, token=other) == 401
    third = _token(url, OPS)
    assert httpx.post(f"{url}/api/v1/logout", headers={"Qorus-Token": third}).status_code == 200
    assert _ping(api, token=third) == 401
    # with HTTP Basic there is no token: the answer is OK and the next call checks again
    assert httpx.post(f"{api}/logout", auth=VIEWER).status_code == 200
    assert _ping(api, VIEWER) == 200


def test_user_tool_s_that_cannot_log_in_writes_nothing(
    omq_dir: Path, engine: Engine, start_qorus: Any
) -> None:
    url, api = _start(omq_dir, start_qorus)
    u = t.users

    def exists(name: str) -> bool:
        with engine.connect() as conn:
            row = conn.execute(select(u.c.username).where(u.c.username == name)).first()
            return row is not None

    res = _user_tool(omq_dir, url, "-A", "newbie,N3wbie-Secret,read-only", "-s", auth=None)
    assert res.returncode == 1
    assert "rbac-security" in res.stderr and "nothing was changed" in res.stderr
    assert not exists("newbie")

    res = _user_tool(
        omq_dir, url, "-A", "newbie,N3wbie-Secret,read-only", "-s", auth=("admin", "Wr0ng-Secret")
    )
    assert res.returncode == 1 and "AUTHENTICATION-ERROR" in res.stderr
    assert "nothing was changed" in res.stderr and "Wr0ng-Secret" not in res.stderr + res.stdout
    assert not exists("newbie")

    # a refused change after a successful login: nothing written, the tool's token ended
    res = _user_tool(omq_dir, url, "-A", "newbie,N3wbie-Secret,no-such-role", "-s")
    assert res.returncode == 1 and not exists("newbie")

    # the admin changes its own password and reloads with the old one: the tool logged in first
    new_pw = "N3w-Adm1n-Secret"
    res = _user_tool(
        omq_dir, url, "-A", "newbie,N3wbie-Secret,read-only", "-d", f"admin:pass={new_pw}", "-s"
    )
    assert res.returncode == 0 and "RBAC reloaded" in res.stdout, res.stderr
    assert exists("newbie")
    assert _ping(api, ADMIN) == 401 and _ping(api, ("admin", new_pw)) == 200
