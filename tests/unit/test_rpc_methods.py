"""RPC method names onto registry operations: positional and named params, service methods
through ``services.call``, and ``omq.system.help`` / ``system.listMethods`` generated from the
registry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from qorus_core.model.errors import RpcMethodNotFoundError, ValidationError
from qorus_server.api import REGISTRY
from qorus_server.api.registry import CallContext, Operation, Registry, operation
from qorus_server.api.rpc import SERVICE_CALL, bind_params, methods, resolve
from tests.helpers.rpc_fake import FakeServer, fake_registry, request


def op_of(fn: Any) -> Operation:
    return Operation(name="t.op", handler=fn, rpc="t.op")


def test_positional_params_follow_the_declared_order() -> None:
    def handler(ctx: CallContext, id: object, version: object = None) -> None: ...

    op = op_of(handler)
    assert bind_params("m", op, [5]) == {"id": 5}
    assert bind_params("m", op, (5, "1.0")) == {"id": 5, "version": "1.0"}
    assert bind_params("m", op, {"version": "2"}) == {"version": "2"}
    assert bind_params("m", op, None) == {}
    assert bind_params("m", op, []) == {}
    assert bind_params("m", op, 7) == {"id": 7}  # a single scalar (YAML-RPC)
    # a struct is a plain positional value of a handler without **kwargs
    assert bind_params("m", op, [{"a": 1}]) == {"id": {"a": 1}}
    with pytest.raises(ValidationError, match=r"at most 2 positional params \(id, version\)"):
        bind_params("m", op, [1, 2, 3])
    with pytest.raises(ValidationError, match="text names"):
        bind_params("m", op, {1: 2})


def test_kwargs_handlers_take_a_trailing_struct_as_named_args() -> None:
    def handler(ctx: CallContext, id: object = None, name: object = None, **fields: object) -> None:
        return None

    op = op_of(handler)
    assert bind_params("m", op, ["W", {"staticdata": {"a": 1}}]) == {
        "id": "W",
        "staticdata": {"a": 1},
    }
    assert bind_params("m", op, [{"priority": 3}]) == {"priority": 3}
    assert bind_params("m", op, ["W", "N"]) == {"id": "W", "name": "N"}
    with pytest.raises(ValidationError, match="'id' is given twice"):
        bind_params("m", op, ["W", {"id": "X"}])

    def none(ctx: CallContext) -> None: ...

    with pytest.raises(ValidationError, match="takes at most 0 positional params none"):
        bind_params("m", op_of(none), [1])


def test_every_registered_rpc_name_resolves() -> None:
    names = [op.rpc for op in REGISTRY if op.rpc]
    assert "omq.system.ping" in names and "omq.system.create-order" in names
    for name in names:
        assert resolve(REGISTRY, name, None).op.rpc == name
    with pytest.raises(RpcMethodNotFoundError, match=r"omq\.system\.help lists them"):
        resolve(REGISTRY, "omq.system.no-such-thing", None)


@pytest.fixture
def services_call() -> Iterator[list[dict[str, Any]]]:
    """A test-only ``services.call`` in the process-wide registry (the real one, if it is
    registered, is put aside and back)."""
    real = REGISTRY.remove(SERVICE_CALL)
    seen: list[dict[str, Any]] = []

    def call(
        ctx: CallContext,
        id: object,
        method: object,
        args: object = None,
        servicetype: object = None,
    ) -> object:
        """Calls a service method (test)."""
        seen.append({"id": id, "method": method, "args": args, "servicetype": servicetype})
        return {"called": f"{servicetype}:{id}.{method}"}

    REGISTRY.add(Operation(name=SERVICE_CALL, handler=call, desc="Calls a service method."))
    try:
        yield seen
    finally:
        REGISTRY.remove(SERVICE_CALL)
        if real is not None:
            REGISTRY.add(real)


def test_service_methods_map_onto_services_call(services_call: list[dict[str, Any]]) -> None:
    call = resolve(REGISTRY, "omq.user.service.billing.get-total", [1, 2])
    assert call.op.name == SERVICE_CALL
    assert call.args == {
        "id": "billing",
        "method": "get-total",
        "args": [1, 2],
        "servicetype": "USER",
    }
    call = resolve(REGISTRY, "omq.system.service.my.dotted.svc.info", {"k": 1})  # as in Qorus
    assert call.args == {
        "id": "my",
        "method": "dotted.svc.info",
        "args": {"k": 1},
        "servicetype": "SYSTEM",
    }
    assert resolve(REGISTRY, "omq.user.service.s.m", None).args["args"] is None
    for bad in ("omq.user.service.nomethod", "omq.user.service.s.", "omq.system.service..m"):
        with pytest.raises(RpcMethodNotFoundError, match=r"SERVICE\.METHOD"):
            resolve(REGISTRY, bad, None)
    helped = methods(REGISTRY)
    assert helped["omq.user.service.[servicename].[method]"]["operation"] == SERVICE_CALL
    assert "omq.system.service.[servicename].[method]" in helped


def test_service_call_over_json_rpc(services_call: list[dict[str, Any]]) -> None:
    reg = fake_registry()
    reg.add(REGISTRY.get(SERVICE_CALL))
    server = FakeServer(reg)
    body = [
        {"jsonrpc": "2.0", "method": "omq.user.service.billing.total", "params": [3], "id": 1},
        {"jsonrpc": "2.0", "method": "omq.system.service.info.get", "id": 2},
    ]
    r = request(server, "POST", "/JSON", content=json.dumps(body).encode())
    assert [a["result"] for a in r.json()] == [
        {"called": "USER:billing.total"},
        {"called": "SYSTEM:info.get"},
    ]
    assert services_call == [
        {"id": "billing", "method": "total", "args": [3], "servicetype": "USER"},
        {"id": "info", "method": "get", "args": None, "servicetype": "SYSTEM"},
    ]


def test_service_methods_without_a_service_manager() -> None:
    reg = Registry()
    with pytest.raises(RpcMethodNotFoundError, match=r"no operation services\.call"):
        resolve(reg, "omq.user.service.billing.total", [])
    server = FakeServer(fake_registry())
    body = {"jsonrpc": "2.0", "method": "omq.user.service.billing.total", "id": 1}
    err = request(server, "POST", "/JSON", content=json.dumps(body).encode()).json()["error"]
    assert err["code"] == -32601 and "services.call" in err["message"]
    assert not any("service" in name for name in methods(reg))


def test_help_is_generated_from_the_registry() -> None:
    reg = Registry()

    @operation("t.later", rpc="omq.system.later-thing", registry=reg)
    def later(ctx: CallContext, id: object, limit: object = None) -> None:
        """Registered once, described everywhere.

        Not this line."""

    reg.add(REGISTRY.get("rpc.help"))
    reg.add(REGISTRY.get("rpc.list-methods"))
    got = methods(reg)["omq.system.later-thing"]
    assert got == {
        "params": "id, [limit]",
        "description": "Registered once, described everywhere.",
        "category": "t",
        "permissions": ["LOGIN"],
        "operation": "t.later",
    }
    every = methods(REGISTRY)
    assert {op.rpc for op in REGISTRY if op.rpc} <= set(every)
    assert all(v["description"] for v in every.values())
    ctx = CallContext(server=FakeServer(reg))  # type: ignore[arg-type]
    assert reg.call("rpc.list-methods", ctx, {}) == sorted(
        ["omq.system.later-thing", "omq.system.help", "system.listMethods"]
    )
    assert set(reg.call("rpc.help", ctx, {"names": "later-thing"})) == {"omq.system.later-thing"}
    assert set(reg.call("rpc.help", ctx, {"names": ["system.listMethods"]})) == {
        "system.listMethods"
    }
    assert set(reg.call("rpc.help", ctx, {"names": "thing"})) == {"omq.system.later-thing"}
    nothing = reg.call("rpc.help", ctx, {"names": "zzz"})
    assert nothing == {"omq.system.zzz": {"description": "error: no match found for method 'zzz'"}}
    with pytest.raises(ValidationError):
        reg.call("rpc.help", ctx, {"names": [{"a": 1}]})
