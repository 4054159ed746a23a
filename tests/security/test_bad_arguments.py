"""Every argument of every REST operation, sent hostile values over real HTTP to a real server
with RBAC on, as superuser: strings for numbers, numbers beyond 64 bits, negative limits, NaN
and Infinity, NUL characters, huge strings, lists for scalars, hashes nested too deep.

Each answer must be a clear 400 naming the argument (or 404 / 409 from the operation), never a
500, never DB-ERROR and never the database's own words; afterwards the server still answers
and the orders are exactly as they were.

The kinds below classify each argument; an operation or argument missing from them fails the
test, so a new operation is walked as soon as it is registered.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from qorus_proc import Qorus, free_port, tool
from sqlalchemy.engine import URL

from qorus_core.db import waits
from qorus_core.db.engine import create_system_engine
from qorus_core.db.interfaces import workflow_steps
from qorus_core.db.orders import create_order
from qorus_core.db.refdata import now
from qorus_core.db.wfdefs import find_workflow
from qorus_server.api import REGISTRY

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

DATA = Path(__file__).resolve().parents[1] / "acceptance" / "data" / "wf"
ADMIN = ("admin", "Adm1n-Secret")
NAN, INF = float("nan"), float("inf")
DEEP: Any = {"a": 1}
for _ in range(100):
    DEEP = {"a": DEEP}

#: values no integer may take (each kind below adds its own out-of-range values)
BAD_INT_ITEM: list[Any] = [
    "abc",
    "12abc",
    "1e3",
    2**63,
    "9223372036854775808",
    -(2**70),
    NAN,
    INF,
    -INF,
    1.5,
    True,
    "1\x00",
    "9" * 5000,
]
BAD_INT = [*BAD_INT_ITEM, [1, 2], {"a": 1}]
BAD_TEXT_ITEM: list[Any] = ["a\x00b", NAN, INF, True]
BAD_TEXT = [*BAD_TEXT_ITEM, [1, 2], {"a": 1}]
BAD_HASH: list[Any] = ["[1, 2]", "{a: [", 5, [1], NAN, {"a": NAN}, {"a": -INF}, DEEP, "x" * 5000]
BAD_DATE: list[Any] = [
    "yesterday",
    "2024-13-01",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "2024-01-01\x00",
    "1" * 5000,
    5,
    NAN,
    [1],
    {"a": 1},
]
BAD_BOOL: list[Any] = ["maybe", "\x00", NAN, 1.5, [1], {"a": 1}, "t" * 5000]
#: lists are welcome where a list is expected: there their items are hostile
BAD_LIST = [[[1]], [{"a": 1}], {"a": 1}]

KINDS: dict[str, list[Any]] = {
    "id": [*BAD_INT, -1],
    "ids": [*BAD_INT_ITEM, *BAD_LIST, -1, "1,abc", [2**63], [-1], ",".join(["1"] * 10001)],
    "int>=0": [*BAD_INT, -1],
    "count": [*BAD_INT, 0, 1001],
    "autostart": [*BAD_INT, -1, 1001],
    "limit": [*BAD_INT, -1],
    "priority": [*BAD_INT, -1, 1000],
    "priority-clamped": BAD_INT,
    "bool": BAD_BOOL,
    "date": BAD_DATE,
    "text": [*BAD_TEXT, "x" * 5000],
    "text240": [*BAD_TEXT, "x" * 241],
    "key160": [*BAD_TEXT, "k" * 161],
    "text400": [*BAD_TEXT, "v" * 401],
    "version": [*BAD_TEXT, "9" * 500],
    "enum": [*BAD_TEXT, "BOGUS", "x" * 5000],
    "texts": [*BAD_TEXT_ITEM, *BAD_LIST, "a,b\x00", ["x" * 5000]],
    "statuses": [*BAD_TEXT_ITEM, *BAD_LIST, "BOGUS", "READY,BOGUS", [1, 2]],
    "wfref": [*BAD_TEXT, "9223372036854775808", 2**63, -1, "w" * 5000],
    "wfrefs": [*BAD_TEXT_ITEM, *BAD_LIST, "9223372036854775808", [2**63], [-1], ["w" * 5000]],
    "hash": BAD_HASH,
    "keys": [*BAD_HASH, {"ref": "a\x00"}, {"ref": "r" * 401}, {"ref": [[1]]}],
    "sensitive": [
        *BAD_HASH,
        {"k\x00": {"v": {"data": {"a": 1}}}},
        {"k": {"v\x00": {"data": {"a": 1}}}},
        {"k": {"v": {"data": {"a": 1}, "aliases": ["a\x00"]}}},
        {"k": {"v": {"data": {"a": NAN}}}},
        {"k": {"v": {"data": {"a": 1}, "meta": {"m": INF}}}},
        {"k" * 200: {"v": {"data": {"a": 1}}}},
        {"k": {"v": {"data": DEEP}}},
    ],
    "aliases": [{"a": 1}, ["a\x00"], ["x" * 5000], [[1]], NAN],
    "ref": [*BAD_TEXT, "9223372036854775808", 2**63, -1, "q" * 161],
    "data": [NAN, INF, {"a": NAN}, [-INF], DEEP],
    "option-int": [*BAD_INT, -1],
    "jobref": [*BAD_TEXT, "9223372036854775808", 2**63, -1, "j" * 5000],
    "cron": [*BAD_TEXT, "61 * * * *", "* * * *", "* * 31 2 *", "0 0 L * *", "x" * 5000],
    "duration": [*BAD_INT, 0, -1, 10_000_000],
    "svcref": [*BAD_TEXT, "9223372036854775808", 2**63, -1, "s" * 5000, "info:", ":1.0"],
    "svcrefs": [*BAD_TEXT_ITEM, *BAD_LIST, "9223372036854775808", [2**63], [-1], ["s" * 5000]],
    "method": [*BAD_TEXT, "m" * 161],
    # RBAC: role, permission and group names, passwords, lists of names
    "text80": [*BAD_TEXT, "n" * 81],
    "password": [*BAD_TEXT, "p" * 4097],
    "names": [*BAD_TEXT_ITEM, *BAD_LIST, "a,b\x00", ["x" * 5000], ["n"] * 1001],
    # event filters: criteria lists (qorus_server.event_filters.parse_filter)
    "filter": [
        "x",
        "{a: [",
        "x" * 5000,
        5,
        NAN,
        [1],
        [{"bogus": 1}],
        [{"class": "abc"}],
        [{"minseveritystr": "LOUD"}],
        [{"classhash": [1]}],
        [{"info": DEEP}],
        [{"info": {"a": NAN}}],
        [{"info": {"a": "x\x00"}}],
        [{"all": True}] * 101,
        {"or": [{"all": True}], "and": []},
        DEEP,
    ],
}

#: arguments of each operation (path captures included) -> kind; handlers taking ``**kwargs``
#: list the names they read
OPS: dict[str, dict[str, str]] = {
    "public.info": {},
    "public.login": {"user": "text", "pass": "text"},
    "system.logout": {},
    "system.info": {},
    "system.ping": {},
    "system.echo": {},
    "system.instance-key": {},
    "system.health": {},
    "system.sessions": {"active": "bool", "limit": "limit"},
    "system.listeners": {},
    "system.options": {},
    "system.option": {"option": "text"},
    "system.options.set": {"max-retries": "option-int"},
    "system.rotateLogFiles": {},
    "system.reloadRbac": {},
    "workflows.list": {},
    "workflows.info": {"id": "wfref", "version": "version"},
    "workflows.errors": {"id": "wfref", "version": "version"},
    "workflows.stepinfo": {"id": "wfref", "version": "version"},
    "workflows.create-order": {
        "id": "wfref",
        "name": "wfref",
        "version": "version",
        "staticdata": "hash",
        "dynamicdata": "hash",
        "orderkeys": "keys",
        "priority": "priority",
        "scheduled": "date",
        "status": "enum",
        "external_order_instanceid": "text240",
        "parent_workflow_instanceid": "id",
        "sensitive_data": "sensitive",
        "global_unique_key": "keys",
        "workflow_specific_unique_key": "keys",
        "workflow_unique_key": "keys",
    },
    "workflows.exec-synchronous": {
        "id": "wfref",
        "name": "wfref",
        "version": "version",
        "orderdata": "hash",
        "staticdata": "hash",
        "dynamicdata": "hash",
        "orderkeys": "keys",
        "priority": "priority-clamped",
        "external_order_instanceid": "text240",
        "parent_workflow_instanceid": "id",
    },
    "workflows.start": {
        "id": "wfref",
        "version": "version",
        "mode": "enum",
        "count": "count",
        "options": "hash",
    },
    "workflows.stop": {"id": "wfref", "version": "version"},
    "workflows.enable": {"id": "wfref", "version": "version"},
    "workflows.disable": {"id": "wfref", "version": "version"},
    "workflows.reset": {"id": "wfref", "version": "version"},
    "workflows.set-autostart": {"id": "wfref", "autostart": "autostart", "version": "version"},
    "workflows.inc-autostart": {"id": "wfref", "version": "version"},
    "workflows.dec-autostart": {"id": "wfref", "version": "version"},
    "workflows.set-options": {"id": "wfref", "options": "hash", "version": "version"},
    "workflows.start-many": {"ids": "wfrefs"},
    "workflows.stop-many": {"ids": "wfrefs"},
    "workflows.enable-many": {"ids": "wfrefs"},
    "workflows.disable-many": {"ids": "wfrefs"},
    "workflows.reset-many": {"ids": "wfrefs"},
    "workflows.set-autostart-many": {"ids": "wfrefs", "autostart": "autostart"},
    "workflows.reset-all": {},
    "exec.list": {},
    "exec.info": {"id": "id"},
    "exec.stop": {"id": "id"},
    "exec.stop-many": {"args": "wfrefs"},
    "exec.stop-all": {},
    "orders.info": {"id": "id"},
    "orders.notes": {"id": "id", "limit": "limit"},
    "orders.retry": {"id": "id"},
    "orders.cancel": {"id": "id"},
    "orders.uncancel": {"id": "id"},
    "orders.block": {"id": "id"},
    "orders.unblock": {"id": "id"},
    "orders.reschedule": {"id": "id", "date": "date", "scheduled": "date"},
    "orders.set-priority": {"id": "id", "priority": "priority"},
    "orders.set-error": {"id": "id"},
    "orders.skip-step": {"id": "id", "stepid": "id", "ind": "int>=0", "noretry": "bool"},
    "orders.static-data": {"id": "id", "newdata": "hash"},
    "orders.dynamic-data": {"id": "id", "newdata": "hash"},
    "orders.update-keys": {"id": "id", "orderkeys": "keys"},
    "orders.add-note": {"id": "id", "note": "text"},
    "orders.retry-many": {"ids": "ids"},
    "orders.cancel-many": {"ids": "ids"},
    "orders.uncancel-many": {"ids": "ids"},
    "orders.block-many": {"ids": "ids"},
    "orders.unblock-many": {"ids": "ids"},
    "orders.lock": {"id": "id", "note": "text"},
    "orders.unlock": {"id": "id", "note": "text"},
    "orders.break-lock": {"id": "id", "note": "text"},
    "orders.sensitive-data": {"id": "id", "skey": "key160", "svalue": "text400"},
    "orders.update-sensitive-data": {
        "id": "id",
        "skey": "key160",
        "svalue": "text400",
        "data": "hash",
        "aliases": "aliases",
        "meta": "hash",
    },
    "orders.delete-sensitive-data": {"id": "id", "skey": "key160", "svalue": "text400"},
    "async-queues.list": {},
    "async-queues.info": {"queue": "ref"},
    "async-queues.key-info": {"queue": "ref", "key": "text240"},
    "async-queues.entries": {"queue": "ref", "status": "enum", "limit": "limit", "offset": "limit"},
    "async-queues.status": {"queue": "ref"},
    "async-queues.update": {"queue": "ref", "key": "text240", "data": "data"},
    "async-queues.cancel": {"queue": "ref", "key": "text240"},
    "async-queues.key": {"queue": "ref", "oldkey": "text240", "newkey": "text240"},
    "sync-events.list": {},
    "sync-events.info": {"eventtype": "ref"},
    "sync-events.events": {
        "eventtype": "ref",
        "eventkey": "text240",
        "posted": "bool",
        "limit": "limit",
        "offset": "limit",
    },
    "sync-events.event": {"eventtype": "ref", "eventkey": "text240"},
    "sync-events.post": {"eventtype": "ref", "eventkey": "text240"},
    "jobs.list": {},
    "jobs.list-active": {},
    "jobs.info": {"id": "jobref", "version": "version"},
    "jobs.info-id": {"id": "id"},
    "jobs.results": {"id": "jobref", "version": "version", "limit": "limit", "offset": "limit"},
    "jobs.result": {"id": "id"},
    "jobs.run": {"id": "jobref", "version": "version"},
    "jobs.run-id": {"id": "id"},
    "jobs.set-active": {"id": "jobref", "active": "bool", "version": "version"},
    "jobs.set-active-id": {"id": "id", "active": "bool"},
    "jobs.schedule": {
        "id": "jobref",
        "schedule": "cron",
        "duration": "duration",
        "version": "version",
    },
    "jobs.schedule-id": {"id": "id", "schedule": "cron", "duration": "duration"},
    "jobs.set-expiry": {"id": "jobref", "date": "date", "version": "version"},
    "jobs.set-expiry-id": {"id": "id", "date": "date"},
    "jobs.enable": {"id": "jobref", "version": "version"},
    "jobs.disable": {"id": "jobref", "version": "version"},
    "jobs.reset": {"id": "jobref", "version": "version"},
    "jobs.reset-id": {"id": "id"},
    "jobs.reset-all": {},
    "services.list": {"status": "enum"},
    "services.list-system": {},
    "services.list-user": {},
    "services.info": {"id": "svcref"},
    "services.methods": {"id": "svcref"},
    "services.method-info": {"id": "svcref", "method": "method"},
    "services.load": {"id": "svcref"},
    "services.unload": {"id": "svcref"},
    "services.reset": {"id": "svcref", "load": "bool"},
    "services.enable": {"id": "svcref"},
    "services.disable": {"id": "svcref"},
    "services.set-autostart": {"id": "svcref", "autostart": "bool"},
    "services.reset-stats": {"id": "svcref"},
    "services.call": {"id": "svcref", "method": "method", "args": "data", "servicetype": "enum"},
    "services.load-many": {"ids": "svcrefs"},
    "services.unload-many": {"ids": "svcrefs"},
    "services.reset-many": {"ids": "svcrefs", "load": "bool"},
    "services.reset-all": {},
    # RBAC (qorus_server/api/rbac.py, groups.py); users.add and users.update take the
    # password as ``pass`` (REST) or ``password`` (RPC)
    "users.list": {"list": "bool"},
    "users.info": {"username": "key160"},
    "users.current": {},
    "users.add": {
        "username": "key160",
        "pass": "password",
        "password": "password",
        "name": "text240",
        "desc": "text240",
        "roles": "names",
    },
    "users.update": {
        "username": "key160",
        "pass": "password",
        "password": "password",
        "name": "text240",
        "desc": "text240",
        "roles": "names",
    },
    "users.delete": {"username": "key160"},
    "roles.list": {"list": "bool"},
    "roles.info": {"role": "text80"},
    "roles.add": {"role": "text80", "desc": "text240", "permissions": "names", "groups": "names"},
    "roles.update": {
        "role": "text80",
        "desc": "text240",
        "permissions": "names",
        "groups": "names",
    },
    "roles.delete": {"role": "text80", "cascade": "bool"},
    "perms.list": {"list": "bool"},
    "perms.info": {"name": "text80"},
    "perms.add": {"name": "text80", "desc": "text240"},
    "perms.update": {"name": "text80", "desc": "text240"},
    "perms.delete": {"name": "text80", "cascade": "bool"},
    "groups.list": {"list": "bool", "no_synthetic": "bool"},
    "groups.info": {"name": "text80"},
    "groups.add": {
        "group": "text80",
        "desc": "text",
        "services": "names",
        "workflows": "names",
        "enabled": "bool",
        "jobs": "names",
    },
    "groups.update": {
        "name": "text80",
        "desc": "text",
        "workflows": "names",
        "services": "names",
        "jobs": "names",
        "enabled": "bool",
    },
    "groups.delete": {"name": "text80", "cascade": "bool"},
    "groups.delete-many": {"groups": "names", "cascade": "bool"},
    "groups.enable": {"name": "text80"},
    "groups.disable": {"name": "text80"},
    "groups.set-status": {"name": "text80", "enabled": "bool"},
    "groups.set-status-many": {"groups": "names", "enabled": "bool"},
    "events.last-id": {},
    "events.last": {"count": "int>=0", "filter": "filter"},
    "events.wait": {"min_id": "int>=0", "timeout_ms": "int>=0", "filter": "filter"},
    # RPC only (no REST route): walked by tests/security/test_rpc_hostile.py
    "events.last-or": {
        "count": "int>=0",
        "filter": "filter",
        "and_not": "filter",
        "nfilt": "filter",
    },
    "events.last-and": {
        "count": "int>=0",
        "filter": "filter",
        "or_not": "filter",
        "nfilt": "filter",
    },
    "events.wait-or": {
        "min_id": "int>=0",
        "criteria": "filter",
        "timeout_ms": "int>=0",
        "and_not": "filter",
        "nfilt": "filter",
    },
    "events.wait-and": {
        "min_id": "int>=0",
        "criteria": "filter",
        "timeout_ms": "int>=0",
        "or_not": "filter",
        "nfilt": "filter",
    },
    "rpc.help": {"names": "texts"},
    "rpc.list-methods": {},
}
SEARCH = {
    "workflowid": "ids",
    "ids": "ids",
    "status": "statuses",
    "statuses": "statuses",
    "keyname": "key160",
    "keyvalue": "texts",
    "modified": "date",
    "date": "date",
    "maxmodified": "date",
    "minstarted": "date",
    "maxstarted": "date",
    "limit": "limit",
    "offset": "limit",
    "sort": "texts",
    "desc": "bool",
}
OPS["orders.search"] = SEARCH
OPS["workflows.orders"] = {"id": "wfref", "version": "version", **SEARCH}

#: valid values of the arguments an operation needs besides the one under test
BASE: dict[str, dict[str, Any]] = {
    "public.login": {"user": ADMIN[0], "pass": "not-the-password"},
    "workflows.create-order": {"staticdata": {"ref": "x"}},
    "workflows.exec-synchronous": {"staticdata": {"ref": "x"}},
    "workflows.set-autostart": {"autostart": 0},
    "workflows.set-autostart-many": {"autostart": 0},
    "workflows.set-options": {"options": {"max-retries": 5}},
    "orders.skip-step": {},
    "orders.static-data": {"newdata": {"ref": "r1"}},
    "orders.update-keys": {"orderkeys": {"ref": "r1"}},
    "orders.update-sensitive-data": {"skey": "k", "svalue": "v", "data": {"a": 1}},
    "orders.lock": {"note": "fuzz"},
    "orders.break-lock": {"note": "fuzz"},
    "async-queues.key-info": {"key": "walk-key"},
    "async-queues.update": {"key": "walk-key", "data": {"a": 1}},
    "async-queues.cancel": {"key": "walk-key"},
    "async-queues.key": {"oldkey": "walk-key", "newkey": "walk-key2"},
    "sync-events.post": {"eventkey": "walk-key"},
    "services.set-autostart": {"autostart": False},
    "users.add": {"username": "walkuser", "pass": "Walk-Secret-1", "roles": "read-only"},
    "roles.add": {"role": "walkrole", "desc": "walk"},
    "perms.add": {"name": "WALKPERM", "desc": "walk"},
    "groups.add": {"group": "WALKGROUP", "desc": "walk"},
    "groups.delete-many": {"groups": "NOGROUP"},
    "groups.set-status-many": {"groups": "NOGROUP", "enabled": "false"},
}
#: path captures of the walk that name no workflow or order: a queue, an event type, a key
CAPTURES = {"queue": "WALKQ", "eventtype": "WALKEV", "eventkey": "walk-key"}
#: path captures of the service operations: the info system service and one of its methods
SERVICE_CAPTURES = {"id": "info", "method": "getOptions"}
#: operations not walked: they end the server under test
SKIPPED = {"system.shutdown", "system.shutdownWait"}
#: operations that take any argument and answer it
ANYTHING = {"system.echo"}
#: words of database drivers and tracebacks that must never reach a client
LEAKS = re.compile(r"bigint|LIMIT|psycopg|pymysql|sqlalchemy|sqlite3|SQL|Traceback|\(0x00\)")


@pytest.fixture(scope="module")
def server(db_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Qorus]:
    base = tmp_path_factory.mktemp("badargs")
    root = base / "omq"
    for sub in ("etc", "log", "user", "var"):
        (root / sub).mkdir(parents=True)
    db_url = db_factory.fresh()
    url = db_url.render_as_string(hide_password=False)
    (root / "etc" / "options").write_text(f"qorus.systemdb = {url}\n")
    shutil.copytree(DATA, base / "data")
    # a queue and an event type for the async-queues and sync-events operations
    (base / "data" / "WALKQ.qqueue.yaml").write_text("type: queue\nname: WALKQ\ndesc: walk\n")
    (base / "data" / "WALKEV.qevent.yaml").write_text("type: event\nname: WALKEV\ndesc: walk\n")
    # a job for the jobs operations (its schedule never comes during the walk)
    (base / "data" / "WALKJOB-1.0.qjob.yaml").write_text(
        "type: job\nname: WALKJOB\nversion: '1.0'\ndesc: walk\nlang: python\n"
        "duration: 9999999\ncode: WALKJOB-1.0.qjob.py\n"
    )
    (base / "data" / "WALKJOB-1.0.qjob.py").write_text(
        "from job import QorusJob\n\n\nclass WALKJOB(QorusJob):\n    def run(self):\n        pass\n"
    )
    d = ["--qorus-dir", str(root)]
    res = tool("oload", *d, str(base / "data"))
    assert res.returncode == 0, res.stderr + res.stdout
    res = tool("user_tool", *d, "-A", f"{ADMIN[0]},{ADMIN[1]},superuser,Admin")
    assert res.returncode == 0, res.stderr
    _waiting_entry(db_url)
    q = Qorus(root, free_port(), ["rbac-security=true"])
    try:
        q.wait_ready(auth=ADMIN)
        yield q
    finally:
        q.kill()


def _waiting_entry(url: URL) -> None:
    """An order of ACC-SIMPLE whose first step waits on key ``walk-key`` of queue WALKQ (as an
    ASYNC step would): a hostile call taken for a valid one would change it."""
    engine = create_system_engine(url)
    try:
        with engine.begin() as conn:
            wfid = find_workflow(conn, "ACC-SIMPLE")
            stepid = int(workflow_steps(conn, wfid)[0]["stepid"])
            queueid = waits.find_queue(conn, "WALKQ")["queueid"]
        wfiid = create_order(engine, wfid, {"ref": "walk"})
        with engine.begin() as conn:
            waits.submit_key(conn, queueid, wfiid, stepid, 0, "walk-key", now())
    finally:
        engine.dispose()


class Walk:
    """The valid defaults of one server: the workflow, an order, its step."""

    def __init__(self, q: Qorus, client: httpx.Client) -> None:
        self.q = q
        self.client = client
        self.api = f"{q.url}/api/latest"
        r = client.post(
            f"{self.api}/workflows/ACC-SIMPLE?action=createOrder",
            json={"staticdata": {"ref": "r1"}, "orderkeys": {"ref": "r1"}},
        )
        assert r.status_code == 201, r.text
        self.order = int(r.json()["workflow_instanceid"])
        steps = client.get(f"{self.api}/workflows/ACC-SIMPLE/stepinfo").json()
        self.stepid = int(steps[0]["stepid"])

    def base(self, op: str, arg: str) -> dict[str, Any]:
        """Valid values of the arguments an operation needs besides the one under test (when
        the hostile one were taken, these would change something: the test would see it)."""
        out: dict[str, Any] = dict(BASE.get(op, {}))
        if op == "orders.skip-step":
            out["stepid"] = self.stepid
        if arg in ("staticdata", "orderdata"):
            out.pop("staticdata", None)
        out.pop(arg, None)
        return out

    def path(self, template: str, captures: dict[str, str]) -> str:
        segs = []
        for seg in template.split("/"):
            if seg.startswith("{"):
                name = seg[1:-1]
                default = "ACC-SIMPLE" if template.startswith("workflows") else str(self.order)
                if template.startswith("jobs/"):
                    default = "WALKJOB"
                default = CAPTURES.get(name, default)
                if template.startswith("services"):
                    default = SERVICE_CAPTURES[name]
                seg = quote(captures.get(name, default), safe="")
            segs.append(seg)
        return "/".join(segs)

    def send(
        self, op: str, route: tuple[str, str, str | None], arg: str, value: Any
    ) -> httpx.Response | None:
        """One call with ``arg`` = ``value``: in the path when it is a capture, in the query
        when it is short text, else in a JSON body (NaN and Infinity as Python writes them)."""
        method, template, action = route
        captures = {}
        if "{" + arg + "}" in template:
            if not isinstance(value, str):
                return None  # a path carries text only
            captures[arg] = value
        url = f"{self.api}/{self.path(template, captures)}"
        params: list[tuple[str, str]] = [("action", action)] if action else []
        body = self.base(op, arg)
        if not captures:
            if isinstance(value, str) and len(value) <= 2000:
                params.append((arg, value))
            else:
                body[arg] = value
        content = json.dumps(body, allow_nan=True).encode() if body else None
        headers = {"content-type": "application/json"} if content else {}
        return self.client.request(method, url, params=params, content=content, headers=headers)


def _names(desc: str, arg: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(arg)}(?![\w-])", desc) is not None


def _snapshot(walk: Walk) -> Any:
    info = walk.client.get(f"{walk.api}/orders/{walk.order}").json()
    wfs = walk.client.get(f"{walk.api}/workflows").json()
    opts = walk.client.get(f"{walk.api}/system/options/max-retries").json()["value"]
    waits = [
        walk.client.get(f"{walk.api}/async-queues/WALKQ?action=qinfo&status={s}").json()
        for s in ("WAITING", "RECEIVED", "ERROR", "USED")
    ]
    waits.append(walk.client.get(f"{walk.api}/sync-events?action=events").json())
    wf_rows = [(w["name"], w["TOTAL"], w["autostart"], w["enabled"]) for w in wfs]
    job = walk.client.get(f"{walk.api}/jobs/WALKJOB").json()
    svcs = [
        (s["name"], s["status"], s["autostart"], s["enabled"], s["stats"]["calls"])
        for s in walk.client.get(f"{walk.api}/services").json()
    ]
    return info, wf_rows, opts, waits, job, svcs


def test_registry_is_classified() -> None:
    """Every registered operation and each argument its handler names has a kind here."""
    import inspect

    for op in REGISTRY:
        if op.name in SKIPPED:
            continue
        assert op.name in OPS, f"operation {op.name} has no argument kinds in this test"
        params = inspect.signature(op.handler).parameters
        named = [n for n, p in params.items() if n != "ctx" and p.kind is not p.VAR_KEYWORD]
        missing = [n for n in named if n not in OPS[op.name]]
        assert not missing, f"{op.name}: arguments {missing} have no kind in this test"


def test_hostile_arguments_get_clear_errors(server: Qorus) -> None:
    with httpx.Client(auth=ADMIN, timeout=30) as client:
        walk = Walk(server, client)
        before = _snapshot(walk)
        assert [e["queuekey"] for e in before[3][0]] == ["walk-key"]  # WAITING
        failures: list[str] = []
        sent = 0
        for op in REGISTRY:
            if op.name in SKIPPED or not op.rest:
                continue
            route = op.rest[0]
            probes = [(a, v) for a, kind in OPS[op.name].items() for v in KINDS[kind]]
            probes.append(("no-such-argument", "x"))
            for arg, value in probes:
                try:
                    r = walk.send(op.name, route, arg, value)
                except httpx.TimeoutException:
                    pytest.fail(f"{op.name} {arg}={value!r:.60}: no answer in time")
                if r is None:
                    continue
                sent += 1
                problem = _check(op.name, arg, r)
                if problem:
                    failures.append(f"{op.name} {arg}={value!r:.60}: {problem}")
        assert not failures, f"{len(failures)} of {sent} answers:\n" + "\n".join(failures[:80])
        assert client.get(f"{walk.api}/system/ping").json() == "OK"
        assert _snapshot(walk) == before


def _check(op: str, arg: str, r: httpx.Response) -> str | None:
    if op in ANYTHING and r.status_code == 200:
        return None
    if LEAKS.search(r.text):
        return f"{r.status_code} leaks database words: {r.text[:200]}"
    try:
        body = r.json()
    except ValueError:
        return f"{r.status_code} not JSON: {r.text[:200]}"
    if not isinstance(body, dict) or not body.get("err") or not body.get("desc"):
        return f"{r.status_code} without err and desc: {r.text[:200]}"
    if body["err"] in ("DB-ERROR", "INTERNAL-ERROR"):
        return f"{r.status_code} {body['err']}: {body['desc'][:200]}"
    allowed = {400, 404, 409} | ({401} if op == "public.login" else set())
    if r.status_code not in allowed:
        return f"status {r.status_code}: {r.text[:200]}"
    # a body past the server's depth or size limits is refused whole, before any argument
    body_refused = "request body is refused" in body["desc"]
    if r.status_code == 400 and not body_refused and not _names(body["desc"], arg):
        return f"400 does not name {arg!r}: {body['desc'][:200]}"
    return None


def test_hostile_credentials_and_bodies(server: Qorus) -> None:
    """Logins with NUL or huge user names, and bodies nested too deep for any answer."""
    api = f"{server.url}/api/latest"
    for user in ("a\x00b", "u" * 5000, "\x00"):
        r = httpx.get(f"{api}/system/ping", auth=(user, "pw"), timeout=30)
        assert r.status_code == 401 and r.json()["err"] == "AUTHENTICATION-ERROR", r.text
        assert not LEAKS.search(r.text)
        r = httpx.post(
            f"{api.replace('/latest', '')}/public/login", json={"user": user, "pass": "x"}
        )
        assert r.status_code in (400, 401) and not LEAKS.search(r.text), r.text
    for depth in (200, 990, 5000):
        body = "[" * depth + "]" * depth
        for path in ("system/echo", "orders?action=retry"):
            r = httpx.request(
                "PUT" if "action" in path else "GET",
                f"{api}/{path}",
                content=f'{{"ids": {body}}}',
                headers={"content-type": "application/json"},
                auth=ADMIN,
                timeout=30,
            )
            assert r.status_code in (200, 400), r.text[:300]
            assert not LEAKS.search(r.text)
    assert httpx.get(f"{api}/system/ping", auth=ADMIN, timeout=30).json() == "OK"
