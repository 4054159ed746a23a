"""The RPC gateways in the real app over a fake server (no database): JSON-RPC 2.0, 1.1 and
1.0, batches and notifications; XML-RPC as Python's xmlrpc.client reads and writes it (faults,
nil, dates, binary, structs, arrays, big integers); YAML-RPC; SOAP; the login before the body;
bad input of every kind answered with the protocol's error, never a 500."""

from __future__ import annotations

import datetime as dt
import json
import xmlrpc.client
from typing import Any

import pytest
import yaml

from qorus_core.model.errors import AuthenticationError
from qorus_server.api.registry import Principal
from tests.helpers.rpc_fake import MAX_BATCH, FakeServer, fake_registry, request


@pytest.fixture
def server() -> FakeServer:
    return FakeServer(fake_registry())


def jrpc(server: FakeServer, body: Any, **kw: Any) -> Any:
    r = request(server, "POST", "/JSON", content=json.dumps(body).encode(), **kw)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


def call(method: str, params: Any = None, id: Any = 1, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": id, **extra}
    if params is not None:
        out["params"] = params
    return out


# ---------------------------------------------------------------------- JSON-RPC


def test_jsonrpc_positional_named_and_results(server: FakeServer) -> None:
    assert jrpc(server, call("test.add", [2, 3])) == {"jsonrpc": "2.0", "result": 5, "id": 1}
    assert jrpc(server, call("test.add", {"a": 2, "b": 5}, id="x"))["result"] == 7
    assert jrpc(server, call("test.add", [4]))["result"] == 4
    assert jrpc(server, call("test.echo"))["result"] is None
    assert server.calls[0] == ("t.add", {"a": 2, "b": 3}, "json-rpc")
    # a handler taking **kwargs: one trailing object is named arguments
    got = jrpc(server, call("test.named", ["W", {"staticdata": {"a": 1}}]))["result"]
    assert got == {"id": "W", "fields": {"staticdata": {"a": 1}}}


def test_jsonrpc_errors_carry_the_family_fault(server: FakeServer) -> None:
    def error(body: Any) -> dict[str, Any]:
        out = jrpc(server, body)
        assert "result" not in out and out["jsonrpc"] == "2.0"
        return dict(out["error"])

    e = error(call("test.missing", [7]))
    assert e == {
        "code": -32004,
        "message": "ORDER-NOT-FOUND: order 7 does not exist",
        "data": {"err": "ORDER-NOT-FOUND", "desc": "order 7 does not exist"},
    }
    assert error(call("test.conflict"))["code"] == -32000
    assert error(call("no.such.method"))["code"] == -32601
    assert error(call("test.add", [1, 2, 3]))["code"] == -32602  # too many
    assert error(call("test.add", {"zz": 1}))["code"] == -32602  # unknown name
    assert error(call("test.add", ["x"]))["data"]["err"] == "INVALID-ARGUMENT"
    e = error(call("test.boom"))
    assert e["code"] == -32603 and e["data"]["err"] == "INTERNAL-ERROR"
    assert "secret internals" not in json.dumps(e)


def test_jsonrpc_bad_requests(server: FakeServer) -> None:
    def code(body: bytes | Any) -> int:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        r = request(server, "POST", "/JSON", content=content)
        assert r.status_code == 200, r.text
        return int(r.json()["error"]["code"])

    assert code(b"{not json") == -32700
    assert code(b"") == -32700
    assert code(b"\xff\xfe") == -32700
    assert code(b"[" * 5000 + b"]" * 5000) == -32700
    assert code(b'"just text"') == -32600
    assert code({"jsonrpc": "2.0", "method": 1, "id": 1}) == -32600
    assert code({"jsonrpc": "2.0", "method": "test.echo", "id": [1]}) == -32600
    assert code({"jsonrpc": "3.0", "method": "test.echo", "id": 1}) == -32600
    assert code({"jsonrpc": "2.0", "method": "test.echo", "params": "x", "id": 1}) == -32602
    assert code({"jsonrpc": "2.0", "method": "test.echo", "params": 5, "id": 1}) == -32602
    assert code([]) == -32600
    deep: Any = 1
    for _ in range(150):
        deep = [deep]
    r = jrpc(server, call("test.echo", [deep]))
    assert r["error"]["code"] == -32700 and "deep" in r["error"]["message"]


def test_jsonrpc_batches_and_notifications(server: FakeServer) -> None:
    batch = [
        call("test.add", [1, 1], id=1),
        {"jsonrpc": "2.0", "method": "test.add", "params": [10, 0]},  # notification
        call("test.missing", [3], id=2),
        5,
        call("test.echo", ["z"], id="three"),
    ]
    out = jrpc(server, batch)
    assert [o["id"] for o in out] == [1, 2, None, "three"]
    assert out[0]["result"] == 2 and out[1]["error"]["code"] == -32004
    assert out[2]["error"]["code"] == -32600 and out[3]["result"] == "z"
    assert [c[1]["a"] for c in server.calls] == [1, 10]  # in order; the notification ran
    # nothing to answer: 204 and no body, for a batch and for a single notification
    for body in (
        [{"jsonrpc": "2.0", "method": "test.add", "params": [5]}],
        {"jsonrpc": "2.0", "method": "test.add", "params": [6]},
        {"jsonrpc": "2.0", "method": "test.missing"},  # a failing notification is not answered
    ):
        r = request(server, "POST", "/JSON", content=json.dumps(body).encode())
        assert r.status_code == 204 and r.content == b""
    assert [c[1]["a"] for c in server.calls] == [1, 10, 5, 6]


def test_jsonrpc_batch_over_the_cap_runs_nothing(server: FakeServer) -> None:
    out = jrpc(server, [call("test.add", [i]) for i in range(MAX_BATCH + 1)])
    assert out["error"]["code"] == -32600 and out["id"] is None
    assert "rpc-max-batch" in out["error"]["message"]
    assert server.calls == []
    assert len(jrpc(server, [call("test.add", [i], id=i) for i in range(MAX_BATCH)])) == MAX_BATCH


def test_jsonrpc_versions_1_1_and_1_0(server: FakeServer) -> None:
    ok = jrpc(server, {"version": "1.1", "method": "test.add", "params": [1, 2], "id": 9})
    assert ok == {"version": "1.1", "result": 3, "id": 9}
    bad = jrpc(server, {"version": "1.1", "method": "test.missing", "params": [1]})
    assert bad["version"] == "1.1" and bad["id"] is None
    assert bad["error"]["name"] == "JSONRPCError" and bad["error"]["code"] == -32004
    assert bad["error"]["error"]["err"] == "ORDER-NOT-FOUND"
    old = jrpc(server, {"method": "test.add", "params": [1, 2], "id": 4})
    assert old == {"result": 3, "error": None, "id": 4}
    old = jrpc(server, {"method": "nope", "params": [], "id": 4})
    assert old["result"] is None and old["error"]["code"] == -32601


def test_jsonrpc_dates_and_bytes_as_text(server: FakeServer) -> None:
    got = jrpc(server, call("test.when"))["result"]
    assert got["date"] == "2024-05-01T10:30:00" and got["none"] is None and got["big"] == 2**40


# ---------------------------------------------------------------------- XML-RPC


def xcall(server: FakeServer, method: str, *params: Any) -> Any:
    body = xmlrpc.client.dumps(params, method, allow_none=True).encode()
    r = request(server, "POST", "/RPC2", content=body, headers={"content-type": "text/xml"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/xml")
    return xmlrpc.client.loads(r.content, use_builtin_types=True)[0][0]


def xfault(server: FakeServer, body: bytes) -> xmlrpc.client.Fault:
    r = request(server, "POST", "/RPC2", content=body)
    assert r.status_code == 200, r.text
    with pytest.raises(xmlrpc.client.Fault) as info:
        xmlrpc.client.loads(r.content)
    return info.value


def test_xmlrpc_values_both_ways(server: FakeServer) -> None:
    when = dt.datetime(2023, 12, 31, 23, 59, 58)
    value = {"s": "text", "n": None, "d": when, "b": b"\x00\xffraw", "l": [1, 2.5, True]}
    assert xcall(server, "test.echo", value) == value
    assert xcall(server, "test.echo", None) is None
    assert xcall(server, "test.add", 20, 22) == 42
    assert xcall(server, "test.named", "W", {"k": [1]}) == {"id": "W", "fields": {"k": [1]}}
    got = xcall(server, "test.when")
    assert got["date"] == dt.datetime(2024, 5, 1, 10, 30) and got["bytes"] == b"\x00\x01bin"
    assert got["none"] is None and got["big"] == str(2**40)  # XML-RPC int is 32-bit


def test_xmlrpc_faults(server: FakeServer) -> None:
    def fault(method: str, *params: Any) -> xmlrpc.client.Fault:
        return xfault(server, xmlrpc.client.dumps(params, method, allow_none=True).encode())

    f = fault("test.missing", 5)
    assert f.faultCode == -32004 and f.faultString == "ORDER-NOT-FOUND: order 5 does not exist"
    assert fault("nope").faultCode == -32601
    f = fault("test.add", 1, 2, 3)
    assert f.faultCode == -32602 and f.faultString.startswith("INVALID-ARGUMENT: ")
    assert fault("test.boom").faultString.startswith("INTERNAL-ERROR: ")
    assert xfault(server, b"<methodCall><methodName>x").faultCode == -32700
    assert xfault(server, b"").faultCode == -32700
    assert xfault(server, b"<a>not xml-rpc</a>").faultCode in (-32700, -32600)
    response = xmlrpc.client.dumps(("x",), methodresponse=True).encode()
    assert xfault(server, response).faultCode == -32600
    bad_int = b"<methodCall><methodName>test.echo</methodName><params><param><value><int>x</int>"
    bad_int += b"</value></param></params></methodCall>"
    assert xfault(server, bad_int).faultCode == -32700
    nul = b"<methodCall><methodName>a&#0;b</methodName></methodCall>"
    assert xfault(server, nul).faultCode == -32700


def test_xmlrpc_entities_are_refused(server: FakeServer) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<methodCall><methodName>test.echo</methodName><params><param><value>&b;</value>"
        b"</param></params></methodCall>"
    )
    f = xfault(server, bomb)
    assert f.faultCode == -32700 and "DOCTYPE" in f.faultString
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<methodCall><methodName>test.echo</methodName><params><param><value>&x;</value>"
        b"</param></params></methodCall>"
    )
    f = xfault(server, xxe)
    assert f.faultCode == -32700 and "root:" not in f.faultString


def test_xmlrpc_list_methods_and_help(server: FakeServer) -> None:
    names = xcall(server, "system.listMethods")
    assert "test.add" in names and "omq.system.help" in names and "system.listMethods" in names
    helped = xcall(server, "omq.system.help")
    assert helped["test.add"]["params"] == "a, [b]"
    assert helped["test.add"]["description"] == "Adds two integers."
    assert helped["test.named"]["params"] == "[id], [{NAME: VALUE, ...}]"


# ---------------------------------------------------------------------- YAML-RPC


def ycall(server: FakeServer, text: str | bytes) -> Any:
    content = text.encode() if isinstance(text, str) else text
    r = request(server, "POST", "/YAML", content=content)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/x-yaml")
    return yaml.safe_load(r.text)


def test_yamlrpc_calls(server: FakeServer) -> None:
    assert ycall(server, "method: test.add\nparams: [1, 2]\n") == {"result": 3}
    assert ycall(server, "method: test.add\nparams: {a: 5}\n") == {"result": 5}
    assert ycall(server, "method: test.echo\nparams: single\n") == {"result": "single"}
    assert ycall(server, "method: test.echo\n") == {"result": None}
    got = ycall(server, "method: test.echo\nparams: [2024-05-01 10:00:00]\n")["result"]
    assert got == dt.datetime(2024, 5, 1, 10, 0)
    got = ycall(server, "method: test.echo\nparams: [!!binary AAH/]\n")["result"]
    assert got == b"\x00\x01\xff"


def test_yamlrpc_errors(server: FakeServer) -> None:
    err = ycall(server, "method: test.missing\nparams: [4]\n")["error"]
    assert err == {
        "name": "YAMLRPCError",
        "code": -32004,
        "message": "ORDER-NOT-FOUND: order 4 does not exist",
        "error": {"err": "ORDER-NOT-FOUND", "desc": "order 4 does not exist"},
    }
    assert ycall(server, "method: nope\n")["error"]["code"] == -32601
    assert ycall(server, "[1, 2]\n")["error"]["code"] == -32600
    assert ycall(server, "method: 5\n")["error"]["code"] == -32600
    assert ycall(server, "method: [\n")["error"]["code"] == -32700
    assert ycall(server, b"\xff\xfe")["error"]["code"] == -32700
    assert (
        ycall(server, "method: test.echo\nparams: !!python/object:os.system ls\n")["error"]["code"]
        == -32700
    )
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 9):
        bomb += f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]\n"
    bomb += "method: test.echo\nparams: [*i]\n"
    err = ycall(server, bomb)["error"]
    assert err["code"] == -32700 and "aliases" in err["message"]


# ---------------------------------------------------------------------- all gateways


@pytest.mark.parametrize("path", ["/JSON", "/RPC2", "/YAML"])
def test_login_before_the_body(server: FakeServer, path: str) -> None:
    server.logins.refuse = AuthenticationError("a login is needed")
    r = request(server, "POST", path, content=b"x" * 100, headers={"authorization": "Basic Og=="})
    assert r.status_code == 401 and r.headers["www-authenticate"] == 'Basic realm="Qorus"'
    assert "AUTHENTICATION-ERROR: a login is needed" in r.text
    assert r.headers.get("connection") == "close"
    assert server.logins.seen[0].authorization == "Basic Og=="
    assert server.logins.seen[0].address == "10.1.2.3"


@pytest.mark.parametrize("path", ["/JSON", "/RPC2", "/YAML"])
def test_refused_permission_is_a_fault(path: str) -> None:
    server = FakeServer(fake_registry())
    server.logins.user = Principal("viewer", frozenset({"LOGIN"}))
    bodies = {
        "/JSON": json.dumps(call("test.guarded")).encode(),
        "/RPC2": xmlrpc.client.dumps((), "test.guarded").encode(),
        "/YAML": b"method: test.guarded\n",
    }
    r = request(server, "POST", path, content=bodies[path])
    assert r.status_code == 200
    assert "AUTHORIZATION-ERROR" in r.text and "lacks permission SHUTDOWN" in r.text
    assert "-32003" in r.text and server.calls == []
    server.logins.user = Principal("admin", frozenset({"LOGIN", "SHUTDOWN"}))
    r = request(server, "POST", path, content=bodies[path])
    assert "done" in r.text and server.calls == [("t.guarded", {}, path_transport(path))]


def path_transport(path: str) -> str:
    return {"/JSON": "json-rpc", "/RPC2": "xml-rpc", "/YAML": "yaml-rpc"}[path]


@pytest.mark.parametrize("path", ["/JSON", "/RPC2", "/YAML"])
def test_body_limits(path: str) -> None:
    server = FakeServer(fake_registry(), **{"http-max-body-size": 2048})
    r = request(server, "POST", path, content=b" " * 4096)
    assert r.status_code == 413 and "REQUEST-TOO-LARGE" in r.text
    r = request(server, "POST", path, content=b"x", headers={"content-encoding": "br"})
    assert r.status_code == 415
    r = request(server, "GET", path)
    assert r.status_code == 405 and r.headers["allow"] == "POST"


def test_soap_is_not_supported(server: FakeServer) -> None:
    r = request(server, "POST", "/SOAP", content=b"<soap/>")
    assert r.status_code == 501
    assert r.json()["err"] == "NOT-IMPLEMENTED" and "SOAP is not supported" in r.json()["desc"]
    r = request(server, "POST", "/SOAP", headers={"accept": "application/x-yaml"})
    assert r.status_code == 501 and "SOAP is not supported" in yaml.safe_load(r.text)["desc"]
    r = request(server, "POST", "/SOAP", headers={"accept": "text/xml"})
    assert r.status_code == 501
    assert "SOAP is not supported" in xmlrpc.client.loads(r.content)[0][0]["desc"]
