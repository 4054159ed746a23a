"""RBAC over REST and RPC against a real server from hostile or careless callers: no login, a
user without the permission (on another user's object too), a password in the query string,
huge, deep and wrongly typed arguments, the DEFAULT group, deleting oneself. Each is refused
clearly (401, 403, 400, 404 or 409, never a 500 nor the database's words) and leaves every
RBAC row as it was; no password ever reaches an answer, a log file or an audit row."""

from __future__ import annotations

import json
import re
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hostile_http import ADMIN, VIEWER, rbac_server
from qorus_proc import Qorus, free_port, tool
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.engine import create_system_engine
from tests.integration.rbac_helpers import snapshot

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

OPERATOR = ("ops", "0ps-Secret-1")
SECRET = "Sup3r-Secret-Pw!"  # the passwords the tests send, looked for afterwards
LEAKS = re.compile(r"psycopg|pymysql|sqlalchemy|sqlite3|SQL|Traceback")
DEEP: Any = ["x"]
for _ in range(200):
    DEEP = [DEEP]


@pytest.fixture(scope="module")
def env(
    db_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Qorus, Engine, Path]]:
    root = tmp_path_factory.mktemp("rbachostile") / "omq"
    for sub in ("etc", "log", "user", "var"):
        (root / sub).mkdir(parents=True)
    url = db_factory.fresh()
    text = url.render_as_string(hide_password=False)
    (root / "etc" / "options").write_text(f"qorus.systemdb = {text}\nqorus.audit = api, groups\n")
    res = tool("user_tool", "--qorus-dir", str(root), "-A", f"{OPERATOR[0]},{OPERATOR[1]},operator")
    assert res.returncode == 0, res.stderr
    res = tool("user_tool", "--qorus-dir", str(root), "-g", "G1:desc=one")
    assert res.returncode == 0, res.stderr
    started: list[Qorus] = []

    def start(omq: Path, *overrides: str, ready: bool = True) -> Qorus:
        q = Qorus(omq, free_port(), overrides)
        started.append(q)
        return q

    engine = create_system_engine(url)
    try:
        # the tests send many wrong passwords on purpose: no throttling here
        limits = ("rbac-login-max-failures=0", "rbac-login-user-max-failures=0")
        yield rbac_server(root, start, *limits), engine, root
    finally:
        engine.dispose()
        for q in started:
            q.kill()


@pytest.fixture
def unchanged(env: tuple[Qorus, Engine, Path]) -> Iterator[Any]:
    q, engine, _root = env
    before = snapshot(engine)
    yield q
    assert httpx.get(f"{q.url}/api/latest/system/ping", auth=ADMIN).json() == "OK"
    assert snapshot(engine) == before


def _send(q: Qorus, method: str, path: str, auth: Any, body: Any = None, **kw: Any) -> Any:
    content = None if body is None else json.dumps(body).encode()
    headers = {"content-type": "application/json"} if content else {}
    r = httpx.request(
        method,
        f"{q.url}/api/latest/{path}",
        auth=auth,
        content=content,
        headers=headers,
        timeout=30,
        **kw,
    )
    assert not LEAKS.search(r.text), r.text[:300]
    assert SECRET not in r.text
    return r


#: every changing request of the RBAC API, with a body that would be valid
CHANGES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "users", {"username": "mallory", "pass": SECRET, "roles": "superuser"}),
    ("PUT", "users/admin", {"pass": SECRET}),
    ("PUT", "users/viewer", {"roles": "superuser"}),
    ("PUT", "users/viewer?action=update", {"name": "pwned"}),
    ("DELETE", "users/admin", None),
    ("POST", "roles", {"role": "evil", "desc": "x", "permissions": "LOGIN"}),
    ("PUT", "roles/read-only", {"permissions": "+SHUTDOWN"}),
    ("DELETE", "roles/operator?cascade=true", None),
    ("POST", "perms", {"name": "EVIL", "desc": "x"}),
    ("DELETE", "perms/LOGIN", None),
    ("POST", "groups", {"group": "EVIL", "desc": "x"}),
    ("PUT", "groups/G1", {"desc": "changed"}),
    ("PUT", "groups/G1?action=disable", None),
    ("PUT", "groups/G1?action=setStatus", {"enabled": False}),
    ("PUT", "groups?action=setStatus", {"groups": "G1", "enabled": False}),
    ("DELETE", "groups/G1", None),
    ("DELETE", "groups?groups=G1", None),
    ("PUT", "system?action=reloadRbac", None),
    ("PUT", "system/rbac?action=reload", None),
]


def test_without_a_login_everything_is_401(unchanged: Qorus) -> None:
    q = unchanged
    for method, path, body in [
        *CHANGES,
        ("GET", "users", None),
        ("GET", "users/admin", None),
        ("GET", "users?action=current", None),
        ("GET", "roles", None),
        ("GET", "perms", None),
        ("GET", "groups", None),
    ]:
        for auth in (None, ("admin", "wrong-password"), ("nobody", SECRET)):
            r = _send(q, method, path, auth, body)
            assert r.status_code == 401, (method, path, r.text)
            assert r.headers["www-authenticate"].startswith("Basic"), path
            assert r.json()["err"] == "AUTHENTICATION-ERROR"


def test_a_user_without_the_permission_is_403(unchanged: Qorus) -> None:
    q = unchanged
    for who in (VIEWER, OPERATOR):
        for method, path, body in CHANGES:
            if who == OPERATOR and path.startswith(("groups", "system")):
                continue  # the operator holds GROUP-CONTROL (see below); RELOAD-RBAC not
            r = _send(q, method, path, who, body)
            assert r.status_code == 403, (who[0], method, path, r.text)
            assert r.json()["err"] == "AUTHORIZATION-ERROR", r.text
    r = _send(q, "PUT", "system?action=reloadRbac", OPERATOR)
    assert r.status_code == 403
    # reads need LOGIN only
    for path in ("users", "users/admin", "roles", "perms", "groups", "groups/G1"):
        assert _send(q, "GET", path, VIEWER).status_code == 200, path
    me = _send(q, "GET", "users?action=current", VIEWER).json()
    assert me["username"] == "viewer" and "ADD-USER" not in me["permissions"]
    # the admin's password still logs in: the viewer could not change it
    assert _send(q, "GET", "system/ping", ADMIN).status_code == 200


def test_over_rpc_a_user_without_the_permission_gets_the_fault(unchanged: Qorus) -> None:
    q = unchanged
    user, pw = VIEWER
    with xmlrpc.client.ServerProxy(f"http://{user}:{pw}@127.0.0.1:{q.port}/RPC2") as p:
        for method, params in (
            ("omq.system.add-user", ("mallory", SECRET, "x", ["superuser"])),
            ("omq.system.update-user", ("admin", {"pass": SECRET})),
            ("omq.system.delete-user", ("admin",)),
            ("omq.system.add-role", ("evil", "x", ["LOGIN"], [])),
            ("omq.system.group.create", ("EVIL", "x")),
            ("omq.system.group.set-status", ("G1", False)),
            ("omq.system.group.delete", ("G1",)),
            ("omq.system.reload-rbac", ()),
        ):
            with pytest.raises(xmlrpc.client.Fault) as info:
                getattr(p, method)(*params)
            assert info.value.faultCode == -32003, method
            assert info.value.faultString.startswith("AUTHORIZATION-ERROR"), method
            assert SECRET not in info.value.faultString
        assert isinstance(getattr(p, "omq.system.get-all-users")(), list)


def test_a_password_in_the_query_string_is_refused(unchanged: Qorus) -> None:
    q = unchanged
    for method, path in (
        ("POST", f"users?username=mallory&roles=read-only&pass={SECRET}"),
        ("POST", f"users?username=mallory&roles=read-only&password={SECRET}"),
        ("PUT", f"users/viewer?pass={SECRET}"),
        ("PUT", f"users/viewer?action=update&password={SECRET}"),
    ):
        r = _send(q, method, path, ADMIN)
        assert r.status_code == 400, (path, r.text)
        assert "query string" in r.json()["desc"]


def test_hostile_arguments_are_400_and_change_nothing(unchanged: Qorus) -> None:
    q = unchanged
    good = {"username": "eve", "pass": SECRET, "roles": "read-only"}
    for body, arg in (
        ({**good, "username": "u" * 10_000}, "username"),
        ({**good, "username": "a\x00b"}, "username"),
        ({**good, "username": ["eve"]}, "username"),
        ({**good, "username": {"a": 1}}, "username"),
        ({**good, "pass": ["x"]}, "pass"),
        ({**good, "pass": 12345678}, "pass"),
        ({**good, "pass": "p" * 5000}, "pass"),
        ({**good, "roles": DEEP}, None),  # refused whole: nested beyond the body limits
        ({**good, "roles": [["read-only"]]}, "roles"),
        ({**good, "roles": ["r"] * 5000}, "roles"),
        ({**good, "name": "n" * 241}, "name"),
        ({**good, "name": True}, "name"),
        ({**good, "bogus": 1}, "bogus"),
        ({**good, "username": "bad:name"}, None),
        ({**good, "pass": "weak"}, None),
    ):
        r = _send(q, "POST", "users", ADMIN, body)
        assert r.status_code == 400, (arg, r.text[:300])
        if arg is not None:
            assert arg in r.json()["desc"], (arg, r.text[:300])
    r = _send(q, "POST", "users", ADMIN, ["not", "a", "hash"])
    assert r.status_code == 400
    for method, path, body in (
        ("POST", "roles", {"role": "r" * 81, "desc": "x"}),
        ("POST", "roles", {"role": "r", "desc": "x", "permissions": {"a": 1}}),
        ("PUT", "roles/read-only", {"permissions": "+LOGIN,-SHUTDOWN,LOGIN"}),
        ("POST", "perms", {"name": "P", "desc": "d" * 241}),
        ("POST", "groups", {"group": "G", "desc": "x", "workflows": ["w" * 300]}),
        ("POST", "groups", {"group": "G", "desc": "x", "enabled": "maybe"}),
        ("PUT", "groups/G1", {"jobs": 5.5}),
        ("PUT", "groups/G1", {"jobs": [2**63]}),
        ("PUT", "groups/G1", {}),
        ("PUT", "groups/G1?action=setStatus", {"enabled": [1]}),
        ("PUT", f"users/{'u' * 200}", {"name": "x"}),
    ):
        r = _send(q, method, path, ADMIN, body)
        assert r.status_code == 400, (path, body, r.text[:300])
    # unknown objects: 404; duplicates and objects in use: 409
    for method, path, body, status in (
        ("PUT", "users/nobody", {"name": "x"}, 404),
        ("DELETE", "users/nobody", None, 404),
        ("GET", "roles/nobody", None, 404),
        ("POST", "users", {**good, "roles": "no-such-role"}, 404),
        ("POST", "roles", {"role": "r", "desc": "x", "groups": "NOGROUP"}, 404),
        ("PUT", "groups/NOGROUP?action=enable", None, 404),
        ("POST", "users", {**good, "username": "viewer"}, 409),
        ("DELETE", "roles/read-only", None, 409),
        ("PUT", "perms/LOGIN", {"desc": "mine"}, 409),
        ("DELETE", "users/admin", None, 409),  # the caller itself
    ):
        r = _send(q, method, path, ADMIN, body)
        assert r.status_code == status, (method, path, r.text[:300])
        assert r.json()["err"] and r.json()["desc"]


def test_the_default_group_cannot_change(unchanged: Qorus) -> None:
    q = unchanged
    for method, path, body in (
        ("PUT", "groups/DEFAULT?action=disable", None),
        ("PUT", "groups/DEFAULT?action=setStatus", {"enabled": False}),
        ("PUT", "groups/DEFAULT", {"desc": "mine"}),
        ("DELETE", "groups/DEFAULT", None),
    ):
        r = _send(q, method, path, ADMIN, body)
        assert r.status_code == 403 and "DEFAULT" in r.json()["desc"], (path, r.text)
    info = _send(q, "GET", "groups/DEFAULT", ADMIN).json()
    assert info["enabled"] and info["id"] == 0


def test_a_new_password_ends_tokens_and_no_password_is_kept_anywhere(
    env: tuple[Qorus, Engine, Path],
) -> None:
    q, engine, root = env
    r = _send(q, "POST", "users", ADMIN, {"username": "tess", "pass": SECRET, "roles": "read-only"})
    assert r.status_code == 201, r.text
    r = httpx.post(f"{q.url}/api/public/login", json={"user": "tess", "pass": SECRET}, timeout=30)
    token = r.json()["token"]
    headers = {"Qorus-Token": token}
    assert httpx.get(f"{q.url}/api/latest/system/ping", headers=headers).status_code == 200
    new = SECRET + "2"
    r = _send(q, "PUT", "users/tess", ADMIN, {"pass": new})
    assert r.status_code == 200 and r.json()["tokens_ended"] == 1
    assert httpx.get(f"{q.url}/api/latest/system/ping", headers=headers).status_code == 401
    assert _send(q, "GET", "system/ping", ("tess", SECRET)).status_code == 401
    assert _send(q, "GET", "system/ping", ("tess", new)).status_code == 200
    r = _send(q, "DELETE", "users/tess", ADMIN)
    assert r.status_code == 200
    # the passwords were audited masked and logged nowhere
    with engine.connect() as conn:
        rows = conn.execute(select(t.audit_events.c.info2)).scalars().all()
    assert any("users.add" in str(r) or "tess" in str(r) for r in rows)
    assert not any(SECRET in str(r) for r in rows)
    for log in (root / "log").rglob("*"):
        if log.is_file():
            assert SECRET not in log.read_text(errors="replace"), log
