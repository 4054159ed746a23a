"""The REST conventions, formats, encodings, CORS and qrest against one real ``qorus``."""

from __future__ import annotations

import bz2
import gzip
import json
import xmlrpc.client
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from qorus_proc import Qorus, free_port, tool

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]


@pytest.fixture(scope="module")
def server(db_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Qorus]:
    root = tmp_path_factory.mktemp("rest") / "omq"
    for sub in ("etc", "log", "user", "var"):
        (root / sub).mkdir(parents=True)
    url = db_factory.fresh().render_as_string(hide_password=False)
    (root / "etc" / "options").write_text(f"qorus.systemdb = {url}\n")
    sock = root / "var" / "http.sock"
    port = free_port()
    q = Qorus(
        root,
        port,
        [f"http-server=127.0.0.1:{port},{sock}", "cors-enable=true", "max-log-files=2"],
    )
    try:
        q.wait_ready()
        yield q
        res = tool("qrest", "-u", q.url, "put", "system/shutdownWait")
        assert res.returncode == 0, res.stderr
        assert res.stdout.strip() == "the system has been shut down"
        assert q.wait_exit()[0] == 0
    finally:
        q.kill()


def api(server: Qorus, path: str) -> str:
    return f"{server.url}/api/latest/{path}"


def test_versions_and_resources(server: Qorus) -> None:
    assert httpx.get(f"{server.url}/api/latest").json() == [
        "async-queues",
        "exec",
        "groups",
        "jobresults",
        "jobs",
        "logout",
        "orders",
        "perms",
        "public",
        "roles",
        "services",
        "sync-events",
        "system",
        "users",
        "workflows",
    ]
    for prefix in ("latest", "v7", "v3"):
        assert httpx.get(f"{server.url}/api/{prefix}/system/ping").json() == "OK"
    info = httpx.get(f"{server.url}/api/public/info").json()
    assert info["instance-key"] == "qorus-test-instance" and info["noauth"] is True
    sysinfo = httpx.get(api(server, "system")).json()
    assert sysinfo["omq_dir"] == str(server.omq)
    assert httpx.get(api(server, "system/instance-key")).json() == "qorus-test-instance"
    assert httpx.get(api(server, "system/health")).json()["health"] == "GREEN"
    [active] = httpx.get(api(server, "system/sessions"), params={"active": "true"}).json()
    assert active["sessionid"] == sysinfo["session-id"]
    listeners = httpx.get(api(server, "system/listeners")).json()
    assert [lst["family"] for lst in listeners] == ["ipv4", "unix"]


def test_status_codes(server: Qorus) -> None:
    def check(method: str, path: str, status: int, err: str, **kw: Any) -> None:
        r = httpx.request(method, api(server, path), **kw)
        assert r.status_code == status, r.text
        assert r.json()["err"] == err and r.json()["desc"]

    check("GET", "system/shutdown", 405, "METHOD-NOT-ALLOWED")
    check("PUT", "system/nosuch", 501, "NOT-IMPLEMENTED")
    check("PUT", "system?action=nosuch", 501, "NOT-IMPLEMENTED")
    check("GET", "nosuch", 404, "NOT-FOUND")
    check("GET", "system/options/no-such-option", 404, "OPTION-ERROR")
    check("PUT", "system/options/set", 400, "OPTION-ERROR", json={"no-such-option": 1})
    check("PUT", "system/options/set", 400, "OPTION-ERROR", json={"max-retries": "many"})
    check("PUT", "system/options/set", 409, "OPTION-ERROR", json={"instance-key": "x"})
    check("GET", "system/ping?unexpected=1", 400, "INVALID-ARGUMENT")
    check(
        "PUT",
        "system/options/set",
        400,
        "INVALID-ARGUMENT",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    # a refused change leaves every option as it was (all or none)
    r = httpx.put(api(server, "system/options/set"), json={"max-retries": 4, "instance-key": "x"})
    assert r.status_code == 409
    assert httpx.get(api(server, "system/options/max-retries")).json()["value"] == 5


def test_action_forms_are_equal(server: Qorus) -> None:
    r1 = httpx.put(api(server, "system/options/set"), json={"max-async-retries": 11})
    r2 = httpx.put(api(server, "system/options?action=set"), json={"max-async-retries": 12})
    r3 = httpx.put(api(server, "system/options?action=set;max-async-retries=13"))
    assert [r.status_code for r in (r1, r2, r3)] == [200, 200, 200]
    opt = httpx.get(api(server, "system/options/max-async-retries")).json()
    assert opt["value"] == 13 and opt["source"] == "runtime"
    # the action may also come in the body with the other arguments
    r4 = httpx.put(api(server, "system/options"), json={"action": "set", "max-async-retries": 14})
    assert r4.status_code == 200
    opt = httpx.get(api(server, "system/options/max-async-retries")).json()
    assert opt["value"] == 14


@pytest.mark.parametrize(
    "ctype",
    ["application/json", "application/x-yaml", "text/x-yaml", "text/xml"],
)
def test_body_and_answer_formats(server: Qorus, ctype: str) -> None:
    value = {"detach-delay": 99, "defines": {"a": "b"}}
    if ctype == "text/xml":
        body = xmlrpc.client.dumps((value,), methodname="set").encode()
    elif "yaml" in ctype:
        body = yaml.safe_dump(value).encode()
    else:
        body = json.dumps(value).encode()
    r = httpx.put(
        api(server, "system/options/set"),
        content=body,
        headers={"Content-Type": ctype, "Accept": ctype},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(
        ctype if ctype != "text/x-yaml" else "application/x-yaml"
    )
    if ctype == "text/xml":
        (answer,), _ = xmlrpc.client.loads(r.text)
    elif "yaml" in ctype:
        answer = yaml.safe_load(r.text)
    else:
        answer = r.json()
    assert answer == {"qorus.detach-delay": 99, "qorus.defines": {"a": "b"}}


@pytest.mark.parametrize(
    ("encoding", "decode"),
    [("gzip", gzip.decompress), ("deflate", zlib.decompress), ("bzip2", bz2.decompress)],
)
def test_content_encodings(server: Qorus, encoding: str, decode: Any) -> None:
    with httpx.Client() as client:
        req = client.build_request(
            "GET", api(server, "system/options"), headers={"Accept-Encoding": encoding}
        )
        r = client.send(req, stream=True)
        raw = r.read() if encoding == "bzip2" else b"".join(r.iter_raw())
        r.close()
    assert r.headers["content-encoding"] == encoding
    data = json.loads(decode(raw))
    assert any(o["name"] == "qorus.max-retries" for o in data)
    plain = httpx.get(api(server, "system/options"), headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


def test_cors(server: Qorus) -> None:
    r = httpx.options(
        api(server, "system/ping"),
        headers={"Origin": "http://ui.example", "Access-Control-Request-Method": "GET"},
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "PUT" in r.headers["access-control-allow-methods"]
    r = httpx.get(api(server, "system/ping"), headers={"Origin": "http://ui.example"})
    assert r.headers["access-control-allow-origin"] == "*"


def test_unix_socket(server: Qorus) -> None:
    sock = server.omq / "var" / "http.sock"
    with httpx.Client(transport=httpx.HTTPTransport(uds=str(sock))) as c:
        assert c.get("http://qorus/api/latest/system/ping").json() == "OK"
    res = tool("qrest", "-u", f"unix:{sock}", "system/instance-key")
    assert res.returncode == 0 and res.stdout.strip() == "qorus-test-instance"


def test_rotate_log_files(server: Qorus) -> None:
    log = server.omq / "log" / "OMQ-qorus-test-instance-qorus-core.log"
    for _ in range(3):
        r = httpx.put(api(server, "system/rotateLogFiles"))
        assert r.status_code == 200 and str(log) in r.json()
    assert Path(f"{log}.1").exists() and Path(f"{log}.2").exists()
    assert not Path(f"{log}.3").exists()  # max-log-files=2
    httpx.get(api(server, "system/ping"))
    assert log.exists()


def test_qrest(server: Qorus, tmp_path: Path) -> None:
    def qrest(*args: str) -> Any:
        return tool("qrest", "-u", server.url, *args)

    res = qrest("system/ping")
    assert (res.returncode, res.stdout.strip()) == (0, "OK")
    res = qrest("put", "system/options/set", "max-retries=7", "audit=[system, api]")
    assert res.returncode == 0, res.stderr
    assert yaml.safe_load(res.stdout) == {
        "qorus.max-retries": 7,
        "qorus.audit": ["system", "api"],
    }
    res = qrest("-J", "system/options/max-retries")
    assert json.loads(res.stdout)["value"] == 7
    res = qrest("put", "system/options?action=set", "{detach-delay: 77}")
    assert res.returncode == 0 and "77" in res.stdout
    res = qrest("get", "system/echo", "a=1", "b=x y")
    assert yaml.safe_load(res.stdout) == {"a": "1", "b": "x y"}
    res = qrest("-H", "Accept: application/x-yaml", "system/instance-key")
    assert res.stdout.strip() == "qorus-test-instance"
    # a REST error: exit 1 with err and desc
    res = qrest("put", "system/options/set", "instance-key=x")
    assert res.returncode == 1
    assert "OPTION-ERROR" in res.stderr and "startup" in res.stderr
    res = qrest("put", "system/nosuch")
    assert res.returncode == 1 and "NOT-IMPLEMENTED" in res.stderr
    # the URL from the options file of $OMQ_DIR
    omq = tmp_path / "client"
    (omq / "etc").mkdir(parents=True)
    (omq / "etc" / "options").write_text(f"qorus-client.client-url = {server.url}\n")
    res = tool("qrest", "--qorus-dir", str(omq), "system/ping")
    assert res.returncode == 0 and res.stdout.strip() == "OK"
    # anything else: exit 2, one line
    res = tool("qrest", "-u", f"http://127.0.0.1:{free_port()}", "system/ping")
    assert res.returncode == 2
    assert "cannot reach the server" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = qrest("put", "system/options/set", "noequals", "x")
    assert res.returncode == 2
