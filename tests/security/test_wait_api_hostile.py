"""The async-queues and sync-events operations from a hostile or careless caller, against one
real server with RBAC on: keys too long or of the wrong type, NUL characters, data too large,
too deep or not finite, negative and huge limits, no login, a user without SUBMIT-ORDER or
POST-WORKFLOW-EVENT, unknown queues, event types and keys, odd paths.

Each is answered with a clear 4xx (``{err, desc}`` naming the argument, no database words), and
afterwards the queue entries, the events and the waiting orders in the database are exactly as
they were."""

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
from sqlalchemy.engine import URL, Engine

from qorus_core.db import tables as t
from qorus_core.db import waits
from qorus_core.db.engine import create_system_engine
from qorus_core.db.interfaces import workflow_steps
from qorus_core.db.orders import create_order
from qorus_core.db.refdata import now
from qorus_core.db.wfdefs import find_workflow
from qorus_core.model.status import OrderStatus as S

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

DATA = Path(__file__).resolve().parents[1] / "acceptance" / "data" / "wf"
ADMIN = ("admin", "Adm1n-Secret")
VIEWER = ("viewer", "V1ew-Secret")  # read-only: LOGIN
REMOTE = ("remote", "Rem0te-Secret")  # remote: LOGIN, SUBMIT-ORDER, no POST-WORKFLOW-EVENT
MAX_ANSWER = 800
LEAKS = re.compile(r"bigint|LIMIT|psycopg|pymysql|sqlalchemy|sqlite3|SQL|Traceback|\(0x00\)")

#: every changing call, with valid arguments: refused for a reason other than the arguments
CHANGES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "async-queues/WQ?action=update", {"key": "k-wait", "data": {"a": 1}}),
    ("POST", "async-queues/WQ?action=cancel", {"key": "k-wait"}),
    ("PUT", "async-queues/WQ?action=key", {"oldkey": "k-wait", "newkey": "k-new"}),
    ("PUT", "sync-events/WEV?action=post", {"eventkey": "e-bound"}),
    ("PUT", "sync-events/WEV/e-bound?action=post", {}),
]
READS = [
    "async-queues",
    "async-queues/WQ",
    "async-queues/WQ?action=info&key=k-wait",
    "async-queues/WQ?action=qinfo",
    "async-queues/WQ?action=status",
    "sync-events",
    "sync-events?action=events",
    "sync-events/WEV",
    "sync-events/WEV?action=events",
    "sync-events/WEV/e-bound",
]


class Setup:
    def __init__(self, q: Qorus, engine: Engine) -> None:
        self.q = q
        self.engine = engine
        self.api = f"{q.url}/api/latest"

    def call(self, method: str, path: str, auth: Any = ADMIN, **kw: Any) -> httpx.Response:
        return httpx.request(method, f"{self.api}/{path}", auth=auth, timeout=30, **kw)

    def snapshot(self) -> Any:
        """Queue entries, events, bindings and the waiting orders, read from the database."""
        qd, ev, sie, wi = (
            t.queue_data,
            t.workflow_events,
            t.step_instance_events,
            t.workflow_instance,
        )
        with self.engine.connect() as conn:
            return (
                [
                    tuple(r)
                    for r in conn.execute(
                        select(
                            qd.c.queueid, qd.c.queuekey, qd.c.queue_data_status, qd.c.data
                        ).order_by(qd.c.queue_dataid)
                    )
                ],
                [
                    tuple(r)
                    for r in conn.execute(
                        select(ev.c.eventkey, ev.c.posted, ev.c.modified).order_by(ev.c.eventkey)
                    )
                ],
                [tuple(r) for r in conn.execute(select(sie.c.workflow_instanceid, sie.c.eventkey))],
                [
                    tuple(r)
                    for r in conn.execute(
                        select(
                            wi.c.workflow_instanceid, wi.c.workflowstatus, wi.c.retry_trigger
                        ).order_by(wi.c.workflow_instanceid)
                    )
                ],
            )


def _prepare(url: URL) -> Engine:
    """Two orders of ACC-SIMPLE whose first step waits: one on key ``k-wait`` of queue WQ,
    one on event ``e-bound`` of type WEV; a third entry ``k-done`` already RECEIVED."""
    engine = create_system_engine(url)
    with engine.begin() as conn:
        wfid = find_workflow(conn, "ACC-SIMPLE")
        stepid = int(workflow_steps(conn, wfid)[0]["stepid"])
        queueid = waits.find_queue(conn, "WQ")["queueid"]
        typeid = waits.find_event_type(conn, "WEV")["id"]
    a, b, c = (create_order(engine, wfid, {"ref": f"w{n}"}) for n in range(3))
    ts = now()
    with engine.begin() as conn:
        waits.submit_key(conn, queueid, a, stepid, 0, "k-wait", ts)
        waits.submit_key(conn, queueid, c, stepid, 0, "k-done", ts)
        waits.update_data(conn, queueid, "k-done", {"done": True})
        waits.bind_event(conn, typeid, "e-bound", b, stepid, 0, ts)
        wi = t.workflow_instance
        for wfiid, status in ((a, S.ASYNC_WAITING), (b, S.EVENT_WAITING)):
            conn.execute(
                wi.update().where(wi.c.workflow_instanceid == wfiid).values(workflowstatus=status)
            )
    return engine


@pytest.fixture(scope="module")
def setup(db_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    base = tmp_path_factory.mktemp("waitapi")
    root = base / "omq"
    for sub in ("etc", "log", "user", "var"):
        (root / sub).mkdir(parents=True)
    db_url = db_factory.fresh()
    url = db_url.render_as_string(hide_password=False)
    (root / "etc" / "options").write_text(f"qorus.systemdb = {url}\n")
    shutil.copytree(DATA, base / "data")
    (base / "data" / "WQ.qqueue.yaml").write_text("type: queue\nname: WQ\ndesc: a queue\n")
    (base / "data" / "WEV.qevent.yaml").write_text("type: event\nname: WEV\ndesc: an event\n")
    d = ["--qorus-dir", str(root)]
    res = tool("oload", *d, str(base / "data"))
    assert res.returncode == 0, res.stderr + res.stdout
    for name, pw, role in [(*ADMIN, "superuser"), (*VIEWER, "read-only"), (*REMOTE, "remote")]:
        res = tool("user_tool", *d, "-A", f"{name},{pw},{role},{name}")
        assert res.returncode == 0, res.stderr
    engine = _prepare(db_url)
    q = Qorus(root, free_port(), ["rbac-security=true"])
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


def _body(args: dict[str, Any]) -> dict[str, Any]:
    return {"content": json.dumps(args), "headers": {"content-type": "application/json"}}


def test_keys_too_long_of_the_wrong_type_or_with_nul(setup: Setup) -> None:
    before = setup.snapshot()
    long = "k" * 241
    for bad in (long, ["k-wait"], {"k": "k-wait"}, "k-\x00wait", True, None, ""):
        for method, path, args in [
            ("POST", "async-queues/WQ?action=update", {"key": bad, "data": 1}),
            ("POST", "async-queues/WQ?action=cancel", {"key": bad}),
            ("GET", "async-queues/WQ?action=info", {"key": bad}),
            ("PUT", "async-queues/WQ?action=key", {"oldkey": "k-wait", "newkey": bad}),
            ("PUT", "async-queues/WQ?action=key", {"oldkey": bad, "newkey": "k-new"}),
            ("PUT", "sync-events/WEV?action=post", {"eventkey": bad}),
            ("GET", "sync-events?action=events", {"eventkey": bad}),
        ]:
            if bad in (None, "") and "events?" in path:
                continue  # no key: every event
            name = next(k for k, v in args.items() if v is bad)
            _refused(setup.call(method, path, **_body(args)), 400, None, f"'{name}'")
    # in the query and in the path
    _refused(setup.call("POST", f"async-queues/WQ?action=cancel&key={long}"), 400, None, "'key'")
    _refused(setup.call("POST", "async-queues/WQ?action=cancel&key=k-%00wait"), 400, None, "'key'")
    _refused(setup.call("PUT", f"sync-events/WEV/{long}?action=post"), 400, None, "'eventkey'")
    _refused(setup.call("GET", f"sync-events/WEV/{long}"), 400, None, "'eventkey'")
    _refused(setup.call("PUT", "sync-events/WEV/e-%00bound/post"), 400, None, "'eventkey'")
    _refused(setup.call("GET", f"async-queues/{'q' * 161}"), 400, None, "'queue'")
    _refused(setup.call("GET", "sync-events/WEV%00"), 400, None, "'eventtype'")
    _refused(setup.call("GET", "sync-events/9223372036854775808"), 400, None, "'eventtype'")
    assert setup.snapshot() == before


def test_data_too_large_too_deep_or_not_finite(setup: Setup) -> None:
    before = setup.snapshot()
    path = "async-queues/WQ?action=update"
    # over http-max-body-size (8 MB): 413 before the body is read whole
    huge = json.dumps({"key": "k-wait", "data": "x" * (9 * 1024 * 1024)})
    r = setup.call("POST", path, content=huge, headers={"content-type": "application/json"})
    _refused(r, 413, "REQUEST-TOO-LARGE")
    # deeper than http-max-body-depth (100): the body is refused
    deep = '{"key": "k-wait", "data": ' + "[" * 200 + "]" * 200 + "}"
    r = setup.call("POST", path, content=deep, headers={"content-type": "application/json"})
    _refused(r, 400)
    # within the body limits but deeper than data may be stored (64)
    nested: Any = 1
    for _ in range(80):
        nested = [nested]
    _refused(
        setup.call("POST", path, **_body({"key": "k-wait", "data": nested})), 400, None, "data"
    )
    # NaN and Infinity, which JSON cannot answer
    for text in ("NaN", "Infinity", '{"a": -Infinity}', "[1, NaN]"):
        body = '{"key": "k-wait", "data": ' + text + "}"
        r = setup.call("POST", path, content=body, headers={"content-type": "application/json"})
        _refused(r, 400, None, "data")
    # no data at all
    _refused(setup.call("POST", path, **_body({"key": "k-wait"})), 400, None, "'data'")
    _refused(setup.call("POST", path, **_body({"key": "k-wait", "data": None})), 400, None, "data")
    # many nodes: over http-max-body-nodes (500000)
    many = json.dumps({"key": "k-wait", "data": [0] * 600_000})
    r = setup.call("POST", path, content=many, headers={"content-type": "application/json"})
    _refused(r, 400)
    assert setup.snapshot() == before


def test_negative_and_huge_limits(setup: Setup) -> None:
    before = setup.snapshot()
    for path in ("async-queues/WQ?action=qinfo", "sync-events?action=events"):
        for arg, value in (
            ("limit", "-1"),
            ("limit", str(2**70)),
            ("limit", "1e3"),
            ("limit", "NaN"),
            ("offset", "-5"),
            ("offset", "abc"),
        ):
            r = setup.call("GET", f"{path}&{arg}={value}")
            _refused(r, 400, None, f"'{arg}'")
        # a huge limit within 64 bits is capped, a huge offset answers nothing
        r = setup.call("GET", f"{path}&limit={2**62}")
        assert r.status_code == 200 and r.json(), r.text
        r = setup.call("GET", f"{path}&offset={2**62}")
        assert r.status_code == 200 and r.json() == [], r.text
    _refused(setup.call("GET", "async-queues/WQ?action=qinfo&status=BOGUS"), 400, None, "status")
    _refused(setup.call("GET", "sync-events?action=events&posted=maybe"), 400, None, "posted")
    assert setup.snapshot() == before


def test_without_login(setup: Setup) -> None:
    before = setup.snapshot()
    for path in READS:
        _refused(setup.call("GET", path, auth=None), 401, "AUTHENTICATION-ERROR")
    for method, path, args in CHANGES:
        _refused(setup.call(method, path, auth=None, **_body(args)), 401, "AUTHENTICATION-ERROR")
    # one wrong password only: failed logins are throttled per client address
    method, path, args = CHANGES[0]
    r = setup.call(method, path, auth=(ADMIN[0], "Wr0ng-pass-99"), **_body(args))
    _refused(r, 401, "AUTHENTICATION-ERROR")
    assert "Wr0ng-pass-99" not in r.text
    assert setup.snapshot() == before


def test_without_the_permission(setup: Setup) -> None:
    before = setup.snapshot()
    for method, path, args in CHANGES:
        r = setup.call(method, path, auth=VIEWER, **_body(args))
        _refused(r, 403, "AUTHORIZATION-ERROR", "viewer")
    # remote may submit data but not post events
    for method, path, args in CHANGES[3:]:
        r = setup.call(method, path, auth=REMOTE, **_body(args))
        _refused(r, 403, "AUTHORIZATION-ERROR", "POST-WORKFLOW-EVENT")
    assert setup.snapshot() == before
    # reads need a login only
    for path in READS:
        r = setup.call("GET", path, auth=VIEWER)
        assert r.status_code == 200, (path, r.text[:MAX_ANSWER])
    assert setup.snapshot() == before


def test_unknown_queues_event_types_and_keys(setup: Setup) -> None:
    before = setup.snapshot()
    for method, path, args, code in [
        ("GET", "async-queues/NOSUCH", {}, "UNKNOWN-QUEUE"),
        ("GET", "async-queues/999999?action=qinfo", {}, "UNKNOWN-QUEUE"),
        ("POST", "async-queues/NOSUCH?action=update", {"key": "k-wait", "data": 1}, None),
        ("POST", "async-queues/WQ?action=update", {"key": "nokey", "data": 1}, "INVALID-KEY"),
        ("POST", "async-queues/WQ?action=cancel", {"key": "nokey"}, "INVALID-KEY"),
        ("GET", "async-queues/WQ?action=info", {"key": "nokey"}, "INVALID-KEY"),
        ("PUT", "async-queues/WQ?action=key", {"oldkey": "nokey", "newkey": "x"}, "INVALID-KEY"),
        ("GET", "sync-events/NOSUCH", {}, "UNKNOWN-EVENT"),
        ("PUT", "sync-events/NOSUCH?action=post", {"eventkey": "e"}, "UNKNOWN-EVENT"),
        ("PUT", "sync-events/999999/e?action=post", {}, "UNKNOWN-EVENT"),
        ("GET", "sync-events/WEV/never-seen", {}, "UNKNOWN-EVENT-KEY"),
        ("GET", "async-queues/..%2F..%2Fsystem", {}, "NOT-FOUND"),
    ]:
        r = setup.call(method, path, **(_body(args) if args else {}))
        _refused(r, 404, code or "UNKNOWN-QUEUE")
    # not WAITING, or a key taken: refused too
    for method, path, args in [
        ("POST", "async-queues/WQ?action=update", {"key": "k-done", "data": 2}),
        ("POST", "async-queues/WQ?action=cancel", {"key": "k-done"}),
        ("PUT", "async-queues/WQ?action=key", {"oldkey": "k-done", "newkey": "k-x"}),
    ]:
        _refused(setup.call(method, path, **_body(args)), 400, "INVALID-STATUS")
    r = setup.call(
        "PUT", "async-queues/WQ?action=key", **_body({"oldkey": "k-wait", "newkey": "k-done"})
    )
    _refused(r, 409, "DUPLICATE-KEY")
    # an unknown argument and a wrong method
    r = setup.call(
        "POST", "async-queues/WQ?action=update", **_body({"key": "k-wait", "data": 1, "x": 1})
    )
    _refused(r, 400)
    _refused(setup.call("GET", "async-queues/WQ?action=update&key=k-wait&data=1"), 405)
    _refused(setup.call("GET", "sync-events/WEV?action=post&eventkey=e-bound"), 405)
    assert setup.snapshot() == before


def test_valid_calls_still_work(setup: Setup) -> None:
    """After all the refusals, the same calls with good arguments do their work (this test
    changes the data, so it runs last)."""
    r = setup.call("PUT", "sync-events/WEV/e-bound?action=post")
    assert r.status_code == 200 and r.json() is True, r.text
    r = setup.call("PUT", "sync-events/WEV/e-bound/post")
    assert r.status_code == 200 and r.json() is False, r.text
    assert setup.call("GET", "sync-events/WEV/e-bound").json()["posted"] is True
    r = setup.call(
        "PUT", "sync-events/WEV?action=post", auth=ADMIN, **_body({"eventkey": "k" * 240})
    )
    assert r.status_code == 200 and r.json() is True, r.text
    r = setup.call(
        "PUT",
        "async-queues/WQ?action=key",
        auth=REMOTE,
        **_body({"oldkey": "k-wait", "newkey": "k-2"}),
    )
    assert r.status_code == 200 and r.json() == "OK", r.text
    r = setup.call(
        "POST",
        "async-queues/WQ?action=update",
        auth=REMOTE,
        **_body({"key": "k-2", "data": {"n": 1}}),
    )
    assert r.status_code == 200 and r.json() == "OK", r.text
    info = setup.call("GET", "async-queues/WQ?action=info&key=k-2").json()
    assert info["queue_data_status"] == "RECEIVED" and info["data"] == {"n": 1}
    assert setup.call("GET", "async-queues/WQ?action=status").json() == {
        "ACC-SIMPLE/1.0": {"RECEIVED": 2}
    }
