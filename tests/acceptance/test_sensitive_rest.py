"""Sensitive order data against a real ``qorus`` under ``rbac-security``: the key file made at
start-up, createOrder with ``sensitive_data`` over REST, a step reading and updating them,
``orders/{id}/sensitiveData`` with and without the permission, nothing in clear in the table
or the log files, and a wrong-size key file refusing the start."""

from __future__ import annotations

import stat
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import run_qorus, tool
from sqlalchemy import select
from sqlalchemy.engine import URL

from qorus_core.db import tables as t
from qorus_core.db.engine import create_system_engine

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]
DATA = Path(__file__).parent / "data" / "sens"
ADMIN = ("admin", "Adm1n-Secret")
CLERK = ("clerk", "Cl3rk-Secret")
PID = "PID-55501"
TAX = "TAX-SECRET-90210"


def _wait_complete(api: str, wfiid: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        info: dict[str, Any] = httpx.get(f"{api}/orders/{wfiid}", auth=ADMIN, timeout=30).json()
        if info["workflowstatus"] in ("COMPLETE", "ERROR"):
            return info
        time.sleep(0.2)
    raise AssertionError(f"order {wfiid} did not finish")


def test_sensitive_data_over_rest(omq_dir: Path, db_url: URL, start_qorus: Any) -> None:
    d = ["--qorus-dir", str(omq_dir)]
    for user, role in ((ADMIN, "superuser"), (CLERK, "operator")):
        res = tool("user_tool", *d, "-A", f"{user[0]},{user[1]},{role}")
        assert res.returncode == 0, res.stderr
    res = tool("oload", *d, str(DATA))
    assert res.returncode == 0, res.stderr + res.stdout

    key = omq_dir / "etc" / "sensitive_data.key"
    assert not key.exists()
    q = start_qorus(
        omq_dir, "rbac-security=true", "purge-sensitive-data-complete=false", ready=False
    )
    q.wait_ready(auth=ADMIN)
    api = f"{q.url}/api/latest"
    assert len(key.read_bytes()) == 32 and stat.S_IMODE(key.stat().st_mode) == 0o600

    sensitive = {
        "personal_id": {
            PID: {"data": {"tax_number": TAX}, "aliases": ["person"], "meta": {"PURPOSE": "t"}}
        }
    }
    r = httpx.post(
        f"{api}/workflows/ACC-SENS?action=createOrder",
        json={"staticdata": {"ref": 1}, "sensitive_data": sensitive},
        auth=CLERK,
        timeout=30,
    )
    assert r.status_code == 201, r.text
    wfiid = r.json()["workflow_instanceid"]
    info = _wait_complete(api, wfiid)
    assert info["workflowstatus"] == "COMPLETE", info
    assert info["dynamicdata"] == {"tax_len": len(TAX), "skey": "personal_id"}
    assert info["sensitive_data_keys"] == [{"skey": "personal_id", "aliases": ["person"]}]
    assert TAX not in repr(info) and PID not in repr(info)

    url = f"{api}/orders/{wfiid}/sensitiveData"
    r = httpx.get(url, auth=CLERK, timeout=30)
    assert r.status_code == 403 and r.json()["err"] == "AUTHORIZATION-ERROR"
    r = httpx.put(
        f"{api}/orders/{wfiid}?action=sensitiveData",
        json={"skey": "card", "svalue": "C-1", "data": {"n": 1}},
        auth=CLERK,
        timeout=30,
    )
    assert r.status_code == 403
    r = httpx.get(url, auth=ADMIN, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "personal_id": {
            PID: {
                "data": {"tax_number": TAX, "seen": True},
                "aliases": ["person"],
                "meta": {"PURPOSE": "t"},
            }
        }
    }
    r = httpx.put(
        f"{api}/orders/{wfiid}?action=sensitiveData",
        json={"skey": "card", "svalue": "C-1", "data": {"n": 1}},
        auth=ADMIN,
        timeout=30,
    )
    assert r.status_code == 200 and r.json() == "OK", r.text
    r = httpx.get(url, params={"skey": "card"}, auth=ADMIN, timeout=30)
    assert r.json() == {"card": {"C-1": {"data": {"n": 1}, "aliases": [], "meta": {}}}}

    # at rest: no clear text in the table, the log files or the audit rows
    eng = create_system_engine(db_url, pool_min=1, pool_max=2)
    try:
        with eng.connect() as conn:
            rows = repr(conn.execute(select(t.sensitive_order_data)).all())
            audit = repr(conn.execute(select(t.audit_events)).all())
    finally:
        eng.dispose()
    assert "personal_id" in rows and TAX not in rows and PID not in rows
    assert TAX not in audit and PID not in audit
    logs = "".join(p.read_text(errors="replace") for p in (omq_dir / "log").glob("*.log"))
    assert "checked the sensitive data of key personal_id" in logs
    assert TAX not in logs and PID not in logs

    r = httpx.delete(url, auth=ADMIN, timeout=30)
    assert r.status_code == 200 and r.json() == {"workflow_instanceid": wfiid, "deleted": 2}
    assert httpx.get(url, auth=ADMIN, timeout=30).json() == {}

    r = httpx.put(f"{api}/system/shutdownWait", auth=ADMIN, timeout=60)
    assert r.status_code == 200
    assert q.wait_exit()[0] == 0

    # a key file of the wrong size refuses the start (exit 99), naming the file
    key.write_bytes(b"k" * 16)
    res = run_qorus(omq_dir, "rbac-security=true", f"http-server=127.0.0.1:{q.port}")
    assert res.returncode == 99, res.stderr
    assert "sensitive_data.key holds 16 bytes; it must hold exactly 32 bytes" in res.stderr
