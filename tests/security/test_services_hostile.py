"""Service calls and service control from a hostile or careless caller, against one real server
with RBAC on: huge, deep and non-finite arguments, wrong types, NUL characters, unknown
services and methods, internal methods, the wrong service type, no login, a wrong password,
users without the call permission (CALL-USER-SERVICES-RW, or even -RO), without the
SERVICE-CONTROL permissions, and without the interface group of the service.

Each is answered with a clear 4xx (``{err, desc}``, no database words), and afterwards the
services' flags, state data and call statistics are exactly as they were."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import Qorus, free_port, tool
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.engine import create_system_engine

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

DATA = Path(__file__).resolve().parents[1] / "acceptance" / "data" / "svc"
ADMIN = ("admin", "Adm1n-Secret")
VIEWER = ("viewer", "V1ew-Secret")  # read-only: LOGIN, CALL-USER-SERVICES-RO
MAINT = ("maint", "Ma1nt-Secret")  # maintenance: no service call permission at all
OUTSIDER = ("outsider", "0utsider-Secret")  # CALL-USER-SERVICES-RW, but not the service's group
MAX_ANSWER = 1000
LEAKS = re.compile(r"bigint|LIMIT|psycopg|pymysql|sqlalchemy|sqlite3|SQL|Traceback|\(0x00\)")


class Setup:
    def __init__(self, q: Qorus, engine: Engine) -> None:
        self.q = q
        self.engine = engine
        self.api = f"{q.url}/api/latest"

    def call(self, method: str, path: str, auth: Any = ADMIN, **kw: Any) -> httpx.Response:
        return httpx.request(method, f"{self.api}/{path}", auth=auth, timeout=60, **kw)

    def snapshot(self) -> Any:
        """The services' rows and state data in the database, and what the server says of
        their status and call statistics."""
        sv, ss = t.services, t.service_state_data
        with self.engine.connect() as conn:
            rows = [
                tuple(r)
                for r in conn.execute(
                    select(sv.c.name, sv.c.autostart, sv.c.enabled, sv.c.modified).order_by(
                        sv.c.serviceid
                    )
                )
            ]
            state = [tuple(r) for r in conn.execute(select(ss.c.serviceid, ss.c.data))]
        listed = self.call("GET", "services").json()
        status = sorted(
            (s["name"], s["status"], s["stats"]["calls"], s["stats"]["errors"]) for s in listed
        )
        return rows, state, status


@pytest.fixture(scope="module")
def setup(db_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    base = tmp_path_factory.mktemp("svchostile")
    root = base / "omq"
    for sub in ("etc", "log", "user", "var"):
        (root / sub).mkdir(parents=True)
    db_url = db_factory.fresh()
    url = db_url.render_as_string(hide_password=False)
    (root / "etc" / "options").write_text(f"qorus.systemdb = {url}\n")
    shutil.copytree(DATA, base / "data")
    d = ["--qorus-dir", str(root)]
    res = tool("oload", *d, str(base / "data"))
    assert res.returncode == 0, res.stderr + res.stdout
    steps = [
        ("-g", "elsewhere:desc=no services"),
        ("-R", 'outsiders:"callers of other groups":LOGIN,CALL-USER-SERVICES-RW:elsewhere'),
    ]
    for name, pw, role in [
        (*ADMIN, "superuser"),
        (*VIEWER, "read-only"),
        (*MAINT, "maintenance"),
        (*OUTSIDER, "outsiders"),
    ]:
        steps.append(("-A", f"{name},{pw},{role},{name}"))
    for flag, value in steps:
        res = tool("user_tool", *d, flag, value)
        assert res.returncode == 0, res.stderr + res.stdout
    q = Qorus(root, free_port(), ["rbac-security=true"])
    engine = create_system_engine(db_url)
    try:
        q.wait_ready(auth=ADMIN)
        yield Setup(q, engine)
    finally:
        q.kill()
        engine.dispose()


def _refused(r: httpx.Response, status: int, code: str | None = None, *names: str) -> None:
    assert r.status_code == status, r.text[:MAX_ANSWER]
    assert len(r.content) < MAX_ANSWER, r.text[:MAX_ANSWER]
    assert not LEAKS.search(r.text), r.text[:MAX_ANSWER]
    body = r.json()
    assert body["err"] and body["desc"], body
    assert body["err"] not in ("DB-ERROR", "INTERNAL-ERROR"), body
    if code is not None:
        assert body["err"] == code, body
    for name in names:
        assert name in body["desc"], body["desc"]


def _json(body: Any) -> dict[str, Any]:
    return {
        "content": json.dumps(body, allow_nan=True),
        "headers": {"content-type": "application/json"},
    }


COUNT = "services/acc-svc/count?action=call"
HELLO = "services/acc-svc/hello?action=call"


def test_allowed_calls_work(setup: Setup) -> None:
    """The baseline: the admin calls everything, the read-only user the read method."""
    assert setup.call("PUT", HELLO, json={"args": "admin"}).json() == "hello admin"
    assert setup.call("PUT", HELLO, auth=VIEWER, json={"args": "viewer"}).json() == "hello viewer"
    assert setup.call("PUT", COUNT).json() == 1
    # the outsider does not see the service: the list hides it
    names = [s["name"] for s in setup.call("GET", "services", auth=OUTSIDER).json()]
    assert "acc-svc" not in names and "info" in names


def test_hostile_arguments(setup: Setup) -> None:
    before = setup.snapshot()
    deep: Any = 1
    for _ in range(80):
        deep = [deep]
    for body, names in [
        ({"args": float("nan")}, ["'args'"]),
        ({"args": [1, float("inf")]}, ["'args'"]),
        ({"args": deep}, ["'args'"]),  # deeper than data may be (64 levels)
        ({"servicetype": "BOGUS"}, ["'servicetype'"]),
        ({"servicetype": 5}, ["'servicetype'"]),
        ({"servicetype": ["USER"]}, ["'servicetype'"]),
        ({"servicetype": "USER\x00"}, ["'servicetype'"]),
        ({"no-such-argument": 1}, ["no-such-argument"]),
    ]:
        _refused(setup.call("PUT", COUNT, **_json(body)), 400, None, *names)
    # nested beyond what a request body may be: refused whole
    _refused(setup.call("PUT", COUNT, content="[" * 5000 + "]" * 5000), 400)
    # larger than a request body may be
    huge = {"args": ["x" * (9 * 1024 * 1024)]}
    r = setup.call("PUT", COUNT, **_json(huge))
    _refused(r, 413)
    # names in the path: NUL, too long, beyond 64 bits
    _refused(setup.call("PUT", "services/acc%00svc/count?action=call"), 400, None, "'id'")
    _refused(setup.call("PUT", "services/acc-svc/co%00unt?action=call"), 400, None, "'method'")
    _refused(setup.call("PUT", f"services/{'s' * 5000}/count?action=call"), 400, None, "'id'")
    _refused(setup.call("PUT", f"services/acc-svc/{'m' * 500}?action=call"), 400, None, "method")
    _refused(setup.call("PUT", "services/9223372036854775808/count?action=call"), 400)
    # unknown services, methods, versions; the wrong service type
    _refused(setup.call("PUT", "services/nosuch/count?action=call"), 404, "SERVICE-ERROR")
    _refused(setup.call("PUT", "services/999999/count?action=call"), 404, "SERVICE-ERROR")
    _refused(setup.call("PUT", "services/acc-svc:9.9/count?action=call"), 404, "SERVICE-ERROR")
    _refused(setup.call("PUT", "services/acc-svc/nosuch?action=call"), 404, "SERVICE-NO-METHOD")
    r = setup.call("PUT", COUNT, json={"servicetype": "SYSTEM"})
    _refused(r, 404, "SERVICE-ERROR")
    # an internal method, from outside
    r = setup.call("PUT", "services/acc-svc/secret?action=call")
    _refused(r, 403, "INTERNAL-METHOD-ERROR")
    # a call in the wrong HTTP method or form
    _refused(setup.call("GET", COUNT), 405)
    _refused(setup.call("DELETE", COUNT), 405)
    assert setup.snapshot() == before


def test_unauthenticated_and_unauthorized_callers(setup: Setup) -> None:
    before = setup.snapshot()
    _refused(setup.call("PUT", COUNT, auth=None), 401)
    _refused(setup.call("PUT", COUNT, auth=("admin", "wrong")), 401)
    _refused(setup.call("PUT", COUNT, auth=("a\x00b", "x")), 401)
    # read-only: a write method needs CALL-USER-SERVICES-RW
    _refused(setup.call("PUT", COUNT, auth=VIEWER), 403, "AUTHORIZATION-ERROR", "RW")
    # maintenance: no call permission at all, not even for a read method
    _refused(setup.call("PUT", HELLO, auth=MAINT), 403, "AUTHORIZATION-ERROR")
    _refused(setup.call("PUT", "services/info/getOptions?action=call", auth=MAINT), 403)
    # the outsider holds the permission but not the service's interface group
    _refused(setup.call("PUT", COUNT, auth=OUTSIDER), 403, "AUTHORIZATION-ERROR")
    _refused(setup.call("GET", "services/acc-svc", auth=OUTSIDER), 403)
    # service control needs the SERVICE-CONTROL permissions
    for action, body in [
        ("load", {}),
        ("unload", {}),
        ("reset", {}),
        ("enable", {}),
        ("disable", {}),
        ("setAutostart", {"autostart": False}),
        ("resetStats", {}),
    ]:
        r = setup.call("PUT", f"services/acc-svc?action={action}", auth=VIEWER, json=body)
        _refused(r, 403, "AUTHORIZATION-ERROR")
    for action in ("load", "unload", "reset"):
        r = setup.call("PUT", f"services?action={action}", auth=VIEWER, json={"ids": "acc-svc"})
        _refused(r, 403, "AUTHORIZATION-ERROR")
    _refused(setup.call("PUT", "services?action=resetAll", auth=VIEWER), 403)
    assert setup.snapshot() == before


def test_an_autostart_service_that_failed_stays_unloaded_and_answers_clearly(
    setup: Setup,
) -> None:
    """acc-bad's init() raises: each call tries to load it, fails clearly and changes nothing."""
    before = setup.snapshot()
    r = setup.call("PUT", "services/acc-bad/ping?action=call")
    _refused(r, 409, "SERVICE-LOAD-ERROR", "acc-bad cannot start")
    r = setup.call("PUT", "services/acc-bad?action=load")
    _refused(r, 409, "SERVICE-LOAD-ERROR")
    assert setup.snapshot() == before
    assert setup.call("GET", "system/ping").json() == "OK"
