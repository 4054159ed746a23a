"""``system/health`` is YELLOW while an order has been IN-PROGRESS longer than
``stuck-order-timeout`` seconds, and GREEN again once it moved on (or with the check off)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.orders import create_order
from qorus_core.db.refdata import now
from qorus_server.api.registry import CallContext, call
from tests.helpers.definitions import add_workflow, noop_step
from tests.helpers.engine import make_server

pytestmark = pytest.mark.integration

wi = t.workflow_instance


def health(engine: Engine, **options: Any) -> dict[str, Any]:
    server = make_server(engine, **options)
    server.instance_key = "test"
    result: dict[str, Any] = call("system.health", CallContext(server=server))
    return result


def set_order(engine: Engine, wfiid: int, status: str, age: float) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(wi)
            .where(wi.c.workflow_instanceid == wfiid)
            .values(workflowstatus=status, modified=now() - timedelta(seconds=age))
        )


def test_orders_in_progress_too_long_turn_health_yellow(engine: Engine) -> None:
    noop_step(engine, "Idle")
    wfid = add_workflow(engine, "IDLE", ["Idle"])
    wfiid = create_order(engine, wfid, {"k": 1})
    assert health(engine)["health"] == "GREEN"

    set_order(engine, wfiid, "I", 30)  # in progress, but not for long
    h = health(engine, **{"stuck-order-timeout": 60})
    assert (h["health"], h["stuck-orders"]) == ("GREEN", 0)

    set_order(engine, wfiid, "I", 120)
    h = health(engine, **{"stuck-order-timeout": 60})
    assert (h["health"], h["stuck-orders"]) == ("YELLOW", 1)
    assert health(engine, **{"stuck-order-timeout": 0})["health"] == "GREEN"  # check off

    set_order(engine, wfiid, "R", 120)  # an old RETRY order is not stuck
    assert health(engine, **{"stuck-order-timeout": 60})["health"] == "GREEN"
