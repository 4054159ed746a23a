"""The repository functions the API and the server call instead of building SQL:
``qorus_core.db.interfaces``, ``qorus_core.db.audit`` and the order lookups of
``orders_query``, on every database."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import audit, interfaces, orders_query
from qorus_core.db import tables as t
from qorus_core.db.engine import ping
from qorus_core.db.orders import create_order
from qorus_core.db.refdata import AUDIT_CODE_BY_NAME
from tests.helpers.definitions import add_workflow, noop_step

pytestmark = pytest.mark.integration


def test_workflow_rows(engine: Engine) -> None:
    noop_step(engine, "IfaceA")
    noop_step(engine, "IfaceB")
    wfid = add_workflow(
        engine,
        "IFACEWF",
        ["IfaceA", "IfaceB"],
        version="2.0",
        autostart=0,
        errors={"E-ONE": {"severity": "MAJOR", "business": True}},
    )
    with engine.begin() as conn:
        ping(conn)
        assert wfid in interfaces.workflow_ids(conn)
        assert interfaces.workflow_label(conn, wfid) == ("IFACEWF", "2.0")
        assert interfaces.workflow_label(conn, wfid + 1000) is None
        assert interfaces.workflow_labels(conn, [wfid, wfid + 1000]) == [(wfid, "IFACEWF", "2.0")]
        assert interfaces.workflow_autostart(conn, wfid) == 0
        assert interfaces.workflow_autostart(conn, wfid + 1000) is None
        assert interfaces.workflow_options(conn, wfid + 1000) is None
        interfaces.store_workflow_options(conn, wfid, {"max-retries": {"value": 3}})
        assert interfaces.workflow_options(conn, wfid) == {"max-retries": {"value": 3}}
        [err] = interfaces.workflow_errors(conn, wfid)
        assert err["error"] == "E-ONE" and err["business"] is True
        steps = interfaces.workflow_steps(conn, wfid)
        assert [s["name"] for s in steps] == ["IfaceA", "IfaceB"]
        assert steps[0]["dependson"] == [] and steps[1]["dependson"] == [steps[0]["stepid"]]


def test_order_lookups(engine: Engine) -> None:
    noop_step(engine, "IfaceK")
    wfid = add_workflow(engine, "IFACEKEYS", ["IfaceK"], keys=["cust"])
    wfiid = create_order(engine, wfid, {}, orderkeys={"cust": ["a", "b"]})
    with engine.connect() as conn:
        assert orders_query.order_workflowid(conn, wfiid) == wfid
        assert orders_query.order_workflowid(conn, wfiid + 1000) is None
        assert sorted(orders_query.order_keys(conn, wfiid)) == [("cust", "a"), ("cust", "b")]
        assert orders_query.order_keys(conn, wfiid + 1000) == []


def test_insert_audit(engine: Engine) -> None:
    with engine.begin() as conn:
        ident = audit.insert_audit(conn, "USER-EVENT", audit_user_event="E", who="w")
    assert ident is not None
    ae = t.audit_events
    with engine.connect() as conn:
        row = conn.execute(select(ae).where(ae.c.audit_eventid == ident)).one()._mapping
    assert row["audit_event_code"] == AUDIT_CODE_BY_NAME["USER-EVENT"]
    assert row["audit_user_event"] == "E" and row["who"] == "w" and row["created"] is not None
