"""Sensitive data through the engine and the system API in-process: step code reads and
changes them (committed with the step), REST operations with their permissions, purges on
COMPLETE and CANCELED, and audit rows and events that carry key names only."""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.crypto import KEY_SIZE, SensitiveCipher
from qorus_core.db import tables as t
from qorus_core.model.errors import QorusError
from qorus_core.rbac import Principal
from qorus_server.api import REGISTRY, CallContext
from qorus_server.audit import audited_args
from qorus_server.engine.manager import WorkflowManager
from tests.helpers.definitions import add_workflow, noop_step
from tests.helpers.engine import Logs, error_rows, make_server, wait_orders

pytestmark = pytest.mark.integration

PID = "PID-778899"
TAX = "TAX-SECRET-4711"
SD = {
    "personal_id": {
        PID: {"data": {"tax_number": TAX, "name": "Ann"}, "aliases": ["0"], "meta": {"P": 1}}
    },
    "email": {"ann@example.org": {"data": {"verified": True}}},
}

READ_STEP = """
pid = wfapi.getStaticData("pid")
tax = wfapi.getSensitiveData("personal_id", pid, "tax_number")
both = wfapi.getSensitiveData("personal_id", pid, "tax_number", "name")
alias = wfapi.getSensitiveDataFromAlias("0", "name")
try:
    wfapi.getSensitiveDataFromAlias("nope")
    bad_alias = None
except Exception as exc:
    bad_alias = exc.code
wfapi.updateDynamicData({
    "tax_ok": tax == "TAX-SECRET-4711",
    "both_ok": both == {"tax_number": "TAX-SECRET-4711", "name": "Ann"},
    "alias_ok": alias == {"skey": "personal_id", "svalue": pid, "value": "Ann"},
    "meta": wfapi.getSensitiveMetadata("personal_id", pid),
    "meta_alias": wfapi.getSensitiveMetadataFromAlias("0")["value"],
    "missing": wfapi.getSensitiveData("personal_id", "nobody"),
    "bad_alias": bad_alias,
    "aliases": sorted(wfapi.getSensitiveDataAliases()),
    "skeys": sorted(wfapi.getSensitiveDataKeyValues()),
})
wfapi.updateSensitiveData("personal_id", pid, {"checked": True}, ["0", "p"], {"PURPOSE": "x"})
wfapi.updateSensitiveData("new", "N-1", {"v": 1})
wfapi.updateSensitiveDataFromAlias("p", {"via_alias": 1})
assert wfapi.deleteSensitiveDataKey("personal_id", pid, ["name"]) is True
assert wfapi.deleteSensitiveDataKey("personal_id", pid, "name") is False
assert wfapi.deleteSensitiveData("email", "ann@example.org") is True
assert wfapi.deleteSensitiveData("email", "ann@example.org") is False
"""

CHECK_STEP = """
pid = wfapi.getStaticData("pid")
wfapi.updateDynamicData({"second": wfapi.getSensitiveDataArgs("personal_id", pid)})
"""


@pytest.fixture
def cipher() -> SensitiveCipher:
    return SensitiveCipher(os.urandom(KEY_SIZE))


@pytest.fixture
def server(engine: Engine, cipher: SensitiveCipher) -> SimpleNamespace:
    s = make_server(engine)
    s.sensitive = cipher
    s.registry = REGISTRY
    s.audited = []
    s.audit_api_call = lambda op, ctx, args, result, conn=None: s.audited.append(
        (op.name, audited_args(args))
    )
    return s


@pytest.fixture
def api(server: SimpleNamespace, manager: WorkflowManager) -> Any:
    server.workflows = manager

    def call(name: str, user: Any = None, **args: Any) -> Any:
        return REGISTRY.call(name, CallContext(server=server, user=user), args)

    return call


@pytest.fixture
def wf(engine: Engine) -> str:
    noop_step(engine, "SREAD", READ_STEP)
    noop_step(engine, "SCHECK", CHECK_STEP)
    add_workflow(engine, "SENSWF", ["SREAD", "SCHECK"])
    return "SENSWF"


def _rows(engine: Engine, wfiid: int) -> list[Any]:
    sod = t.sensitive_order_data
    with engine.connect() as conn:
        return list(conn.execute(select(sod).where(sod.c.workflow_instanceid == wfiid)))


def _create(api: Any, static: Any = None, **extra: Any) -> int:
    static = {"pid": PID} if static is None else static
    res = api("workflows.create-order", id="SENSWF", staticdata=static, sensitive_data=SD, **extra)
    return int(res["workflow_instanceid"])


def test_steps_read_and_change_sensitive_data(
    api: Any, wf: str, engine: Engine, server: SimpleNamespace
) -> None:
    server.options.set("purge-sensitive-data-complete", False)
    api("workflows.start", id=wf)
    wfiid = _create(api)
    assert wait_orders(engine, [wfiid]) == {wfiid: "C"}, error_rows(engine, wfiid)
    info = api("orders.info", id=wfiid)
    dyn = info["dynamicdata"]
    assert dyn["tax_ok"] and dyn["both_ok"] and dyn["alias_ok"]
    assert dyn["meta"] == {"P": 1} and dyn["meta_alias"] == {"P": 1}
    assert dyn["missing"] is None and dyn["bad_alias"] == "INVALID-ALIAS"
    assert dyn["aliases"] == ["0"] and dyn["skeys"] == ["email", "personal_id"]
    expected = {"tax_number": TAX, "checked": True, "via_alias": 1}
    assert dyn["second"] == expected  # the next step sees the first one's changes
    # the changes were committed with the steps
    got = api("orders.sensitive-data", id=wfiid)
    assert got == {
        "personal_id": {PID: {"data": expected, "aliases": ["0", "p"], "meta": {"PURPOSE": "x"}}},
        "new": {"N-1": {"data": {"v": 1}, "aliases": [], "meta": {}}},
    }
    assert api("orders.sensitive-data", id=wfiid, skey="new") == {"new": got["new"]}
    assert TAX not in repr(_rows(engine, wfiid)) and PID not in repr(_rows(engine, wfiid))
    # (the test itself put PID in the static data and TAX in the dynamic data)
    shown = {k: v for k, v in info.items() if k not in ("staticdata", "dynamicdata")}
    assert TAX not in repr(shown) and PID not in repr(shown) and info["has_sensitive_data"]


def test_purge_on_complete(api: Any, wf: str, engine: Engine) -> None:
    api("workflows.start", id=wf)
    wfiid = _create(api)
    assert wait_orders(engine, [wfiid]) == {wfiid: "C"}, error_rows(engine, wfiid)
    info = api("orders.info", id=wfiid)
    assert info["dynamicdata"]["second"]["checked"] is True  # the steps saw the data
    assert _rows(engine, wfiid) == [] and info["has_sensitive_data"] is False


def test_rest_operations_permissions_and_audit(
    api: Any, wf: str, engine: Engine, server: SimpleNamespace
) -> None:
    wfiid = _create(api, {"ref": 1}, status="BLOCKED")

    def user(*perms: str) -> Principal:
        return Principal(
            username="ann",
            description="",
            roles=frozenset({"r"}),
            permissions=frozenset({"LOGIN", *perms}),
            all_interfaces=True,
            group_ids=frozenset({0}),
            workflow_ids=frozenset(),
            service_ids=frozenset(),
            job_ids=frozenset(),
        )

    for op, args in (
        ("orders.sensitive-data", {}),
        ("orders.update-sensitive-data", {"skey": "a", "svalue": "b", "data": {"x": 1}}),
        ("orders.delete-sensitive-data", {}),
    ):
        with pytest.raises(QorusError) as info:
            api(op, user=user("EDIT-WORKFLOW-DATA"), id=wfiid, **args)
        assert info.value.http_status == 403
    reader = user("READ-SENSITIVE-DATA")
    assert api("orders.sensitive-data", user=reader, id=wfiid, skey="email") == {
        "email": {"ann@example.org": {"data": {"verified": True}, "aliases": [], "meta": {}}}
    }
    control = user("READ-SENSITIVE-DATA", "EDIT-SENSITIVE-DATA", "DELETE-SENSITIVE-DATA")
    res = api(
        "orders.update-sensitive-data",
        user=control,
        id=wfiid,
        skey="personal_id",
        svalue=PID,
        data="{tax_number: REPLACED}",
        aliases="0,x",
    )
    assert res == "OK"
    got = api("orders.sensitive-data", user=control, id=wfiid, skey="personal_id", svalue=PID)
    assert got == {
        "personal_id": {
            PID: {"data": {"tax_number": "REPLACED"}, "aliases": ["0", "x"], "meta": {}}
        }
    }
    # PUT without data deletes the entry
    api("orders.update-sensitive-data", id=wfiid, skey="personal_id", svalue=PID)
    assert "personal_id" not in api("orders.sensitive-data", id=wfiid)
    for op, args, code in (
        ("orders.update-sensitive-data", {"skey": "a"}, "SENSITIVE-DATA-ARG-ERROR"),
        ("orders.update-sensitive-data", {"svalue": "a"}, "SENSITIVE-DATA-ARG-ERROR"),
        ("orders.update-sensitive-data", {"skey": "a", "svalue": "b", "data": 1}, None),
        ("orders.sensitive-data", {"svalue": "a"}, "SENSITIVE-DATA-ARG-ERROR"),
        ("orders.delete-sensitive-data", {"svalue": "a"}, "SENSITIVE-DATA-ARG-ERROR"),
    ):
        with pytest.raises(QorusError) as info:
            api(op, id=wfiid, **args)
        assert info.value.http_status == 400 and (code is None or info.value.code == code)
    with pytest.raises(QorusError) as info:
        api("orders.sensitive-data", id=999999)
    assert info.value.http_status == 404
    assert api("orders.delete-sensitive-data", user=control, id=wfiid, skey="email") == {
        "workflow_instanceid": wfiid,
        "deleted": 1,
    }
    assert api("orders.delete-sensitive-data", id=wfiid) == {
        "workflow_instanceid": wfiid,
        "deleted": 0,
    }
    # audit rows and events name keys only
    names = [n for n, _ in server.audited]
    assert "workflows.create-order" in names and "orders.update-sensitive-data" in names
    dump = repr(server.audited) + repr([e.as_dict() for e in server.events.last(100)])
    for clear in (PID, TAX, "REPLACED", "ann@example.org"):
        assert clear not in dump
    assert "personal_id" in dump


def test_purge_on_cancel(api: Any, wf: str, engine: Engine, server: SimpleNamespace) -> None:
    a = _create(api, status="BLOCKED")
    b = _create(api, status="BLOCKED")
    api("orders.cancel", id=a)
    assert _rows(engine, a) == []
    server.options.set("purge-sensitive-data-canceled", False)
    api("orders.cancel-many", ids=[b])
    assert len(_rows(engine, b)) == 2


@pytest.fixture
def keyless(engine: Engine, logs: Logs) -> Iterator[Any]:
    s = make_server(engine)
    m = WorkflowManager(logger_factory=logs, poll_interval=0.2)
    m.start(s)
    s.workflows = m

    def call(name: str, **args: Any) -> Any:
        return REGISTRY.call(name, CallContext(server=s), args)

    yield call
    m.stop()


def test_without_a_key(keyless: Any, wf: str, engine: Engine) -> None:
    with pytest.raises(QorusError) as info:
        keyless("workflows.create-order", id=wf, staticdata={"pid": PID}, sensitive_data=SD)
    assert info.value.code == "SENSITIVE-DATA-KEY-ERROR"
    keyless("workflows.start", id=wf)
    wfiid = keyless("workflows.create-order", id=wf, staticdata={"pid": PID})
    wfiid = wfiid["workflow_instanceid"]
    assert wait_orders(engine, [wfiid]) == {wfiid: "E"}
    assert [e["error"] for e in error_rows(engine, wfiid)] == ["SENSITIVE-DATA-KEY-ERROR"]


def test_exec_synchronous_with_sensitive_data(api: Any, wf: str, engine: Engine) -> None:
    """A synchronous order stores its sensitive data with the same key as createOrder."""
    res = api("workflows.exec-synchronous", id=wf, staticdata={"pid": PID}, sensitive_data=SD)
    assert res["status"] == "COMPLETE", res
    wfiid = int(res["workflow_instanceid"])
    assert res["dynamicdata"]["tax_ok"] is True
    assert TAX not in repr(_rows(engine, wfiid))
