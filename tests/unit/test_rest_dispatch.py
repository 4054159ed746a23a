"""The shared REST dispatch: paths under /api, in-process paths, action and argument rules."""

from __future__ import annotations

import pytest

from qorus_core.model.errors import NotFoundError, QorusError, ValidationError
from qorus_server.api import REGISTRY
from qorus_server.http.dispatch import (
    api_segments,
    query_args,
    resolve_call,
    split_internal_path,
)
from qorus_server.http.routes import RestRouter

ROUTER = RestRouter(REGISTRY)


def test_api_segments() -> None:
    assert api_segments(["latest", "system", "ping"]) == ["system", "ping"]
    assert api_segments(["v3", "orders", "1"]) == ["orders", "1"]
    assert api_segments(["public", "info"]) == ["public", "info"]
    with pytest.raises(NotFoundError):
        api_segments(["system", "ping"])


def test_internal_paths() -> None:
    assert split_internal_path("system/ping") == (["system", "ping"], {})
    assert split_internal_path("/api/latest/system/ping") == (["system", "ping"], {})
    assert split_internal_path("api/v7/orders/1?action=retry;x=2") == (
        ["orders", "1"],
        {"action": "retry", "x": "2"},
    )
    assert split_internal_path("latest/exec") == (["exec"], {})
    with pytest.raises(NotFoundError):
        split_internal_path("/api/nope/system")
    with pytest.raises(NotFoundError):
        split_internal_path("/")
    assert query_args("a=1&a=2") == {"a": ["1", "2"]}


def test_resolve_call() -> None:
    op, args = resolve_call(ROUTER, "PUT", ["orders", "5"], {"note": "n"}, "lock")
    assert op.name == "orders.lock" and args == {"note": "n", "id": "5"}
    op, args = resolve_call(ROUTER, "PUT", ["orders", "5", "breakLock"], {})
    assert op.name == "orders.break-lock" and args == {"id": "5"}
    op, args = resolve_call(ROUTER, "POST", ["workflows", "W"], {"action": "execSynchronous"})
    assert op.name == "workflows.exec-synchronous" and args == {"id": "W"}
    with pytest.raises(ValidationError):
        resolve_call(ROUTER, "PUT", ["orders", "5"], {}, ["lock", "unlock"])
    with pytest.raises(QorusError) as info:
        resolve_call(ROUTER, "GET", ["orders", "5"], {}, "lock")
    assert info.value.http_status == 405
