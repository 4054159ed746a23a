"""The REST ``action`` (``path?action=X``, ``path/X``, an ``action`` argument in the body)
from a hostile or careless caller, against one real server with RBAC on: empty, very long,
NUL, unicode, ``../``, repeated, of the wrong type, path and query disagreeing, unknown, under
the wrong method, without login, without the permission. Each answers a clear 4xx naming the
problem, echoes at most a bounded excerpt, and the system goes on as before (still up, not
shut down, not shutting down)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import Qorus, free_port, tool

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

ADMIN = ("admin", "Adm1n-Secret")
VIEWER = ("viewer", "V1ew-Secret")
MAX_ANSWER = 600  # bytes of an error answer: code, message and excerpts


@pytest.fixture(scope="module")
def server(db_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Qorus]:
    root = tmp_path_factory.mktemp("actions") / "omq"
    for sub in ("etc", "log", "user", "var"):
        (root / sub).mkdir(parents=True)
    url = db_factory.fresh().render_as_string(hide_password=False)
    (root / "etc" / "options").write_text(f"qorus.systemdb = {url}\n")
    d = ["--qorus-dir", str(root)]
    for name, pw, role in [(*ADMIN, "superuser"), (*VIEWER, "read-only")]:
        res = tool("user_tool", *d, "-A", f"{name},{pw},{role},{name}")
        assert res.returncode == 0, res.stderr
    q = Qorus(root, free_port(), ["rbac-security=true"])
    try:
        q.wait_ready(auth=ADMIN)
        yield q
    finally:
        q.kill()


def _call(server: Qorus, method: str, path: str, **kw: Any) -> httpx.Response:
    kw.setdefault("auth", ADMIN)
    return httpx.request(method, f"{server.url}/api/latest/{path}", timeout=10, **kw)


def _still_up(server: Qorus) -> None:
    info = _call(server, "GET", "system").json()
    assert info["shutting-down"] is False
    assert server.proc.poll() is None


def _refused(r: httpx.Response, status: int, code: str, *names: str) -> dict[str, Any]:
    assert r.status_code == status, r.text[:MAX_ANSWER]
    assert len(r.content) < MAX_ANSWER, r.text[:MAX_ANSWER]
    body: dict[str, Any] = r.json()
    assert body["err"] == code and body["desc"]
    for name in names:
        assert name in body["desc"], body["desc"]
    return body


def test_both_forms_answer(server: Qorus) -> None:
    assert _call(server, "GET", "system?action=ping").json() == "OK"
    assert _call(server, "GET", "system/ping").json() == "OK"
    assert _call(server, "GET", "system?action=echo&a=1;b=2").json() == {"a": "1", "b": "2"}
    assert _call(server, "GET", "system/echo?a=1").json() == {"a": "1"}
    assert _call(server, "PUT", "system?action=echo", json={"a": [1]}).json() == {"a": [1]}
    assert _call(server, "PUT", "system/echo", json={"action": "echo", "b": 2}).json() == {"b": 2}
    assert _call(server, "PUT", "system", json={"action": "echo"}).json() == {}


@pytest.mark.parametrize(
    ("path", "status", "code", "names"),
    [
        ("system?action=", 400, "INVALID-ARGUMENT", ["empty", "'system'"]),
        ("system?action=pi%00ng", 400, "INVALID-ARGUMENT", ["invalid action", "\\x00"]),
        ("system?action=p%C3%AFng", 400, "INVALID-ARGUMENT", ["invalid action"]),
        ("system?action=%E2%80%AEgnip", 400, "INVALID-ARGUMENT", ["\\u202e"]),
        ("system?action=%FF%FE", 400, "INVALID-ARGUMENT", ["invalid action"]),
        ("system?action=..%2Fping", 400, "INVALID-ARGUMENT", ["'../ping'"]),
        ("system?action=../../etc/passwd", 400, "INVALID-ARGUMENT", ["invalid action"]),
        ("system?action=ping&action=echo", 400, "INVALID-ARGUMENT", ["2 times"]),
        ("system?action=ping;action=ping", 400, "INVALID-ARGUMENT", ["2 times"]),
        ("system/ping?action=echo", 400, "INVALID-ARGUMENT", ["'ping'", "'echo'"]),
        ("system?action=nosuch", 501, "NOT-IMPLEMENTED", ["'nosuch'", "'system'"]),
        ("system/nosuch?action=ping", 404, "NOT-FOUND", ["'system/nosuch'"]),
        ("nosuch?action=ping", 404, "NOT-FOUND", ["'nosuch'"]),
    ],
)
def test_odd_query_actions(
    server: Qorus, path: str, status: int, code: str, names: list[str]
) -> None:
    _refused(_call(server, "GET", path), status, code, *names)


def test_very_long_actions_are_cut(server: Qorus) -> None:
    long = "a" * 8000
    for method, path in [
        ("GET", f"system?action={long}"),
        ("PUT", f"system?action={long}"),
        ("PUT", f"system/{long}"),
        ("GET", f"system/{long}"),
        ("PUT", f"system/shutdown?action={long}"),
    ]:
        r = _call(server, method, path)
        assert 400 <= r.status_code < 500, r.text[:MAX_ANSWER]
        assert len(r.content) < MAX_ANSWER and " characters)" in r.json()["desc"]
    _still_up(server)


def test_disagreeing_actions_change_nothing(server: Qorus) -> None:
    """A path naming one action and a query or body naming another never runs either: a
    shutdown is the action at stake."""
    _refused(
        _call(server, "PUT", "system/shutdown?action=rotateLogFiles"),
        400,
        "INVALID-ARGUMENT",
        "'shutdown'",
        "'rotateLogFiles'",
    )
    _refused(
        _call(server, "PUT", "system?action=rotateLogFiles", json={"action": "shutdown"}),
        400,
        "INVALID-ARGUMENT",
        "'shutdown'",
        "'rotateLogFiles'",
    )
    _refused(
        _call(server, "PUT", "system/shutdown", json={"action": "shutdownWait"}),
        400,
        "INVALID-ARGUMENT",
    )
    for bad in (5, ["shutdown"], {"a": {"b": "shutdown"}}, None):
        _refused(
            _call(server, "PUT", "system", json={"action": bad}),
            400,
            "INVALID-ARGUMENT",
            "must be a string",
        )
    _still_up(server)


def test_wrong_method_is_405_with_allow(server: Qorus) -> None:
    for method, path in [
        ("PUT", "system?action=ping"),
        ("PUT", "system/ping"),
        ("DELETE", "system?action=echo"),
    ]:
        r = _call(server, method, path)
        _refused(r, 405, "METHOD-NOT-ALLOWED", "needs HTTP GET")
        assert "GET" in r.headers["allow"]
    r = _call(server, "GET", "system?action=shutdown")
    _refused(r, 405, "METHOD-NOT-ALLOWED", "'shutdown'")
    assert r.headers["allow"] == "PUT"
    _still_up(server)


def test_without_login_or_permission(server: Qorus) -> None:
    for path in ("system?action=ping", "system/ping", "system?action=echo&secret=1"):
        r = _call(server, "GET", path, auth=None)
        _refused(r, 401, "AUTHENTICATION-ERROR")
        assert "secret" not in r.text
    r = _call(server, "GET", "system?action=echo", auth=(ADMIN[0], "Xy-bad-pass-77"))
    _refused(r, 401, "AUTHENTICATION-ERROR")
    assert ADMIN[1] not in r.text and "Xy-bad-pass-77" not in r.text
    # odd actions without a login are refused too, never a 500
    for path in ("system?action=", "system?action=%00", "system?action=a&action=b"):
        r = _call(server, "GET", path, auth=None)
        assert 400 <= r.status_code < 500 and len(r.content) < MAX_ANSWER
    # a read-only user reaches neither form of a state-changing action
    for method, path in [("PUT", "system?action=shutdown"), ("PUT", "system/shutdown")]:
        _refused(_call(server, method, path, auth=VIEWER), 403, "AUTHORIZATION-ERROR", "viewer")
    assert _call(server, "GET", "system?action=ping", auth=VIEWER).json() == "OK"
    _still_up(server)


def test_qrest_sends_both_forms(server: Qorus, tmp_path: Path) -> None:
    user = f"{ADMIN[0]}:{ADMIN[1]}"
    for path in ("system?action=ping", "system/ping"):
        res = tool("qrest", "-u", server.url, "-U", user, path)
        assert res.returncode == 0 and "OK" in res.stdout, res.stderr
    res = tool("qrest", "-u", server.url, "-U", user, "system?action=nosuch")
    assert res.returncode == 1 and "NOT-IMPLEMENTED" in res.stderr and "'nosuch'" in res.stderr
