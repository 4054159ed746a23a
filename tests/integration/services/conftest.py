"""Fixtures of the service tests: a test server with a started ServiceManager (its services'
logs readable through ``logs``) and ``api(name, user=None, **args)`` calling an operation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from qorus_server.api import REGISTRY, CallContext
from qorus_server.services import ServiceManager
from tests.helpers.engine import Logs, TestServer, make_server, next_tag

Api = Callable[..., Any]


@pytest.fixture
def logs() -> Logs:
    return Logs(next_tag())


@pytest.fixture
def server(engine: Engine) -> TestServer:
    return make_server(engine, audit=["services"], **{"max-service-threads": 8})


@pytest.fixture
def start_manager(server: TestServer, logs: Logs) -> Iterator[Callable[..., ServiceManager]]:
    started: list[ServiceManager] = []

    def start(**kw: Any) -> ServiceManager:
        kw.setdefault("system_release", False)
        sm = ServiceManager(logger_factory=logs, **kw)
        sm.start(server)  # type: ignore[arg-type]
        server.services = sm
        started.append(sm)
        return sm

    yield start
    for sm in reversed(started):
        sm.stop()


@pytest.fixture
def services(start_manager: Callable[..., ServiceManager]) -> ServiceManager:
    return start_manager(thread_wait=0.5)


@pytest.fixture
def api(server: TestServer, services: ServiceManager) -> Api:
    def call(name: str, user: Any = None, transport: str = "internal", **args: Any) -> Any:
        ctx = CallContext(server=server, user=user, transport=transport, source="127.0.0.1")  # type: ignore[arg-type]
        return REGISTRY.call(name, ctx, args)

    return call
