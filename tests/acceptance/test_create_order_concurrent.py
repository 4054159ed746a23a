"""createOrder under concurrent load against one real ``qorus`` (issue 17): REST and
JSON-RPC callers at once, plain orders (which PostgreSQL writes together in one statement)
mixed with orders that carry keys (written one by one): every caller gets its own order with
its own data, none is lost or doubled, and every one runs to COMPLETE."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import Qorus, api, new_omq, put, running
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine, make_url

from qorus_core.db import tables as t
from qorus_core.db.engine import create_system_engine

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]
DATA = Path(__file__).parent / "data" / "wf"
CLIENTS = 8
EACH = 24


@pytest.fixture(scope="module")
def env(
    db_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Qorus, Engine]]:
    omq = new_omq(tmp_path_factory.mktemp("concurrent"), db_factory, DATA)
    url = (omq / "etc" / "options").read_text().split("=", 1)[1].strip()
    engine = create_system_engine(make_url(url))
    try:
        with running(omq) as q:
            yield q, engine
    finally:
        engine.dispose()


def _rest(c: httpx.Client, q: Qorus, body: dict[str, Any]) -> int:
    r = c.post(api(q, "workflows/ACC-SIMPLE?action=createOrder"), json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["workflow_instanceid"])


def _rpc(c: httpx.Client, q: Qorus, body: dict[str, Any]) -> int:
    call = {"jsonrpc": "2.0", "id": 1, "method": "omq.system.create-order"}
    r = c.post(f"{q.url}/JSON", json={**call, "params": ["ACC-SIMPLE", body]})
    assert r.status_code == 200, r.text
    return int(r.json()["result"]["workflow_instanceid"])


def test_concurrent_callers_each_get_their_own_order(env: tuple[Qorus, Engine]) -> None:
    q, engine = env
    with httpx.Client(timeout=60) as c:
        _rest(c, q, {"staticdata": {"ref": "warm"}})  # the workflow is looked up once
    sent: dict[int, str] = {}
    lock = threading.Lock()
    failures: list[BaseException] = []

    def client(n: int) -> None:
        try:
            with httpx.Client(timeout=60) as c:
                for i in range(EACH):
                    ref = f"c{n}-{i}"
                    body: dict[str, Any] = {"staticdata": {"ref": ref}}
                    if i % 6 == 5:  # an order with keys: written on its own
                        body["orderkeys"] = {"ref": ref}
                    wfiid = (_rpc if (n + i) % 2 else _rest)(c, q, body)
                    with lock:
                        assert wfiid not in sent, f"order {wfiid} given twice"
                        sent[wfiid] = ref
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not failures, failures[0]
    assert len(sent) == CLIENTS * EACH
    wi, oi = t.workflow_instance, t.order_instance
    with engine.connect() as conn:
        stored = {
            int(i): json.loads(s)["ref"]
            for i, s in conn.execute(
                select(oi.c.workflow_instanceid, oi.c.staticdata).where(
                    oi.c.workflow_instanceid.in_(list(sent))
                )
            )
        }
        total = conn.execute(select(func.count()).select_from(wi)).scalar_one()
    assert stored == sent
    assert total == len(sent) + 1  # and the warm-up order: nothing else was written
    put(q, "workflows/ACC-SIMPLE?action=start")
    deadline = time.monotonic() + 120
    while True:
        with engine.connect() as conn:
            done = conn.execute(
                select(func.count()).select_from(wi).where(wi.c.workflowstatus == "C")
            ).scalar_one()
        if done == total:
            break
        assert time.monotonic() < deadline, f"{done} of {total} orders COMPLETE"
        time.sleep(0.2)
    put(q, "workflows/ACC-SIMPLE?action=stop")


@pytest.mark.parametrize("codes", ["api", "workflow-data"])
def test_audited_orders_commit_with_their_audit_rows(
    db_factory: Any, tmp_path: Path, codes: str
) -> None:
    """With auditing on, every createOrder (the workflow cached or not) writes its audit row
    in the order's own transaction: the shared insert is not used for them."""
    omq = new_omq(tmp_path, db_factory, DATA)
    url = (omq / "etc" / "options").read_text().split("=", 1)[1].strip()
    engine = create_system_engine(make_url(url))
    ae, codes_t = t.audit_events, t.audit_event_codes
    name = {"api": "API-CALL", "workflow-data": "WORKFLOW-DATA-CREATED"}[codes]
    try:
        with running(omq, f"audit={codes}") as q, httpx.Client(timeout=60) as c:
            made = [_rest(c, q, {"staticdata": {"ref": f"a{i}"}}) for i in range(3)]
        with engine.connect() as conn:
            audited = set(
                conn.execute(
                    select(ae.c.audit_eventid, ae.c.workflow_instanceid, ae.c.info2)
                    .join(codes_t, codes_t.c.audit_event_code == ae.c.audit_event_code)
                    .where(codes_t.c.name == name)
                ).all()
            )
    finally:
        engine.dispose()
    if codes == "workflow-data":
        assert sorted(int(i) for _, i, _ in audited) == sorted(made)
    else:
        assert [op for _, _, op in audited].count("workflows.create-order") == 3


def test_orders_after_the_database_dropped_every_connection(
    env: tuple[Qorus, Engine], db_kind: str
) -> None:
    """The shared insert's connections cut by the database (a restart, a failover,
    ``pg_terminate_backend``): the next orders are created all the same, none twice."""
    if db_kind != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's; run with --db postgresql")
    q, engine = env
    with httpx.Client(timeout=60) as c:
        first = _rest(c, q, {"staticdata": {"ref": "before"}})
        with engine.connect() as conn:
            cut = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
        assert cut >= 1
        made = [_rest(c, q, {"staticdata": {"ref": f"after{i}"}}) for i in range(5)]
    assert len(set(made)) == 5 and min(made) > first
    with engine.connect() as conn:
        refs = sorted(
            json.loads(s)["ref"]
            for s in conn.execute(
                select(t.order_instance.c.staticdata).where(
                    t.order_instance.c.workflow_instanceid.in_(made)
                )
            ).scalars()
        )
    assert refs == [f"after{i}" for i in range(5)]
