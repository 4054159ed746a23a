"""RBAC enforced by a real server: users made offline by `user-tool`, calls made by `qrest`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import tool

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

ADMIN_PW = "Adm1n-Secret"
VIEW_PW = "V1ew-Secret"


def test_rbac_security_end_to_end(omq_dir: Path, start_qorus: Any) -> None:
    d = ["--qorus-dir", str(omq_dir)]
    res = tool("user_tool", *d, "-A", f"admin,{ADMIN_PW},superuser,Admin")
    assert res.returncode == 0, res.stderr
    res = tool("user_tool", *d, "-A", f"viewer,{VIEW_PW},read-only,Viewer")
    assert res.returncode == 0, res.stderr

    q = start_qorus(omq_dir, "rbac-security=true", ready=False)
    q.wait_ready(auth=("admin", ADMIN_PW))
    api = f"{q.url}/api/latest"

    # public info needs no login; everything else does
    assert httpx.get(f"{api.replace('/latest', '')}/public/info").status_code == 200
    r = httpx.get(f"{api}/system/ping")
    assert r.status_code == 401 and r.json()["err"] == "AUTHENTICATION-ERROR"
    r = httpx.get(f"{api}/system/ping", auth=("admin", "wrong"))
    assert r.status_code == 401
    assert httpx.get(f"{api}/system/ping", auth=("admin", ADMIN_PW)).json() == "OK"

    # qrest: credentials from -U; a REST error exits 1 with err and desc
    res = tool("qrest", "-u", q.url, "-U", f"viewer:{VIEW_PW}", "system/ping")
    assert res.returncode == 0 and "OK" in res.stdout, res.stderr
    res = tool("qrest", "-u", q.url, "-U", f"viewer:{VIEW_PW}", "put", "system/rotateLogFiles")
    assert res.returncode == 1
    assert "AUTHORIZATION-ERROR" in res.stdout + res.stderr
    res = tool("qrest", "-u", q.url, "system/ping")
    assert res.returncode == 1 and "AUTHENTICATION-ERROR" in res.stdout + res.stderr

    # login tokens: POST public/login, then the Qorus-Token header (qrest -k)
    base = q.url + "/api"
    r = httpx.post(f"{base}/public/login", json={"user": "viewer", "pass": "nope"})
    assert r.status_code == 401
    r = httpx.post(f"{base}/public/login", json={"user": "viewer", "pass": VIEW_PW})
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    r = httpx.get(f"{api}/system/ping", headers={"Qorus-Token": token})
    assert r.json() == "OK"
    r = httpx.get(f"{api}/system/ping", headers={"Qorus-Token": token + "x"})
    assert r.status_code == 401 and r.json()["err"] == "AUTHENTICATION-ERROR"
    res = tool("qrest", "-u", q.url, "-k", token, "system/ping")
    assert res.returncode == 0 and "OK" in res.stdout, res.stderr
    res = tool("qrest", "-u", q.url, "-k", token, "put", "system/rotateLogFiles")
    assert res.returncode == 1 and "AUTHORIZATION-ERROR" in res.stdout + res.stderr

    # a password changed offline applies after user-tool -s (cached logins are dropped)
    new_pw = "N3w-Secret!"
    res = tool("user_tool", *d, "-d", f"viewer:pass={new_pw}")
    assert res.returncode == 0, res.stderr
    env_auth = ("admin", ADMIN_PW)
    res = tool(
        "user_tool",
        *d,
        "-s",
        "-u",
        q.url,
        env={**_env(), "QORUS_USER": env_auth[0], "QORUS_PASS": env_auth[1]},
    )
    assert res.returncode == 0 and "RBAC reloaded" in res.stdout, res.stderr
    assert httpx.get(f"{api}/system/ping", auth=("viewer", VIEW_PW)).status_code == 401
    assert httpx.get(f"{api}/system/ping", auth=("viewer", new_pw)).json() == "OK"

    # the viewer may not shut down; the admin may
    r = httpx.put(f"{api}/system/shutdown", auth=("viewer", new_pw))
    assert r.status_code == 403 and r.json()["err"] == "AUTHORIZATION-ERROR"
    r = httpx.put(f"{api}/system/shutdown", auth=("admin", ADMIN_PW))
    assert r.status_code == 200
    assert q.wait_exit()[0] == 0


def _env() -> dict[str, str]:
    from qorus_proc import env

    return env()
