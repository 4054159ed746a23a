"""Helpers for engine tests: a server-like object, log capture, waiting for orders."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.sessions import open_session
from qorus_core.options import Options
from qorus_server.events import EventBus


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


def make_server(engine: Engine, **options: Any) -> SimpleNamespace:
    opts: dict[str, Any] = {"autostart-interfaces": False, "recover_delay": 1}
    opts.update(options)
    return SimpleNamespace(
        engine=engine,
        options=Options(opts),
        events=EventBus(),
        sessionid=new_session(engine),
        omq=None,
    )


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
