"""REST path resolution, formats and encodings without a server."""

from __future__ import annotations

import pytest

from qorus_server.api.registry import CallContext, Registry, operation
from qorus_server.http import codec
from qorus_server.http.compress import choose_encoding
from qorus_server.http.routes import RestRouteError, RestRouter

reg = Registry()


@operation("w.list", rest=[("GET", "workflows", None)], registry=reg)
def _list(ctx: CallContext) -> list[str]:
    return []


@operation("w.get", rest=[("GET", "workflows/{id}", None)], registry=reg)
def _get(ctx: CallContext, id: str) -> str:
    return id


@operation("w.enable", rest=[("PUT", "workflows/{id}", "enable")], registry=reg)
def _enable(ctx: CallContext, id: str) -> str:
    return id


@operation(
    "w.create", rest=[("POST", "workflows/{id}", "createOrder")], success_status=201, registry=reg
)
def _create(ctx: CallContext, id: str) -> int:
    return 1


router = RestRouter(reg)


def test_resolve() -> None:
    assert router.resolve("GET", ["workflows"], None).op.name == "w.list"
    m = router.resolve("GET", ["workflows", "X"], None)
    assert (m.op.name, m.params) == ("w.get", {"id": "X"})
    m1 = router.resolve("PUT", ["workflows", "X", "enable"], None)
    m2 = router.resolve("PUT", ["workflows", "X"], "enable")
    assert m1.op is m2.op and m1.params == m2.params == {"id": "X"}
    assert router.resolve("POST", ["workflows", "X", "createOrder"], None).op.success_status == 201
    assert router.resources() == ["workflows"]


@pytest.mark.parametrize(
    ("method", "segs", "action", "status"),
    [
        ("GET", ["workflows", "X", "enable"], None, 405),
        ("GET", ["workflows", "X"], "enable", 405),
        ("PUT", ["workflows", "X", "nosuch"], None, 501),
        ("PUT", ["workflows", "X"], "nosuch", 501),
        ("PUT", ["workflows", "X"], None, 400),
        ("GET", ["nothing"], None, 404),
        ("DELETE", ["workflows"], None, 405),
    ],
)
def test_errors(method: str, segs: list[str], action: str | None, status: int) -> None:
    with pytest.raises(RestRouteError) as info:
        router.resolve(method, segs, action)
    assert info.value.http_status == status


def test_an_action_beats_a_captured_last_segment() -> None:
    """``GET things/search`` is the action ``search`` of ``things`` (two literal segments),
    not the thing named "search" (one literal and a capture); other names stay things."""
    r = Registry()
    operation("t.get", rest=[("GET", "things/{name}", None)], registry=r)(_get)
    operation("t.search", rest=[("GET", "things", "search")], registry=r)(_list)
    operation("t.put", rest=[("PUT", "things", "post")], registry=r)(_list)
    rt = RestRouter(r)
    m = rt.resolve("GET", ["things", "search"], None)
    assert (m.op.name, m.params, m.action) == ("t.search", {}, "search")
    assert rt.resolve("GET", ["things"], "search").op.name == "t.search"
    m = rt.resolve("GET", ["things", "other"], None)
    assert (m.op.name, m.params) == ("t.get", {"name": "other"})
    # an action of another method does not hide the thing of that name
    m = rt.resolve("GET", ["things", "post"], None)
    assert (m.op.name, m.params) == ("t.get", {"name": "post"})
    assert rt.resolve("PUT", ["things", "post"], None).op.name == "t.put"


def test_accept_and_encoding_choice() -> None:
    assert codec.choose(None) == codec.JSON
    assert codec.choose("text/html, application/x-yaml;q=0.5") == codec.YAML
    assert codec.choose("application/json;q=0.1, text/xml") == codec.XML
    assert choose_encoding("gzip;q=0.5, bzip2") == "bzip2"
    assert choose_encoding("deflate, gzip") == "gzip"
    assert choose_encoding("br") is None
    assert choose_encoding("identity;q=1, *;q=0") is None


def test_codec_round_trip() -> None:
    value = {"a": [1, 2**40], "b": None, "c": {"d": "e"}}
    for kind in (codec.JSON, codec.YAML, codec.XML):
        body, ctype = codec.encode(value, kind)
        back = codec.decode_body(ctype, body)
        expected = dict(value, a=[1, str(2**40)]) if kind == codec.XML else value
        assert back == expected
    with pytest.raises(Exception) as info:
        codec.decode_body("text/xml", b"<nope")
    assert getattr(info.value, "http_status", None) == 400


def test_weighted_header_items() -> None:
    from qorus_server.http.negotiate import weighted

    assert weighted(None) == []
    assert weighted("GZIP;q=0.5, br ,deflate;q=bad,") == [
        ("gzip", 0.5),
        ("br", 1.0),
        ("deflate", 0.0),
    ]
    assert choose_encoding("deflate;q=bad, identity") is None
    assert choose_encoding("*;q=0.3") == "gzip"
