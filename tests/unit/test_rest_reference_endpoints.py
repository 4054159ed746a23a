"""The reference endpoint list against our router: every endpoint of the list that the
registry implements resolves, in the very form the list gives it, to that operation.

``rest-endpoints-v1-v7.txt`` is the real product's list, read from the project reference beside
the checkout (``../shared/reference``, or ``$QORUS_REFERENCE_DIR``); it is not copied here:
a path line (``/system``, ``/v2/slas/{sla}``) and under it one line per method and action
(``GET action=ping [V1]``, ``PUT ?action=setJob [V2]``, ``GET [V1]``). Which endpoints we
implement is computed from the registry's declared routes, not from the router, so the test
fails when a route the registry declares cannot be reached the way the list says.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from qorus_server.api import REGISTRY
from qorus_server.http.dispatch import resolve_call, split_internal_path
from qorus_server.http.routes import RestRouteError, RestRouter

REFERENCE = Path(
    os.environ.get("QORUS_REFERENCE_DIR")
    or Path(__file__).resolve().parents[3] / "shared" / "reference"
)
LIST = REFERENCE / "rest-endpoints-v1-v7.txt"
if not LIST.is_file():
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"the reference endpoint list {LIST} is missing (needed under CI)")
    pytest.skip(f"the reference endpoint list {LIST} is not here", allow_module_level=True)
ROUTER = RestRouter(REGISTRY)
CAPTURE = "7"

_METHOD_LINE = re.compile(r"\s+(GET|PUT|POST|DELETE)(?:\s+\??action=([A-Za-z]+))?\s+\[V([1-7])\]")


@dataclass(frozen=True)
class Endpoint:
    version: int
    method: str
    segments: tuple[str, ...]  # without the /vN prefix; captures as written ({id_or_name})
    action: str | None

    @property
    def key(self) -> tuple[str, tuple[str, ...], str | None]:
        return (self.method, _shape(self.segments), self.action)

    def url(self) -> str:
        """The path as a client sends it: ``/api/vN/...`` with ``?action=`` when the list has
        one, every capture filled in."""
        segs = "/".join(CAPTURE if _is_capture(s) else s for s in self.segments)
        query = f"?action={self.action}" if self.action else ""
        return f"/api/v{self.version}/{segs}{query}"


def _is_capture(seg: str) -> bool:
    return seg.startswith("{") and seg.endswith("}")


def _shape(segs: tuple[str, ...]) -> tuple[str, ...]:
    return tuple("{}" if _is_capture(s) else s for s in segs)


def parse_list(text: str) -> list[Endpoint]:
    out: list[Endpoint] = []
    path: tuple[str, ...] | None = None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("/"):
            segs = tuple(s for s in line.strip().split("/") if s)
            if segs and re.fullmatch(r"v[1-7]", segs[0]):
                segs = segs[1:]
            path = segs
            continue
        m = _METHOD_LINE.fullmatch(line)
        assert m is not None and path is not None, f"line {n} of the list: {line!r}"
        out.append(Endpoint(int(m[3]), m[1], path, m[2]))
    return out


ENDPOINTS = parse_list(LIST.read_text(encoding="utf-8"))


def registry_forms() -> dict[tuple[str, tuple[str, ...], str | None], str]:
    """Each (method, path shape, action) the registry declares, in both forms, to its
    operation: ``("PUT", "system", "shutdown")`` is also ``PUT system/shutdown`` and a
    sub-resource ``GET system/health`` is also ``GET system?action=health``, so the list's
    way of naming it is found whichever way the registry declared it."""
    forms: dict[tuple[str, tuple[str, ...], str | None], str] = {}
    for op in REGISTRY:
        for method, template, action in op.rest:
            shape = _shape(tuple(template.split("/")) if template else ())
            forms[(method, shape, action)] = op.name
            if action is not None:
                forms.setdefault((method, (*shape, action), None), op.name)
            elif shape and shape[-1] != "{}":
                forms.setdefault((method, shape[:-1], shape[-1]), op.name)
    return forms


FORMS = registry_forms()
IMPLEMENTED = [(e, FORMS[e.key]) for e in ENDPOINTS if e.key in FORMS]


def _resolve(method: str, url: str) -> tuple[str, dict[str, object]]:
    segs, args = split_internal_path(url)
    action = args.pop("action", None)
    op, args = resolve_call(ROUTER, method, segs, args, action)
    return op.name, args


def test_the_list_is_read_whole() -> None:
    lines = LIST.read_text(encoding="utf-8").splitlines()
    assert len(ENDPOINTS) == sum(1 for line in lines if line[:1].isspace() and line.strip())
    assert Endpoint(1, "GET", ("system",), "ping") in ENDPOINTS
    assert Endpoint(2, "PUT", ("slas", "{sla}"), "setJob") in ENDPOINTS  # the ?action= spelling


def test_the_system_actions_of_the_issue_are_implemented() -> None:
    keys = {e.key for e, _ in IMPLEMENTED}
    for key in [
        ("GET", ("system",), "ping"),
        ("GET", ("system",), "echo"),
        ("PUT", ("system",), "echo"),
        ("PUT", ("system",), "shutdown"),
        ("PUT", ("workflows", "{}"), "enable"),
        ("PUT", ("orders", "{}"), "retry"),
        ("GET", ("system", "health"), None),
    ]:
        assert key in keys, key


@pytest.mark.parametrize(
    ("endpoint", "opname"),
    IMPLEMENTED,
    ids=[f"{e.method} {e.url()}" for e, _ in IMPLEMENTED],
)
def test_list_form_resolves_to_our_operation(endpoint: Endpoint, opname: str) -> None:
    name, args = _resolve(endpoint.method, endpoint.url())
    assert name == opname
    captured = sum(1 for s in endpoint.segments if _is_capture(s))
    assert list(args.values()).count(CAPTURE) == captured
    # the same endpoint under /api/latest and through the action as a (body) argument
    latest = endpoint.url().replace(f"/api/v{endpoint.version}/", "/api/latest/", 1)
    assert _resolve(endpoint.method, latest)[0] == opname
    if endpoint.action:
        segs, _ = split_internal_path(endpoint.url())
        op, _ = resolve_call(ROUTER, endpoint.method, segs, {"action": endpoint.action})
        assert op.name == opname


def _known_shapes() -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for _method, shape, _action in FORMS:
        out.add(shape)
    return out


UNIMPLEMENTED_ACTIONS = [
    e
    for e in ENDPOINTS
    if e.action and e.key not in FORMS and _shape(e.segments) in _known_shapes()
]


def test_unimplemented_actions_of_known_paths_answer_501_or_405() -> None:
    """An action of the list we lack, on a path we serve: 501 naming the action and the path
    (405 when we have that action under another method); never 404 or a crash."""
    assert UNIMPLEMENTED_ACTIONS  # e.g. GET workflows?action=listErrors
    for e in UNIMPLEMENTED_ACTIONS:
        other_methods = {
            m for (m, shape, a) in FORMS if shape == _shape(e.segments) and a == e.action
        }
        with pytest.raises(RestRouteError) as info:
            _resolve(e.method, e.url())
        err = info.value
        if other_methods:
            assert (err.http_status, set(err.allow)) == (405, other_methods), e
        else:
            assert err.http_status == 501 and err.code == "NOT-IMPLEMENTED", e
            path = "/".join(CAPTURE if _is_capture(s) else s for s in e.segments)
            assert repr(e.action) in err.desc and repr(path) in err.desc, err.desc
