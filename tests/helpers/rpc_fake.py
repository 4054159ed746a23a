"""A fake server for the RPC gateway unit tests: the real app (``build_app``) over a registry
of test operations, a login that lets everyone in (or nobody, or a given user), no database."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx

from qorus_core.model.errors import NotFoundError, QorusError, ValidationError
from qorus_core.options import Options
from qorus_server.api import REGISTRY
from qorus_server.api.registry import CallContext, Principal, Registry, operation
from qorus_server.http.app import RequestTracker, build_app
from qorus_server.security import Credentials

MAX_BATCH = 5


class FakeLogins:
    def __init__(self) -> None:
        self.user: Principal | None = None
        self.refuse: QorusError | None = None
        self.seen: list[Credentials] = []

    async def authenticate(self, credentials: Credentials) -> Principal | None:
        self.seen.append(credentials)
        if self.refuse is not None:
            raise self.refuse
        return self.user


class FakeServer:
    def __init__(self, registry: Registry, **options: Any) -> None:
        self.options = Options({"rpc-max-batch": MAX_BATCH, **options})
        self.logins = FakeLogins()
        self.registry = registry
        self.requests = RequestTracker()
        self.stopping = False
        self.calls: list[tuple[str, dict[str, Any], str]] = []


def fake_registry() -> Registry:
    """Test operations, and the two describing ones of the real registry."""
    reg = Registry()

    @operation("t.echo", rpc="test.echo", blocking=False, registry=reg)
    def echo(ctx: CallContext, value: object = None) -> object:
        """Answers its argument."""
        return value

    @operation("t.add", rpc="test.add", registry=reg)
    def add(ctx: CallContext, a: object, b: object = 0) -> int:
        """Adds two integers."""
        if not isinstance(a, int) or not isinstance(b, int):
            raise ValidationError("arguments 'a' and 'b' must be integers")
        ctx.server.calls.append(("t.add", {"a": a, "b": b}, ctx.transport))  # type: ignore[attr-defined]
        return a + b

    @operation("t.named", rpc="test.named", registry=reg)
    def named(ctx: CallContext, id: object = None, **fields: object) -> dict[str, object]:
        """Takes named arguments."""
        return {"id": id, "fields": fields}

    @operation("t.missing", rpc="test.missing", registry=reg)
    def missing(ctx: CallContext, id: object = None) -> None:
        """Never finds anything."""
        raise NotFoundError(f"order {id} does not exist", code="ORDER-NOT-FOUND")

    @operation("t.conflict", rpc="test.conflict", registry=reg)
    def conflict(ctx: CallContext) -> None:
        """Raises an error of the operation."""
        raise QorusError("the key is taken", code="DUPLICATE-ORDER-KEY")

    @operation("t.boom", rpc="test.boom", registry=reg)
    def boom(ctx: CallContext) -> None:
        """Fails unexpectedly."""
        raise RuntimeError("secret internals")

    @operation("t.guarded", rpc="test.guarded", permissions=("SHUTDOWN",), registry=reg)
    def guarded(ctx: CallContext) -> str:
        """Needs SHUTDOWN."""
        ctx.server.calls.append(("t.guarded", {}, ctx.transport))  # type: ignore[attr-defined]
        return "done"

    @operation("t.when", rpc="test.when", registry=reg)
    def when(ctx: CallContext) -> object:
        """Answers a date, bytes, None and a big integer."""
        return {
            "date": dt.datetime(2024, 5, 1, 10, 30, 0),
            "bytes": b"\x00\x01bin",
            "none": None,
            "big": 2**40,
        }

    reg.add(REGISTRY.get("rpc.help"))
    reg.add(REGISTRY.get("rpc.list-methods"))
    return reg


def request(server: FakeServer, method: str, path: str, **kw: Any) -> httpx.Response:
    """One request to the app in this process (httpx's ASGI transport)."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=build_app(server), client=("10.1.2.3", 4567))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.request(method, path, **kw)

    return asyncio.run(go())
