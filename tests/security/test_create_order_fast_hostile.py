"""createOrder's shortcut on the event loop (issue 17) from hostile or careless callers: once
the workflow is cached, the shortcut still refuses a caller without a login, without
SUBMIT-ORDER or whose interface groups hide the workflow, and arguments of the wrong type, out
of range, unknown, too deep or too big, over REST and JSON-RPC alike; each with the right 4xx,
no database words, and no order written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hostile_http import ADMIN, VIEWER, rbac_server
from qorus_proc import Qorus, free_port, new_omq, tool
from sqlalchemy import func, select
from sqlalchemy.engine import Engine, make_url

from qorus_core.db import tables as t
from qorus_core.db.engine import create_system_engine

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

GROUPED = ("grouped", "Gr0uped-Secret")  # SUBMIT-ORDER, but only group G1 (not the workflow)
PATH = "/api/latest/workflows/ACC-SIMPLE?action=createOrder"
DEEP: Any = {"x": 1}
for _ in range(300):
    DEEP = {"x": DEEP}


@pytest.fixture(scope="module")
def env(
    db_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Qorus, Engine]]:
    from test_create_order_concurrent import DATA

    omq = new_omq(tmp_path_factory.mktemp("fasthostile"), db_factory, DATA)
    d = ["--qorus-dir", str(omq)]
    for args in (
        ["-g", "G1:desc=one"],
        ["-R", 'submitter:"submits":LOGIN,SUBMIT-ORDER:G1'],
        ["-A", f"{GROUPED[0]},{GROUPED[1]},submitter"],
    ):
        res = tool("user_tool", *d, *args)
        assert res.returncode == 0, res.stderr
    url = (omq / "etc" / "options").read_text().split("=", 1)[1].strip()
    engine = create_system_engine(make_url(url))
    started: list[Qorus] = []

    def start(root: Any, *overrides: str, ready: bool = True) -> Qorus:
        q = Qorus(root, free_port(), overrides)
        started.append(q)
        return q

    try:
        q = rbac_server(omq, start)
        r = httpx.post(q.url + PATH, json={"staticdata": {}}, auth=ADMIN, timeout=30)
        assert r.status_code == 201, r.text  # the workflow is cached from here on
        yield q, engine
    finally:
        engine.dispose()
        for q in started:
            q.kill()


def _orders(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.workflow_instance)).scalar_one())


@pytest.fixture
def nothing_written(env: tuple[Qorus, Engine]) -> Iterator[Qorus]:
    q, engine = env
    before = _orders(engine)
    yield q
    assert _orders(engine) == before


def _refused(r: httpx.Response, status: int, err: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert not any(w in r.text for w in ("psycopg", "pymysql", "sqlite3", "Traceback"))
    body: dict[str, Any] = r.json()
    if err is not None:
        assert body["err"] == err, body
    return body


@pytest.mark.parametrize(
    ("auth", "status", "err"),
    [
        (None, 401, None),
        (VIEWER, 403, "AUTHORIZATION-ERROR"),
        (GROUPED, 403, "AUTHORIZATION-ERROR"),
    ],
)
def test_callers_without_the_right_are_refused_over_rest(
    nothing_written: Qorus, auth: Any, status: int, err: str | None
) -> None:
    r = httpx.post(nothing_written.url + PATH, json={"staticdata": {}}, auth=auth, timeout=30)
    _refused(r, status, err)


@pytest.mark.parametrize("auth", [VIEWER, GROUPED])
def test_callers_without_the_right_are_refused_over_json_rpc(
    nothing_written: Qorus, auth: Any
) -> None:
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "omq.system.create-order",
        "params": ["ACC-SIMPLE", {"staticdata": {}}],
    }
    r = httpx.post(nothing_written.url + "/JSON", json=call, auth=auth, timeout=30)
    assert r.status_code in (200, 403), r.text
    assert "error" in r.json() and "result" not in r.json(), r.text


@pytest.mark.parametrize(
    ("body", "err"),
    [
        ({"staticdata": ["a", "list"]}, "ORDER-DATA-ERROR"),
        ({"staticdata": "text"}, "ORDER-DATA-ERROR"),
        ({"staticdata": {}, "priority": 1000}, "ORDER-DATA-ERROR"),
        ({"staticdata": {}, "priority": "high"}, "ORDER-DATA-ERROR"),
        ({"staticdata": {}, "status": "COMPLETE"}, "ORDER-DATA-ERROR"),
        ({"staticdata": {}, "scheduled": "not a date"}, "ORDER-DATA-ERROR"),
        ({"staticdata": {}, "external_order_instanceid": "x" * 10_000}, "ORDER-DATA-ERROR"),
        ({"staticdata": {}, "bogus": 1}, None),
        ({"staticdata": {}, "name": "ACC-SIMPLE"}, None),  # path id and name: one of them
    ],
)
def test_bad_arguments_are_400(nothing_written: Qorus, body: Any, err: str | None) -> None:
    r = httpx.post(nothing_written.url + PATH, json=body, auth=ADMIN, timeout=30)
    _refused(r, 400, err)


def test_too_deep_and_too_big_bodies(nothing_written: Qorus) -> None:
    url = nothing_written.url + PATH
    r = httpx.post(url, json={"staticdata": DEEP}, auth=ADMIN, timeout=30)
    assert r.status_code in (400, 413), r.text
    huge = json.dumps({"staticdata": {"blob": "x" * (64 * 1024 * 1024)}})
    r = httpx.post(
        url, content=huge, headers={"content-type": "application/json"}, auth=ADMIN, timeout=60
    )
    _refused(r, 413)
