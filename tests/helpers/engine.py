"""Helpers for engine tests: a server-like object, log capture, waiting for orders."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from qorus_core.db import tables as t
from qorus_core.db.refdata import now
from qorus_core.db.sessions import open_session
from qorus_core.model.errors import QorusError
from qorus_core.options import Options
from qorus_server.api.registry import REGISTRY, CallContext, Operation
from qorus_server.audit import Auditor, record_api_call
from qorus_server.contract import Component
from qorus_server.events import EventBus
from qorus_server.http.routes import RestRouter
from qorus_server.logins import LoginGate


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self) -> list[str]:
        return [r.getMessage() for r in self.records]


class Logs:
    """A logger factory (kind, name) -> Logger whose records tests can read."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.handlers: dict[str, ListHandler] = {}

    def __call__(self, kind: str, name: str) -> logging.Logger:
        logger = logging.getLogger(f"{self.tag}.{kind}.{name}")
        if name not in self.handlers:
            h = ListHandler()
            logger.addHandler(h)
            logger.setLevel(5)
            logger.propagate = False
            self.handlers[name] = h
        return logger

    def messages(self, name: str) -> list[str]:
        h = self.handlers.get(name)
        return h.messages() if h else []


_n = iter(range(1_000_000))


def next_tag() -> str:
    return f"qtest{next(_n)}"


def new_session(engine: Engine) -> int:
    with engine.begin() as conn:
        return open_session(conn, instancekey="test", node="test", url=None, version="test")


class TestServer:
    """The test server: every member of :class:`qorus_server.contract.ServerContract`, with
    no log files (``logs`` None: the engine logs through Python logging), no ``$OMQ_DIR``
    (``omq`` None), no listeners and one pool. Tests may replace any member."""

    __test__ = False  # not a pytest test class

    def __init__(self, engine: Engine, options: Options, *, session: bool = True) -> None:
        self.omq: Any = None
        self.options = options
        self.version = "test"
        self.instance_key = str(options.get("instance-key") or "")
        self.node = options.node
        self.hostname = socket.gethostname()
        self.pid = os.getpid()
        self.started = now()
        self.engine = engine
        self.pools: Any = None
        self.schema_id: str | None = None
        self.sessionid: int | None = new_session(engine) if session else None
        self.sensitive: Any = None
        self.events = EventBus(int(options.get("max-events")))
        self.auditor = Auditor(engine, options)
        self.logs: Any = None
        self.log = logging.getLogger("qorus.test.system")
        self.logins = LoginGate(self)
        self.registry = REGISTRY
        self.router = RestRouter(REGISTRY)
        self.components: list[Component] = []
        self.listeners: list[Any] = []
        self.stopping = False
        self.shutdown_reason: str | None = None
        self._workflows: Any = None
        self._services: Any = None

    @property
    def workflows(self) -> Any:
        if self._workflows is None:
            raise QorusError("the workflow engine is not running", code="WORKFLOW-ENGINE-ERROR")
        return self._workflows

    @workflows.setter
    def workflows(self, manager: Any) -> None:
        self._workflows = manager

    @property
    def services(self) -> Any:
        if self._services is None:
            raise QorusError("the service manager is not running", code="SERVICE-MANAGER-ERROR")
        return self._services

    @services.setter
    def services(self, manager: Any) -> None:
        self._services = manager

    def component_health(self) -> dict[str, Any]:
        return {c.name: "running" for c in self.components}

    @property
    def system_log_path(self) -> Path | None:
        return None

    def request_shutdown(self, reason: str = "shutdown requested") -> None:
        self.stopping = True
        self.shutdown_reason = reason
        self.events.shutdown()

    def wait_shutdown(self, timeout: float | None = None) -> bool:
        return self.stopping

    def audit_api_call(
        self,
        op: Operation,
        ctx: CallContext,
        args: Mapping[str, Any],
        result: Any,
        conn: Connection | None = None,
    ) -> None:
        record_api_call(self, op, ctx, args, conn)  # type: ignore[arg-type]


def make_server(engine: Engine, **options: Any) -> TestServer:
    opts: dict[str, Any] = {"autostart-interfaces": False, "recover_delay": 1}
    opts.update(options)
    return TestServer(engine, Options(opts))


def statuses(engine: Engine, ids: Iterable[int]) -> dict[int, str]:
    wi = t.workflow_instance
    with engine.connect() as conn:
        return {
            int(i): s
            for i, s in conn.execute(
                select(wi.c.workflow_instanceid, wi.c.workflowstatus).where(
                    wi.c.workflow_instanceid.in_(list(ids))
                )
            )
        }


def wait_orders(
    engine: Engine, ids: Iterable[int], final: str = "CE", timeout: float = 60.0
) -> dict[int, str]:
    """Wait until every order has one of the ``final`` status codes; their statuses."""
    ids = list(ids)
    deadline = time.monotonic() + timeout
    while True:
        st = statuses(engine, ids)
        if all(st.get(i) in final for i in ids):
            return st
        if time.monotonic() > deadline:
            raise AssertionError(f"orders did not finish: {st}")
        time.sleep(0.05)


def step_rows(engine: Engine, wfiid: int) -> list[dict[str, Any]]:
    si = t.step_instance
    with engine.connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(
                select(si, t.steps.c.name)
                .join(t.steps, t.steps.c.stepid == si.c.stepid)
                .where(si.c.workflow_instanceid == wfiid)
            )
        ]


def error_rows(engine: Engine, wfiid: int) -> list[dict[str, Any]]:
    ei = t.error_instance
    with engine.connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(
                select(ei).where(ei.c.workflow_instanceid == wfiid).order_by(ei.c.error_instanceid)
            )
        ]
