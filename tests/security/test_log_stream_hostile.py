"""Hostile callers of ``/log`` against a real server under ``rbac-security``: no login, a wrong
password or token, an unknown log or interface, another group's workflow, the system log for
a user who does not see every interface, names that try to climb out of the log folder, and
``lines`` that are negative, huge or not a number. Each is refused before the WebSocket opens
with the HTTP status and ``{err, desc}`` of the REST API."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import Qorus, free_port, tool
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]
DATA = Path(__file__).resolve().parents[1] / "acceptance" / "data" / "logwf"
PW = "Log-Secret-1"


def basic(user: str, pw: str = PW) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


@pytest.fixture(scope="module")
def server(db_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Qorus]:
    base = tmp_path_factory.mktemp("loghostile")
    omq = base / "omq"
    for sub in ("etc", "log", "user", "var"):
        (omq / sub).mkdir(parents=True)
    url = db_factory.fresh().render_as_string(hide_password=False)
    (omq / "etc" / "options").write_text(f"qorus.systemdb = {url}\n")
    shutil.copytree(DATA, base / "data")
    d = ["--qorus-dir", str(omq)]
    res = tool("oload", *d, str(base / "data"))
    assert res.returncode == 0, res.stderr + res.stdout
    res = tool(
        "user_tool",
        *d,
        "-A",
        f"admin,{PW},superuser",
        "-g",
        "talkers:desc=the talker,workflows=LOG-TALKER",
        "-R",
        "talk:sees the talker:LOGIN:talkers",
        "-R",
        "nologin:no login:WORKFLOW-CONTROL:DEFAULT",
        "-A",
        f"ann,{PW},talk",
        "-A",
        f"mute,{PW},nologin",
    )
    assert res.returncode == 0, res.stderr
    q = Qorus(omq, free_port(), ["rbac-security=true"])
    try:
        q.wait_ready(auth=("admin", PW))
        yield q
    finally:
        q.kill()


def refused(
    q: Qorus, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    url = q.url.replace("http://", "ws://") + path
    with pytest.raises(InvalidStatus) as info, connect(url, additional_headers=headers or {}):
        pass
    resp = info.value.response
    return resp.status_code, json.loads(bytes(resp.body or b"{}"))


def test_logins_are_required_and_checked(server: Qorus) -> None:
    status, body = refused(server, "/log/system")
    assert status == 401 and body["err"] == "AUTHENTICATION-ERROR"
    assert refused(server, "/log/system", basic("admin", "wrong"))[0] == 401
    assert refused(server, "/log/system?token=forged")[0] == 401
    assert refused(server, "/log/system", {"Qorus-Token": "forged"})[0] == 401
    status, body = refused(server, "/log/workflows/LOG-TALKER", basic("mute"))
    assert status == 403 and "LOGIN" in body["desc"]


def test_unknown_logs_and_interfaces_are_404(server: Qorus) -> None:
    for path in (
        "/log",
        "/log/",
        "/log/nosuch",
        "/log/workflows",
        "/log/workflows/",
        "/log/system/extra",
        "/log/workflows/NO-SUCH-WORKFLOW",
        "/log/services/NO-SUCH",
        "/log/jobs/NO-SUCH",
        "/log/workflows/LOG-TALKER:9.9",
        "/log/workflows/99999999999999999999",
        "/log/workflows/..%2f..%2fetc%2fpasswd",
        "/log/workflows/../../etc/passwd",
        "/log/workflows/%2e%2e",
    ):
        status, body = refused(server, path, basic("admin"))
        assert status == 404, (path, status, body)
        assert body["err"] in ("LOG-NOT-FOUND", "WORKFLOW-ERROR", "SERVICE-ERROR", "JOB-ERROR")
    status, body = refused(server, "/log/workflows/" + "x" * 5000, basic("admin"))
    assert status == 400 and body["err"] == "INVALID-ARGUMENT"


def test_interface_groups_apply(server: Qorus) -> None:
    status, body = refused(server, "/log/workflows/LOG-QUIET", basic("ann"))
    assert status == 403 and body["err"] == "AUTHORIZATION-ERROR"
    for path in ("/log/system", "/log/qorus-core", "/log/http"):
        status, body = refused(server, path, basic("ann"))
        assert status == 403 and "DEFAULT" in body["desc"], path
    with connect(
        server.url.replace("http://", "ws://") + "/log/workflows/LOG-TALKER?lines=0",
        additional_headers=basic("ann"),
    ) as ws:
        ws.send("ping")
        assert ws.recv(timeout=10) == "pong"


@pytest.mark.parametrize(
    "query",
    [
        "lines=-1",
        "lines=10001",
        "lines=99999999999999999999999",
        "lines=abc",
        "lines=1.5",
        "lines=",
        "lines=%00",
    ],
)
def test_bad_history_sizes_are_400(server: Qorus, query: str) -> None:
    status, body = refused(server, f"/log/system?{query}", basic("admin"))
    assert status == 400 and body["err"] == "INVALID-ARGUMENT" and "lines" in body["desc"]


def test_bad_history_header_is_400(server: Qorus) -> None:
    headers = {**basic("admin"), "Qorus-Log-History": "-5"}
    status, body = refused(server, "/log/system", headers)
    assert status == 400 and "Qorus-Log-History" in body["desc"]


def test_not_a_websocket(server: Qorus) -> None:
    assert httpx.get(f"{server.url}/log/system", auth=("admin", PW)).status_code == 404
    with (
        pytest.raises(InvalidStatus),
        connect(
            server.url.replace("http://", "ws://") + "/webdav/", additional_headers=basic("admin")
        ),
    ):
        pass
