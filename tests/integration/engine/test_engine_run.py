"""Orders run: series and parallel steps, dynamic data, keys, workflow class hooks."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.orders import create_order
from qorus_server.engine.manager import WorkflowManager
from tests.helpers.definitions import add_class, add_step, add_workflow, noop_step
from tests.helpers.engine import Logs, step_rows, wait_orders

pytestmark = pytest.mark.integration


def test_series_workflow_completes(engine: Engine, manager: WorkflowManager, logs: Logs) -> None:
    noop_step(engine, "S1", 'wfapi.updateDynamicData({"s1": wfapi.getStaticData("x")})')
    noop_step(engine, "S2", 'UserApi.logInfo("s2 sees %y", wfapi.getDynamicData("s1"))')
    noop_step(engine, "S3", 'wfapi.updateDynamicData({"s3": True})')
    wfid = add_workflow(engine, "SERIES", ["S1", "S2", "S3"])
    manager.start_workflow("SERIES")
    ids = [create_order(engine, wfid, {"x": i}) for i in range(5)]
    manager.notify(wfid)
    st = wait_orders(engine, ids)
    assert set(st.values()) == {"C"}
    for i, wfiid in enumerate(ids):
        rows = step_rows(engine, wfiid)
        assert sorted(r["name"] for r in rows) == ["S1", "S2", "S3"]
        assert {r["stepstatus"] for r in rows} == {"C"}
        with engine.connect() as conn:
            dyn = conn.execute(
                select(t.order_instance.c.dynamicdata).where(
                    t.order_instance.c.workflow_instanceid == wfiid
                )
            ).scalar()
            done = conn.execute(
                select(t.workflow_instance.c.completed).where(
                    t.workflow_instance.c.workflow_instanceid == wfiid
                )
            ).scalar()
        assert dyn is not None and f'"s1":{i}' in dyn and '"s3":true' in dyn
        assert done is not None
    assert "s2 sees 3" in logs.messages("SERIES")


TRACE = 'wfapi.updateDynamicData({"trace": (wfapi.getDynamicData("trace") or []) + ["%s"]})'


def test_parallel_branches_follow_dependencies(engine: Engine, manager: WorkflowManager) -> None:
    for name in "ABCDE":
        noop_step(engine, f"P{name}", TRACE % name)
    wfid = add_workflow(engine, "PARALLEL", ["PA", ["PB", ["PC", "PD"]], "PE"])
    manager.start_workflow("PARALLEL")
    ids = [create_order(engine, wfid, {"n": i}) for i in range(4)]
    manager.notify(wfid)
    assert set(wait_orders(engine, ids).values()) == {"C"}
    with engine.connect() as conn:
        for wfiid in ids:
            dyn = conn.execute(
                select(t.order_instance.c.dynamicdata).where(
                    t.order_instance.c.workflow_instanceid == wfiid
                )
            ).scalar()
            import json

            trace = json.loads(dyn or "{}")["trace"]
            assert sorted(trace) == list("ABCDE")
            pos = {s: trace.index(s) for s in trace}
            assert pos["A"] == 0 and pos["E"] == 4
            assert pos["C"] < pos["D"]


def test_workflow_class_hooks_and_imports(
    engine: Engine, manager: WorkflowManager, logs: Logs
) -> None:
    add_class(
        engine,
        "Helper",
        "class Helper:\n    @staticmethod\n    def twice(x):\n        return 2 * x\n",
    )
    add_step(
        engine,
        "ImportStep",
        """
        import wf
        from OMQ import StatComplete
        from wf import QorusNormalStep

        class ImportStep(wf.QorusNormalStep):
            def primary(self):
                assert issubclass(ImportStep, QorusNormalStep)
                UserApi.logInfo("twice=%d status=%s wfiid=%d", Helper.twice(21), StatComplete,
                                self.getWfiid())
                wfapi.setOrderKey("k1", "v%d" % wfapi.getStaticData("n"))
        """,
        classes=["Helper"],
    )
    code = """
    from wf import QorusWorkflow

    class HookWf(QorusWorkflow):
        def oneTimeInit(self):
            UserApi.logInfo("oneTimeInit")
        def attach(self):
            UserApi.logInfo("attach %d", wfapi.getWfiid())
        def detach(self, status, ext):
            UserApi.logInfo("detach %s", status)
    """
    wfid = add_workflow(
        engine, "HOOKS", ["ImportStep"], keys=["k1"], code=code, class_name="HookWf"
    )
    manager.start_workflow("HOOKS")
    wfiid = create_order(engine, wfid, {"n": 7})
    manager.notify(wfid)
    assert wait_orders(engine, [wfiid])[wfiid] == "C"
    msgs = logs.messages("HOOKS")
    assert "oneTimeInit" in msgs
    assert f"attach {wfiid}" in msgs and "detach COMPLETE" in msgs
    assert f"twice=42 status=COMPLETE wfiid={wfiid}" in msgs
    with engine.connect() as conn:
        keys = conn.execute(
            select(t.order_instance_keys.c.keyname, t.order_instance_keys.c.value).where(
                t.order_instance_keys.c.workflow_instanceid == wfiid
            )
        ).all()
    assert [tuple(k) for k in keys] == [("k1", "v7")]


def test_unregistered_step_types_fail_at_start(engine: Engine, manager: WorkflowManager) -> None:
    from qorus_core.model.errors import QorusError
    from qorus_server.engine import steptypes

    add_step(
        engine,
        "AsyncS",
        "class AsyncS(wf.QorusAsyncStep):\n    def primary(self):\n        pass\n",
        steptype="ASYNC",
        queue="AsyncQ",
    )
    noop_step(engine, "ArrS0")
    add_step(
        engine,
        "ArrS",
        "class ArrS(wf.QorusNormalArrayStep):\n    def array(self):\n        return [1]\n",
        arraytype="SERIES",
    )
    add_workflow(engine, "HASASYNC", ["ArrS0", "AsyncS"])
    add_workflow(engine, "HASARRAY", ["ArrS"])
    saved = [steptypes.find("ASYNC"), steptypes.find("NORMAL", True)]
    steptypes.unregister("ASYNC")
    steptypes.unregister("NORMAL", True)
    try:
        for name, word in (("HASASYNC", "ASYNC"), ("HASARRAY", "array")):
            with pytest.raises(QorusError) as exc:
                manager.start_workflow(name)
            assert exc.value.code == "WORKFLOW-START-ERROR"
            assert word in exc.value.desc
    finally:
        for kind in saved:
            assert kind is not None
            steptypes.register(kind)
    assert manager.list_executions() == []


def test_bad_code_fails_at_start(engine: Engine, manager: WorkflowManager) -> None:
    from qorus_core.model.errors import QorusError

    # oload stores only code that compiles; code in the schema that does not (a schema edited
    # by hand, say) must still be refused at start
    sid = noop_step(engine, "Broken")
    add_workflow(engine, "BROKEN", ["Broken"])
    with engine.begin() as conn:
        conn.execute(
            update(t.steps)
            .where(t.steps.c.stepid == sid)
            .values(code="class Broken(wf.QorusNormalStep)\n    pass\n")
        )
    with pytest.raises(QorusError) as exc:
        manager.start_workflow("BROKEN")
    assert exc.value.code == "COMPILE-ERROR" and "Broken" in exc.value.desc


def test_reset_swaps_code_without_restart(
    engine: Engine, manager: WorkflowManager, logs: Logs
) -> None:
    noop_step(engine, "Versioned", 'UserApi.logInfo("code v1")')
    wfid = add_workflow(engine, "RESETME", ["Versioned"])
    manager.start_workflow("RESETME")
    first = create_order(engine, wfid, {})
    manager.notify(wfid)
    wait_orders(engine, [first])
    new_code = (
        "class Versioned(wf.QorusNormalStep):\n"
        "    def primary(self):\n"
        '        UserApi.logInfo("code v2")\n'
    )
    add_step(engine, "Versioned", new_code)  # oload the same step:version with new code
    assert manager.reset("RESETME")["reset"] == 1
    second = create_order(engine, wfid, {})
    manager.notify(wfid)
    wait_orders(engine, [second])
    msgs = logs.messages("RESETME")
    assert msgs.count("code v1") == 1 and msgs.count("code v2") == 1


def test_create_order_from_step_code(engine: Engine, manager: WorkflowManager) -> None:
    noop_step(engine, "Child1")
    add_workflow(engine, "CHILDWF", ["Child1"])
    noop_step(
        engine,
        "Spawner",
        'wfapi.updateDynamicData({"child": UserApi.createOrder("CHILDWF", None, '
        '{"staticdata": {"from": wfapi.getWfiid()}})})',
    )
    wfid = add_workflow(engine, "SPAWNER", ["Spawner"])
    manager.start_workflow("CHILDWF")
    manager.start_workflow("SPAWNER")
    parent = create_order(engine, wfid, {})
    manager.notify(wfid)
    wait_orders(engine, [parent])
    from qorus_core.db.orders_query import get_order_info

    child = get_order_info(engine, parent)["dynamicdata"]["child"]
    assert wait_orders(engine, [child])[child] == "C"
    assert get_order_info(engine, child)["staticdata"] == {"from": parent}
