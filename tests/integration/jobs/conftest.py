"""Fixtures of job tests: a test server, a clock the test moves, a started scheduler driven
by :meth:`JobManager.tick` (no thread waits for a schedule), the operations in-process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from qorus_server.api import REGISTRY, CallContext
from qorus_server.jobs.manager import JobManager
from tests.helpers.engine import Logs, TestServer, make_server, next_tag
from tests.helpers.jobs import T0, ManualClock, start_jobs


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def logs() -> Logs:
    return Logs(next_tag())


@pytest.fixture
def server(engine: Engine) -> TestServer:
    return make_server(engine, audit=["jobs", "job-data", "api"])


@pytest.fixture
def jobs(server: TestServer, clock: ManualClock, logs: Logs) -> Iterator[JobManager]:
    mgr = start_jobs(server, clock, logger_factory=lambda name: logs("job", name), stop_wait=5)
    yield mgr
    mgr.stop()


@pytest.fixture
def api(server: TestServer, jobs: JobManager) -> Any:
    def call(name: str, user: Any = None, **args: Any) -> Any:
        return REGISTRY.call(name, CallContext(server=server, user=user), args)

    return call
