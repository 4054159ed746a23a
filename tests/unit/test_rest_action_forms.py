"""Every action of the operation registry in both forms, ``path?action=X`` and ``path/X``,
resolving to the same operation; wrong methods, unknown, odd and conflicting actions."""

from __future__ import annotations

import pytest

from qorus_core.model.errors import QorusError, ValidationError
from qorus_server.api import REGISTRY
from qorus_server.api.registry import HTTP_METHODS, Operation
from qorus_server.http.dispatch import resolve_call, split_internal_path
from qorus_server.http.routes import RestRouteError, RestRouter

ROUTER = RestRouter(REGISTRY)
CAPTURE = "7"

ACTION_ROUTES = [
    (op, method, template, action)
    for op in REGISTRY
    for method, template, action in op.rest
    if action is not None
]


def _segs(template: str) -> list[str]:
    return [CAPTURE if s.startswith("{") else s for s in template.split("/") if s]


def _captures(template: str) -> dict[str, str]:
    return {s[1:-1]: CAPTURE for s in template.split("/") if s.startswith("{")}


def _fits(template: str, segs: list[str]) -> bool:
    tpl = template.split("/")
    return len(tpl) == len(segs) and all(
        t.startswith("{") or t == s for t, s in zip(tpl, segs, strict=True)
    )


def _methods_of(template: str, action: str) -> set[str]:
    return {m for o in REGISTRY for m, t, a in o.rest if t == template and a == action}


def test_the_registry_declares_actions() -> None:
    names = {(m, t, a) for _op, m, t, a in ACTION_ROUTES}
    assert ("GET", "system", "ping") in names and ("PUT", "system", "echo") in names


@pytest.mark.parametrize(
    ("op", "method", "template", "action"),
    ACTION_ROUTES,
    ids=[f"{m} {t}?action={a}" for _op, m, t, a in ACTION_ROUTES],
)
def test_every_action_in_both_forms(op: Operation, method: str, template: str, action: str) -> None:
    segs = _segs(template)
    query = ROUTER.resolve(method, segs, action)
    path = ROUTER.resolve(method, [*segs, action], None)
    assert query.op is path.op is op
    assert query.params == path.params == _captures(template)
    # the same through the shared dispatch: a query, a (body) argument, an in-process path
    for url in (f"{template}?action={action}", f"/api/latest/{template}/{action}"):
        s, args = split_internal_path(url.replace("{", "").replace("}", ""))
        s = [CAPTURE if x in _captures(template) else x for x in s]
        found, _ = resolve_call(ROUTER, method, s, args, args.pop("action", None))
        assert found is op
    found, args = resolve_call(ROUTER, method, segs, {"action": action, "x": 1})
    assert found is op and args == {"x": 1, **_captures(template)}
    # both forms at once, agreeing (unless ``path/X`` is itself a resource: then it is that
    # resource's action X, e.g. PUT workflows/start?action=start starts workflow "start")
    both = [*segs, action]
    if not any(_fits(t, both) for o in REGISTRY for _m, t, _a in o.rest):
        assert ROUTER.resolve(method, both, action).op is op
    # every other method: 405 naming the methods that take it
    allowed = _methods_of(template, action)
    for other in set(HTTP_METHODS) - allowed:
        with pytest.raises(RestRouteError) as info:
            ROUTER.resolve(other, segs, action)
        assert info.value.http_status == 405 and set(info.value.allow) == allowed
        assert repr(action) in info.value.desc
        try:
            m = ROUTER.resolve(other, [*segs, action], None)
        except RestRouteError as exc:
            assert exc.http_status == 405 and set(exc.allow) == allowed
        else:  # the path names a sub-resource or a captured name, never another action
            assert m.action is None and m.op is not op


@pytest.mark.parametrize(
    ("method", "segs", "action", "status", "code"),
    [
        ("GET", ["system"], "nosuch", 501, "NOT-IMPLEMENTED"),
        ("PUT", ["system"], "nosuch", 501, "NOT-IMPLEMENTED"),
        ("PUT", ["system", "nosuch"], None, 501, "NOT-IMPLEMENTED"),
        ("PUT", ["system", "a" * 65], None, 400, "INVALID-ARGUMENT"),
        ("PUT", ["system", "no\x00such"], None, 400, "INVALID-ARGUMENT"),
        ("GET", ["system", "nosuch"], None, 404, "NOT-FOUND"),
        ("PUT", ["system"], "ping", 405, "METHOD-NOT-ALLOWED"),
        ("GET", ["system"], "shutdown", 405, "METHOD-NOT-ALLOWED"),
        ("PUT", ["system", "ping"], None, 405, "METHOD-NOT-ALLOWED"),
        ("GET", ["system"], "", 400, "INVALID-ARGUMENT"),
        ("GET", ["system"], "a" * 65, 400, "INVALID-ARGUMENT"),
        ("GET", ["system"], "pi\x00ng", 400, "INVALID-ARGUMENT"),
        ("GET", ["system"], "../ping", 400, "INVALID-ARGUMENT"),
        ("GET", ["system"], "pïng", 400, "INVALID-ARGUMENT"),
        ("PUT", ["system", "shutdown"], "rotateLogFiles", 400, "INVALID-ARGUMENT"),
        ("GET", ["system", "ping"], "echo", 400, "INVALID-ARGUMENT"),
        ("GET", ["nosuch"], "ping", 404, "NOT-FOUND"),
    ],
)
def test_route_errors(
    method: str, segs: list[str], action: str | None, status: int, code: str
) -> None:
    with pytest.raises(RestRouteError) as info:
        ROUTER.resolve(method, segs, action)
    assert (info.value.http_status, info.value.code) == (status, code)
    assert len(info.value.desc) < 400 and "\x00" not in info.value.desc


def test_unknown_action_names_the_action_the_path_and_the_actions() -> None:
    with pytest.raises(RestRouteError) as info:
        ROUTER.resolve("GET", ["system"], "nosuch")
    assert info.value.desc == "GET 'system' has no action 'nosuch'; its GET actions: echo, ping"
    with pytest.raises(RestRouteError) as info:
        ROUTER.resolve("PUT", ["workflows", "W"], "nosuch")
    assert "'workflows/W'" in info.value.desc and "'nosuch'" in info.value.desc
    assert "setAutostart" in info.value.desc


def test_long_text_is_cut_in_messages() -> None:
    long = "x" * 100_000
    for method, segs, action in [
        ("GET", ["system"], long),
        ("PUT", ["system"], "a" + "b" * 63 + "c"),
        ("GET", [long], None),
        ("PUT", ["system", long], None),
        ("PUT", ["system", "shutdown"], "z" * 64),
    ]:
        with pytest.raises(RestRouteError) as info:
            ROUTER.resolve(method, segs, action)
        assert 400 <= info.value.http_status < 600 and len(info.value.desc) < 400


def test_dispatch_action_rules() -> None:
    with pytest.raises(ValidationError, match="given 2 times"):
        resolve_call(ROUTER, "GET", ["system"], {}, ["ping", "ping"])
    with pytest.raises(ValidationError, match="must be a string"):
        resolve_call(ROUTER, "GET", ["system"], {"action": 5})
    with pytest.raises(ValidationError, match="must be a string"):
        resolve_call(ROUTER, "GET", ["system"], {"action": ["ping"]})
    with pytest.raises(ValidationError, match="'ping' but the arguments name action 'echo'"):
        resolve_call(ROUTER, "GET", ["system"], {"action": "echo"}, "ping")
    op, args = resolve_call(ROUTER, "GET", ["system"], {"action": "echo", "a": "1"}, "echo")
    assert op.name == "system.echo" and args == {"a": "1"}
    with pytest.raises(QorusError) as info:
        split_internal_path("/api/" + "n" * 10_000)
    assert len(info.value.desc) < 400
