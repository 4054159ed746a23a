"""Services as a user drives them: ``oload`` loads a service, a real ``qorus`` autostarts it
(an autostart service whose ``init()`` fails is logged and start-up goes on), its methods are
called over REST (PUT and POST, ``path?action=call`` and ``path/call``, ``qrest``), errors
answer 409, internal methods 403, its state data survives a restart of the server, and the
``info`` system service answers the options in force with their secrets masked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import Qorus, tool

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]
DATA = Path(__file__).parent / "data" / "svc"
SECRET = "Hunter2-Ldap-Secret"


def call(q: Qorus, method: str, *, http: str = "PUT", form: str = "query", **body: Any) -> Any:
    path = f"services/acc-svc/{method}" + ("?action=call" if form == "query" else "/call")
    return httpx.request(http, f"{q.url}/api/latest/{path}", json=body, timeout=30)


def test_a_service_loaded_with_oload_called_over_rest(omq_dir: Path, start_qorus: Any) -> None:
    d = ["--qorus-dir", str(omq_dir)]
    res = tool("oload", *d, str(DATA))
    assert res.returncode == 0, res.stderr + res.stdout
    with (omq_dir / "etc" / "options").open("a") as f:
        f.write(f"ldap.password = {SECRET}\n")
    q = start_qorus(omq_dir)
    api = f"{q.url}/api/latest"

    services = {s["name"]: s for s in httpx.get(f"{api}/services", timeout=30).json()}
    assert services["acc-svc"]["status"] == "loaded"  # autostart
    assert services["acc-bad"]["status"] == "unloaded"  # its init() failed: start-up went on
    assert services["info"]["type"] == "system"  # loaded into the schema at the first start

    for http, form in (("PUT", "query"), ("POST", "query"), ("PUT", "path"), ("POST", "path")):
        r = call(q, "hello", http=http, form=form, args=["you"])
        assert (r.status_code, r.json()) == (200, "hello you"), r.text
    assert call(q, "count").json() == 1
    assert call(q, "count").json() == 2
    who = call(q, "whoami").json()
    assert who["transport"] == "rest" and who["user"] is None
    assert who["source"].startswith("127.0.0.1")  # the client address

    r = call(q, "fail", args="today")
    assert r.status_code == 409
    assert r.json() == {
        "err": "ACC-FAILURE",
        "desc": "failed today",
        "info": {"service": "acc-svc", "method": "fail"},
    }
    r = call(q, "secret")
    assert r.status_code == 403 and r.json()["err"] == "INTERNAL-METHOD-ERROR"
    r = call(q, "nosuch")
    assert r.status_code == 404 and r.json()["err"] == "SERVICE-NO-METHOD"
    assert call(q, "hello").json() == "hello world"  # still running after the errors

    res = tool("qrest", "-u", q.url, "put", "services/acc-svc/hello/call", "args=qrest")
    assert res.returncode == 0 and "hello qrest" in res.stdout, res.stdout + res.stderr
    res = tool("qrest", "-u", q.url, "put", "services/acc-svc/fail/call")
    assert res.returncode == 1 and "ACC-FAILURE" in (res.stdout + res.stderr)

    info = httpx.get(f"{api}/services/acc-svc", timeout=30).json()
    assert info["state"] == {"count": 2}
    assert info["stats"]["methods"]["hello"]["calls"] >= 6
    assert info["stats"]["methods"]["fail"]["errors"] == 2
    log = Path(info["log"]).read_text()
    assert "hello you" in log and "acc-svc loaded with count 0" in log
    system_log = next((omq_dir / "log").glob("*qorus-core.log")).read_text()
    assert "acc-bad cannot start" in system_log

    # the info system service: system information, options in force with secrets masked
    r = httpx.put(
        f"{api}/services/info/getOptions?action=call",
        json={"args": ["ldap.password", "max-retries"]},
        timeout=30,
    )
    assert r.status_code == 200 and SECRET not in r.text, r.text
    assert r.json() == {"ldap.password": "********", "max-retries": 5}
    r = httpx.put(f"{api}/services/info/getSystemInfo?action=call", json={}, timeout=30)
    assert r.json()["instance-key"] and SECRET not in r.text
    r = httpx.put(
        f"{api}/services/info/getOptions?action=call", json={"servicetype": "USER"}, timeout=30
    )
    assert r.status_code == 404  # info is a system service

    # the state data survives a restart of the server; the service is autostarted again
    code, _err = q.terminate()
    assert code == 0
    q2 = start_qorus(omq_dir, port=q.port)
    assert call(q2, "count").json() == 3
    res = tool("qrest", "-u", q2.url, "services/acc-svc")
    assert res.returncode == 0 and "count: 3" in res.stdout, res.stdout
    r = httpx.put(f"{q2.url}/api/latest/services/acc-svc?action=unload", timeout=30)
    assert r.json()["unloaded"] is True
    assert call(q2, "count").json() == 4  # an unloaded service is loaded by a call
