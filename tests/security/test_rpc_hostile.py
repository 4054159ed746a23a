"""The RPC gateways (``/JSON``, ``/RPC2``, ``/YAML``) of one real server with RBAC on, from a
hostile or careless caller: no login, a user without the permission, bodies too large (also
once decompressed), too deep, XML entity bombs and external entities, YAML alias bombs,
requests of the wrong shape, a batch of 10,000 calls.

Each is answered clearly in the protocol's own error format (HTTP 401/413 before the body is
read; else a fault with the right code), never with the database's words, and afterwards the
orders and workflows are exactly as they were."""

from __future__ import annotations

import gzip
import json
import re
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hostile_http import ADMIN, VIEWER, rbac_server
from qorus_proc import Qorus, free_port, new_omq

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

DATA = Path(__file__).resolve().parents[1] / "acceptance" / "data" / "wf"
MAX_BODY = 2_000_000
LEAKS = re.compile(r"bigint|psycopg|pymysql|sqlalchemy|sqlite3|SQL|Traceback")
GATEWAYS = ["/JSON", "/RPC2", "/YAML"]


@pytest.fixture(scope="module")
def server(db_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Qorus]:
    root = new_omq(tmp_path_factory.mktemp("rpchostile"), db_factory, DATA)
    started: list[Qorus] = []

    def start(omq: Path, *overrides: str, ready: bool = True) -> Qorus:
        q = Qorus(omq, free_port(), overrides)
        started.append(q)
        return q

    try:
        q = rbac_server(root, start, f"http-max-body-size={MAX_BODY}", "rpc-max-batch=1000")
        r = httpx.post(
            f"{q.url}/api/latest/workflows/ACC-SIMPLE?action=createOrder",
            json={"staticdata": {"ref": "before"}, "status": "BLOCKED"},
            auth=ADMIN,
            timeout=30,
        )
        assert r.status_code == 201, r.text
        yield q
    finally:
        for q in started:
            q.kill()


def snapshot(q: Qorus) -> Any:
    api = f"{q.url}/api/latest"
    orders = httpx.get(f"{api}/orders", params={"limit": 10000}, auth=ADMIN, timeout=30).json()
    wfs = httpx.get(f"{api}/workflows", auth=ADMIN, timeout=30).json()
    rows = sorted(
        (o["workflow_instanceid"], o["workflowstatus"], o["priority"], o["modified"])
        for o in orders
    )
    return rows, [(w["name"], w["TOTAL"], w["autostart"], w["enabled"]) for w in wfs]


@pytest.fixture
def unchanged(server: Qorus) -> Iterator[None]:
    before = snapshot(server)
    yield
    assert httpx.get(f"{server.url}/api/latest/system/ping", auth=ADMIN).json() == "OK"
    assert snapshot(server) == before


def body_of(path: str, method: str, params: list[Any]) -> bytes:
    if path == "/JSON":
        return json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": 1}).encode()
    if path == "/RPC2":
        return xmlrpc.client.dumps(tuple(params), method, allow_none=True).encode()
    return yaml.safe_dump({"method": method, "params": params}).encode()


def error_of(path: str, r: httpx.Response) -> tuple[int, str]:
    """(fault code, "ERROR-CODE: description") of an answer in the protocol's format."""
    assert not LEAKS.search(r.text), r.text[:500]
    if path == "/JSON":
        err = r.json()["error"]
        return int(err["code"]), str(err["message"])
    if path == "/RPC2":
        with pytest.raises(xmlrpc.client.Fault) as info:
            xmlrpc.client.loads(r.content)
        return info.value.faultCode, info.value.faultString
    err = yaml.safe_load(r.text)["error"]
    return int(err["code"]), str(err["message"])


def post(q: Qorus, path: str, content: bytes, auth: Any = ADMIN, **kw: Any) -> httpx.Response:
    return httpx.post(f"{q.url}{path}", content=content, auth=auth, timeout=60, **kw)


CREATE = ["ACC-SIMPLE", {"staticdata": {"ref": "hostile"}}]


@pytest.mark.parametrize("path", GATEWAYS)
def test_no_login_is_401(server: Qorus, path: str, unchanged: None) -> None:
    body = body_of(path, "omq.system.create-order", CREATE)
    for auth in (None, ("admin", "wrong-password")):
        r = post(server, path, body, auth=auth)
        assert r.status_code == 401, r.text
        assert r.headers["www-authenticate"] == 'Basic realm="Qorus"'
        code, msg = error_of(path, r)
        assert code == -32001 and msg.startswith("AUTHENTICATION-ERROR: ")


def test_serverproxy_without_login(server: Qorus) -> None:
    with (
        xmlrpc.client.ServerProxy(f"{server.url}/RPC2") as p,
        pytest.raises(xmlrpc.client.ProtocolError) as info,
    ):
        p.omq.system.ping()
    assert info.value.errcode == 401
    user, pw = ADMIN
    with xmlrpc.client.ServerProxy(f"http://{user}:{pw}@127.0.0.1:{server.port}/RPC2") as p:
        assert p.omq.system.ping() == "OK"


@pytest.mark.parametrize("path", GATEWAYS)
def test_user_without_the_permission(server: Qorus, path: str, unchanged: None) -> None:
    assert "OK" in post(server, path, body_of(path, "omq.system.ping", []), auth=VIEWER).text
    for method, params in (
        ("omq.system.create-order", CREATE),
        ("omq.system.start-workflow", ["ACC-SIMPLE"]),
        ("omq.system.set-option", [{"max-retries": 1}]),
        ("omq.system.shutdown", []),
        ("omq.system.cancel-workflow-instances", [[1, 2, 3]]),
    ):
        r = post(server, path, body_of(path, method, params), auth=VIEWER)
        assert r.status_code == 200, r.text
        code, msg = error_of(path, r)
        assert code == -32003 and msg.startswith("AUTHORIZATION-ERROR: "), (method, msg)


@pytest.mark.parametrize("path", GATEWAYS)
def test_bodies_too_large(server: Qorus, path: str, unchanged: None) -> None:
    r = post(server, path, b" " * (MAX_BODY + 1))
    assert r.status_code == 413, r.text
    assert error_of(path, r)[1].startswith("REQUEST-TOO-LARGE: ")
    bomb = gzip.compress(b" " * (MAX_BODY * 5))
    r = post(server, path, bomb, headers={"content-encoding": "gzip"})
    assert r.status_code == 413 and "decompressed" in r.text
    # a stranger's upload is not read: 401 first
    r = post(server, path, b" " * (MAX_BODY + 1), auth=None)
    assert r.status_code == 401


def test_bodies_too_deep(server: Qorus, unchanged: None) -> None:
    for depth in (150, 40_000):  # 40,000 levels of XML-RPC arrays are 1.7 MB
        r = post(server, "/JSON", b'{"jsonrpc":"2.0","method":"x","id":1,"params":' + b"[" * depth)
        assert error_of("/JSON", r)[0] == -32700
        nested = "[" * depth + "]" * depth
        r = post(
            server, "/JSON", f'{{"jsonrpc":"2.0","method":"x","params":{nested},"id":1}}'.encode()
        )
        assert error_of("/JSON", r)[0] == -32700
        xml = "<value><array><data>" * depth + "</data></array></value>" * depth
        doc = f"<methodCall><methodName>x</methodName><params><param>{xml}</param></params>"
        doc += "</methodCall>"
        r = post(server, "/RPC2", doc.encode())
        code, msg = error_of("/RPC2", r)
        assert code == -32700 and "deep" in msg
        r = post(server, "/YAML", f"method: x\nparams: {nested}\n".encode())
        code, msg = error_of("/YAML", r)
        assert code == -32700, msg


def test_xml_entity_bombs(server: Qorus, unchanged: None) -> None:
    laughs = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    for dtd, ref in (
        (laughs, "&a9;"),
        ('<!ENTITY x SYSTEM "file:///etc/passwd">', "&x;"),
        ('<!ENTITY % p SYSTEM "http://127.0.0.1:1/evil.dtd"> %p;', "x"),
    ):
        doc = (
            f'<?xml version="1.0"?><!DOCTYPE m [{dtd}]><methodCall><methodName>'
            f"omq.system.create-order</methodName><params><param><value>{ref}</value></param>"
            "</params></methodCall>"
        )
        r = post(server, "/RPC2", doc.encode())
        code, msg = error_of("/RPC2", r)
        assert code == -32700 and "DOCTYPE" in msg and "root:" not in msg


def test_yaml_alias_bomb(server: Qorus, unchanged: None) -> None:
    doc = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 10):
        doc += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n"
    doc += "method: omq.system.create-order\nparams: [ACC-SIMPLE, {staticdata: {ref: *a9}}]\n"
    r = post(server, "/YAML", doc.encode())
    code, msg = error_of("/YAML", r)
    assert code == -32700 and "aliases" in msg


def test_requests_of_the_wrong_shape(server: Qorus, unchanged: None) -> None:
    def jcode(body: Any) -> int:
        return error_of("/JSON", post(server, "/JSON", json.dumps(body).encode()))[0]

    create = {"jsonrpc": "2.0", "method": "omq.system.create-order", "id": 1}
    assert jcode({**create, "params": "ACC-SIMPLE"}) == -32602
    assert jcode({**create, "method": 5}) == -32600
    assert jcode({**create, "method": None}) == -32600
    assert jcode({**create, "id": {"a": 1}}) == -32600
    assert jcode({**create, "params": [1, 2, 3, 4, 5]}) == -32602
    assert jcode({**create, "params": {"staticdata": "not a hash", "name": "ACC-SIMPLE"}}) == -32602
    assert jcode({**create, "method": "omq.system." + "x" * 100_000}) == -32600
    assert jcode({**create, "method": "omq.user.service.nomethod"}) == -32601
    assert jcode("text") == -32600
    out = post(server, "/JSON", b'[1, "a", null]').json()  # each bad request answered
    assert [o["error"]["code"] for o in out] == [-32600, -32600, -32600]
    assert error_of("/JSON", post(server, "/JSON", b"\x00\xff"))[0] == -32700
    xml_no_name = b"<methodCall><params></params></methodCall>"
    assert error_of("/RPC2", post(server, "/RPC2", xml_no_name))[0] == -32600
    assert error_of("/RPC2", post(server, "/RPC2", b"not xml at all"))[0] == -32700
    for text in ("method: [a, b]\n", "- method\n", "method: omq.system.ping\nparams: {1: 2}\n"):
        code, msg = error_of("/YAML", post(server, "/YAML", text.encode()))
        assert code in (-32600, -32602), msg


def test_batch_of_10000_calls_is_refused_whole(server: Qorus, unchanged: None) -> None:
    call = {"jsonrpc": "2.0", "method": "omq.system.create-order", "params": CREATE}
    batch = [{**call, "id": i} for i in range(10_000)]
    r = post(server, "/JSON", json.dumps(batch).encode())
    assert r.status_code == 200
    answer = r.json()
    assert isinstance(answer, dict) and answer["id"] is None
    assert answer["error"]["code"] == -32600
    assert "rpc-max-batch" in answer["error"]["message"] and "10000" in answer["error"]["message"]


#: values no first parameter of an operation may take
HOSTILE: list[Any] = ["a\x00b", 2**70, -1, 1.5, "x" * 5000, [[1]], {"a": [1]}, True]
#: RPC methods not walked: they end the server under test
NOT_WALKED = {"omq.system.shutdown", "omq.system.shutdown-wait"}


def test_every_rpc_method_refuses_hostile_params(server: Qorus, unchanged: None) -> None:
    """Every RPC method of the registry whose handler takes a parameter, over JSON-RPC with a
    hostile first param (positional, and named for a trailing struct): a clear error, never an
    internal or database error, and nothing changes."""
    from qorus_server.api import REGISTRY

    failures: list[str] = []
    batch: list[dict[str, Any]] = []
    for op in REGISTRY:
        if not op.rpc or op.rpc in NOT_WALKED:
            continue
        for value in HOSTILE:
            batch.append({"jsonrpc": "2.0", "method": op.rpc, "params": [value]})
    for i, call in enumerate(batch):
        call["id"] = i
    answers: list[dict[str, Any]] = []
    for start in range(0, len(batch), 500):
        r = post(server, "/JSON", json.dumps(batch[start : start + 500]).encode())
        assert r.status_code == 200 and not LEAKS.search(r.text), r.text[:500]
        answers.extend(r.json())
    assert [a["id"] for a in answers] == list(range(len(batch)))
    for call, answer in zip(batch, answers, strict=True):
        what = f"{call['method']}({call['params'][0]!r:.40})"
        if "result" in answer:
            if call["method"] != "omq.system.help":  # help only reads: any name is fine
                failures.append(f"{what}: answered {str(answer['result'])[:100]}")
            continue
        err = answer["error"]
        if err["code"] not in (-32602, -32004, -32000) or err["data"]["err"] in (
            "DB-ERROR",
            "INTERNAL-ERROR",
        ):
            failures.append(f"{what}: {err['code']} {err['message'][:160]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("path", GATEWAYS)
def test_token_login(server: Qorus, path: str) -> None:
    r = httpx.post(
        f"{server.url}/api/public/login",
        json={"user": VIEWER[0], "pass": VIEWER[1]},
        timeout=30,
    )
    token = r.json()["token"]
    body = body_of(path, "omq.system.ping", [])
    r = post(server, path, body, auth=None, headers={"qorus-token": token})
    assert r.status_code == 200 and "OK" in r.text and "error" not in r.text.lower()
    r = post(server, path, body, auth=None, headers={"qorus-token": "not-" + token})
    assert r.status_code == 401 and error_of(path, r)[0] == -32001
