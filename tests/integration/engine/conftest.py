"""Fixtures for engine tests: a server-like object and a started WorkflowManager."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from sqlalchemy.engine import Engine

from qorus_server.engine.manager import WorkflowManager
from tests.helpers.engine import Logs, make_server, next_tag


@pytest.fixture
def logs() -> Logs:
    return Logs(next_tag())


@pytest.fixture
def server(engine: Engine) -> SimpleNamespace:
    return make_server(engine)


@pytest.fixture
def manager(server: SimpleNamespace, logs: Logs) -> Iterator[WorkflowManager]:
    m = WorkflowManager(logger_factory=logs, poll_interval=0.2)
    m.start(server)
    yield m
    m.stop()
