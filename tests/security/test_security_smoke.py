"""The security folder's own plumbing: a real server starts here and refuses a stranger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import tool

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

PW = "Adm1n-Secret"


def test_unauthenticated_call_is_refused_under_rbac(omq_dir: Path, start_qorus: Any) -> None:
    res = tool("user_tool", "--qorus-dir", str(omq_dir), "-A", f"admin,{PW},superuser,Admin")
    assert res.returncode == 0, res.stderr
    q = start_qorus(omq_dir, "rbac-security=true", ready=False)
    q.wait_ready(auth=("admin", PW))
    r = httpx.get(f"{q.url}/api/latest/system/options")
    assert r.status_code == 401 and r.json()["err"] == "AUTHENTICATION-ERROR"
    assert PW not in r.text
    ok = httpx.get(f"{q.url}/api/latest/system/ping", auth=("admin", PW))
    assert ok.status_code == 200 and ok.json() == "OK"
