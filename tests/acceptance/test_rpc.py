"""The RPC gateways of a real ``qorus`` with real clients: Python's ``xmlrpc.client.ServerProxy``
at ``/RPC2`` (ping, an order created and read back, a fault), JSON-RPC at ``/JSON`` with httpx
(single, batch, notification), YAML-RPC at ``/YAML``, 100 concurrent calls, ``/SOAP``."""

from __future__ import annotations

import asyncio
import json
import time
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from qorus_proc import Qorus, get, new_omq, running

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]
DATA = Path(__file__).parent / "data" / "wf"


@pytest.fixture(scope="module")
def server(db_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Qorus]:
    omq = new_omq(tmp_path_factory.mktemp("rpc"), db_factory, DATA)
    with running(omq, "recover_delay=1") as q:
        yield q


def proxy(server: Qorus) -> xmlrpc.client.ServerProxy:
    return xmlrpc.client.ServerProxy(f"{server.url}/RPC2", allow_none=True, use_builtin_types=True)


def rpc(p: xmlrpc.client.ServerProxy, method: str, *params: Any) -> Any:
    return getattr(p, method)(*params)


def jsonrpc(server: Qorus, body: Any) -> httpx.Response:
    return httpx.post(f"{server.url}/JSON", content=json.dumps(body), timeout=30)


def wait_complete(p: xmlrpc.client.ServerProxy, wfiid: int) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        info: dict[str, Any] = rpc(p, "omq.system.get-order-info", wfiid)
        if info["workflowstatus"] == "COMPLETE" or time.monotonic() > deadline:
            return info
        time.sleep(0.1)


def test_xmlrpc_with_python_serverproxy(server: Qorus) -> None:
    with proxy(server) as p:
        _serverproxy_calls(server, p)


def _serverproxy_calls(server: Qorus, p: xmlrpc.client.ServerProxy) -> None:
    assert p.omq.system.ping() == "OK"
    assert rpc(p, "omq.system.get-status")["instance-key"] is not None
    started = rpc(p, "omq.system.start-workflow", "ACC-SIMPLE")
    assert started["name"] == "ACC-SIMPLE" and len(started["ids"]) == 1
    created = rpc(p, "omq.system.create-order", "ACC-SIMPLE", {"staticdata": {"ref": "x1"}})
    wfiid = int(created["workflow_instanceid"])
    info = wait_complete(p, wfiid)
    assert info["workflowstatus"] == "COMPLETE" and info["name"] == "ACC-SIMPLE"
    assert info["staticdata"] == {"ref": "x1"} and info["keys"] == {"ref": "x1"}
    assert hasattr(info["started"], "year")  # a dateTime.iso8601 comes back as a datetime
    # the same order over REST
    assert get(server, f"orders/{wfiid}")["workflowstatus"] == "COMPLETE"
    with pytest.raises(xmlrpc.client.Fault) as fault:
        rpc(p, "omq.system.get-order-info", 987654321)
    assert fault.value.faultCode == -32004
    assert fault.value.faultString == "ORDER-NOT-FOUND: workflow order 987654321 does not exist"
    with pytest.raises(xmlrpc.client.Fault) as fault:
        rpc(p, "omq.system.get-order-info", "abc")
    assert fault.value.faultCode == -32602 and "'id'" in fault.value.faultString
    with pytest.raises(xmlrpc.client.Fault) as fault:
        rpc(p, "omq.system.no-such-method")
    assert fault.value.faultCode == -32601
    names = p.system.listMethods()
    assert {"omq.system.ping", "omq.system.create-order", "omq.system.help"} <= set(names)
    assert rpc(p, "omq.system.stop-workflow", "ACC-SIMPLE")["count"] == 1


def test_jsonrpc_single_batch_and_notification(server: Qorus) -> None:
    r = jsonrpc(server, {"jsonrpc": "2.0", "method": "omq.system.ping", "id": 1})
    assert r.status_code == 200 and r.json() == {"jsonrpc": "2.0", "result": "OK", "id": 1}
    create = {
        "jsonrpc": "2.0",
        "method": "omq.system.create-order",
        "params": {"name": "ACC-SIMPLE", "staticdata": {"ref": "j1"}, "status": "BLOCKED"},
        "id": "c",
    }
    wfiid = jsonrpc(server, create).json()["result"]["workflow_instanceid"]
    batch = [
        {"jsonrpc": "2.0", "method": "omq.system.get-order-info", "params": [wfiid], "id": 1},
        {"jsonrpc": "2.0", "method": "omq.system.get-order-info", "params": [-5], "id": 2},
        {"jsonrpc": "2.0", "method": "omq.system.set-order-note", "params": [wfiid, "by rpc"]},
        {"jsonrpc": "2.0", "method": "omq.system.order-notes", "params": [wfiid], "id": 3},
    ]
    out = jsonrpc(server, batch).json()
    assert [o["id"] for o in out] == [1, 2, 3]
    assert out[0]["result"]["workflowstatus"] == "BLOCKED"
    assert out[1]["error"]["code"] == -32602 and out[1]["error"]["data"]["err"]
    assert [n["note"] for n in out[2]["result"]] == ["by rpc"]  # the notification ran first
    r = jsonrpc(server, {"jsonrpc": "2.0", "method": "omq.system.cancel-workflow-instance",
                         "params": [wfiid]})  # fmt: skip
    assert r.status_code == 204 and r.content == b""
    assert get(server, f"orders/{wfiid}")["workflowstatus"] == "CANCELED"
    helped = jsonrpc(server, {"jsonrpc": "2.0", "method": "omq.system.help", "id": 1}).json()
    entry = helped["result"]["omq.system.get-order-info"]
    assert entry["params"] == "id" and entry["description"]


def test_yamlrpc(server: Qorus) -> None:
    def call(text: str) -> Any:
        r = httpx.post(
            f"{server.url}/YAML",
            content=text,
            headers={"content-type": "application/x-yaml"},
            timeout=30,
        )
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-yaml")
        return yaml.safe_load(r.text)

    assert call("method: omq.system.ping\n") == {"result": "OK"}
    made = call(
        "method: omq.system.create-order\n"
        "params: [ACC-SIMPLE, {staticdata: {ref: y1}, status: BLOCKED}]\n"
    )
    wfiid = made["result"]["workflow_instanceid"]
    info = call(f"method: omq.system.get-order-info\nparams: [{wfiid}]\n")["result"]
    assert info["staticdata"] == {"ref": "y1"} and hasattr(info["started"], "year")
    err = call("method: omq.system.get-order-info\nparams: [987654321]\n")["error"]
    assert err["code"] == -32004 and err["message"].startswith("ORDER-NOT-FOUND: ")


def test_100_concurrent_calls(server: Qorus) -> None:
    made = [
        jsonrpc(
            server,
            {
                "jsonrpc": "2.0",
                "method": "omq.system.create-order",
                "params": ["ACC-SIMPLE", {"staticdata": {"ref": f"c{i}"}, "status": "BLOCKED"}],
                "id": i,
            },
        ).json()["result"]["workflow_instanceid"]
        for i in range(5)
    ]

    async def one(client: httpx.AsyncClient, i: int) -> None:
        wfiid = made[i % len(made)]
        if i % 2:
            body = xmlrpc.client.dumps((wfiid,), "omq.system.get-order-info")
            r = await client.post("/RPC2", content=body)
            info = xmlrpc.client.loads(r.content)[0][0]
        else:
            req = {"jsonrpc": "2.0", "method": "omq.system.get-order-info", "params": [wfiid]}
            r = await client.post("/JSON", json={**req, "id": i})
            assert r.json()["id"] == i
            info = r.json()["result"]
        assert info["workflow_instanceid"] == wfiid
        assert info["staticdata"] == {"ref": f"c{i % len(made)}"}

    async def run() -> None:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as client:
            await asyncio.gather(*(one(client, i) for i in range(100)))

    asyncio.run(run())


def test_soap_answers_501(server: Qorus) -> None:
    r = httpx.post(f"{server.url}/SOAP", content="<Envelope/>", timeout=30)
    assert r.status_code == 501 and "SOAP is not supported" in r.json()["desc"]
