"""The demo release loaded by the real loader and run by the engine: the oload storage contract
and the engine agree (step code, library classes from ``classes:``, the parallel branch, the
errors file with its business and RETRY errors, keys, workflow options), and ReserveStock
reserves with the order-inventory service (loaded by the service manager, idempotent per
order, its stock in the service's state data); the order-fulfilment-report job counts the
completed orders.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from qorus_core.db.refdata import now
from qorus_core.loader import load
from qorus_server.api import REGISTRY, CallContext
from qorus_server.engine.manager import WorkflowManager
from qorus_server.services import ServiceManager
from tests.helpers.engine import Logs, wait_orders
from tests.helpers.jobs import ManualClock, start_jobs

pytestmark = pytest.mark.integration
DEMO = Path(__file__).resolve().parents[3] / "releases" / "demo" / "demo.qrf"


def order(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": n,
        "customer_id": 100 + n,
        "lines": [{"sku": "SKU-1", "qty": 2, "price": 5.5}],
        "total": 11.0,
        **extra,
    }


@pytest.fixture
def services(server: SimpleNamespace, logs: Logs) -> Iterator[ServiceManager]:
    sm = ServiceManager(logger_factory=logs, system_release=False)
    sm.start(server)  # type: ignore[arg-type]
    server.services = sm
    yield sm
    sm.stop()


def test_demo_orders_run(
    engine: Engine, server: SimpleNamespace, manager: WorkflowManager, services: ServiceManager
) -> None:
    load(engine, [str(DEMO)])
    server.workflows = manager

    def api(name: str, **args: Any) -> Any:
        return REGISTRY.call(name, CallContext(server=server), args)

    api("workflows.start", id="ORDER-FULFILMENT")
    ids = [
        api("workflows.create-order", id="ORDER-FULFILMENT", staticdata=order(n))[
            "workflow_instanceid"
        ]
        for n in range(1, 6)
    ]
    bad = api("workflows.create-order", id="ORDER-FULFILMENT", staticdata={"order_id": 99})[
        "workflow_instanceid"
    ]
    back = api(
        "workflows.create-order",
        id="ORDER-FULFILMENT",
        staticdata=order(7, lines=[{"sku": "SKU-9", "qty": 1, "price": 11.0, "backorder": True}]),
    )["workflow_instanceid"]
    assert wait_orders(engine, ids, final="C") == dict.fromkeys(ids, "C")
    assert wait_orders(engine, [bad], final="E") == {bad: "E"}
    assert wait_orders(engine, [back], final="R") == {back: "R"}

    info = api("orders.info", id=bad)
    [e] = info["ErrorInstances"]
    assert e["error"] == "INVALID-ORDER" and e["business_error"] is True
    assert info["business_error"] is True

    for wfiid in ids:
        info = api("orders.info", id=wfiid)
        n = info["staticdata"]["order_id"]
        # ValidateOrder ran with the library class OrderRules and set the keys
        assert info["keys"] == {"order_id": str(n), "customer_id": str(100 + n)}
        dd = info["dynamicdata"]
        assert dd["reservation"] == f"RES-{n}"
        assert dd["payment_ref"] == f"PAY-{n}"
        assert dd["invoice"]["number"] == f"INV-{n}"
        assert dd["shipment"] == {"carrier": "demo-carrier", "tracking": f"DEMO-CARRIER-{n}"}
        assert {s["stepname"]: s["stepstatus"] for s in info["StepInstances"]} == {
            "ValidateOrder": "COMPLETE",
            "ReserveStock": "COMPLETE",
            "ChargePayment": "COMPLETE",
            "IssueInvoice": "COMPLETE",
            "ShipOrder": "COMPLETE",
        }

    # the back-ordered order waits in RETRY (STOCK-UNAVAILABLE, retry-delay 60 s) beside the
    # parallel branch that completed; an operator skips the step and the order finishes
    info = api("orders.info", id=back)
    steps = {s["stepname"]: s["stepstatus"] for s in info["StepInstances"]}
    assert steps["ReserveStock"] == "RETRY" and "ShipOrder" not in steps
    assert steps["ChargePayment"] == steps["IssueInvoice"] == "COMPLETE"
    assert [e["error"] for e in info["ErrorInstances"]] == ["STOCK-UNAVAILABLE"]
    [reserve] = [s for s in info["StepInstances"] if s["stepname"] == "ReserveStock"]
    api("orders.skip-step", id=back, stepid=reserve["stepid"])
    assert wait_orders(engine, [back], final="C") == {back: "C"}
    assert "reservation" not in api("orders.info", id=back)["dynamicdata"]

    # a reservation the service made while the step's own commit was lost (a crash, say):
    # on the retry, validation() finds it and the step completes without reserving again
    lost = api(
        "workflows.create-order",
        id="ORDER-FULFILMENT",
        staticdata=order(8, lines=[{"sku": "SKU-9", "qty": 1, "price": 11.0, "backorder": True}]),
    )["workflow_instanceid"]
    assert wait_orders(engine, [lost], final="R") == {lost: "R"}
    before = api("services.call", id="order-inventory", method="available", args="SKU-1")
    made = api(
        "services.call",
        id="order-inventory",
        method="reserve",
        args=[8, [{"sku": "SKU-1", "qty": 1}]],
    )
    assert made == {"reserved": True, "reservation": "RES-8"}
    api("orders.retry", id=lost)
    assert wait_orders(engine, [lost], final="C") == {lost: "C"}
    assert api("orders.info", id=lost)["dynamicdata"]["reservation"] == "RES-8"
    after = api("services.call", id="order-inventory", method="available", args="SKU-1")
    assert after == before - 1  # reserved once, by the call above

    [wf] = [w for w in api("workflows.list") if w["name"] == "ORDER-FULFILMENT"]
    assert (wf["COMPLETE"], wf["ERROR"], wf["TOTAL"]) == (7, 1, 8)

    # the service holds the six reservations in its state data
    figures = api("services.call", id="order-inventory", method="figures")
    assert figures["reservations"] == 6 and figures["stock"]["SKU-1"] == 500 - 11
    state = api("services.info", id="order-inventory")["state"]
    assert sorted(state["reservations"]) == ["1", "2", "3", "4", "5", "8"]
    # reserving an order again answers its reservation and takes no stock
    again = api(
        "services.call",
        id="order-inventory",
        method="reserve",
        args=[3, [{"sku": "SKU-1", "qty": 2}]],
    )
    assert again == {"reserved": True, "reservation": "RES-3"}
    assert api("services.call", id="order-inventory", method="available", args="SKU-1") == 489

    # the demo's job counts the shipped orders: all seven, then none new since its first run
    clock = ManualClock(now())
    jobs = start_jobs(server, clock)
    try:
        first = api("jobs.run", id="order-fulfilment-report")
        assert first["status"] == "COMPLETE"
        assert api("jobs.result", id=first["job_instanceid"])["info"] == {
            "shipped": 7,
            "since": None,
        }
        clock.advance(seconds=1)
        second = api("jobs.run", id="order-fulfilment-report")
        info = api("jobs.result", id=second["job_instanceid"])["info"]
        assert second["status"] == "COMPLETE" and info["shipped"] == 0 and info["since"]
        job = api("jobs.info", id="order-fulfilment-report")
        assert job["schedule"] == "*/15 * * * *" and job["COMPLETE"] == 2
    finally:
        jobs.stop()
