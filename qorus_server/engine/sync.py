"""Synchronous execution: create an order and run it to a final status in the caller's thread.

``POST workflows/{id}?action=execSynchronous``, ``omq.system.exec-synchronous-workflow`` and
``UserApi.execSynchronousWorkflow`` come here. The order is created with its ``synchronous``
flag set, so the workflow's normal execution instances never claim it (see
:func:`~qorus_core.db.claims.claim_batch`); an execution instance in mode SYNCHRONOUS
(listed under ``exec`` while it runs, without worker threads) runs it with the same
:class:`~qorus_server.engine.runner.OrderRunner` as normal instances, one commit per step, and
waits out RETRY delays until the order is COMPLETE or ERROR (or BLOCKED by its code, or the
system stops). An order whose steps wait (ASYNC-WAITING, EVENT-WAITING, WAITING) is run again
as soon as its wait ends; once ``synchronous-wait-timeout`` passes, the answer is the order's
status at that moment and the normal instances take the order over. The flag is cleared at
the end, so a later manual retry of the order is run by the normal instances; crash recovery
clears it too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from qorus_core.db import orders
from qorus_core.db import workflow_runs as runs_db
from qorus_core.db.claims import WAITING, claim_order
from qorus_core.db.refdata import now
from qorus_core.db.unit import after_commit, loads
from qorus_core.model.status import ORDER_STATUS_NAMES
from qorus_core.model.status import OrderStatus as S
from qorus_server.engine.instance import ExecutionInstance
from qorus_server.engine.runner import OrderRunner
from qorus_server.engine.workerdb import WorkerDb

if TYPE_CHECKING:
    from qorus_server.engine.manager import WorkflowManager

SYNCHRONOUS = "SYNCHRONOUS"


def run_synchronous(
    manager: WorkflowManager, workflowid: int, fields: Mapping[str, Any]
) -> dict[str, object]:
    """Create an order of ``workflowid`` from createOrder ``fields``, run it to a final status
    here, and answer ``{workflow_instanceid, status, dynamicdata[, error]}``."""
    rt = manager._rt()
    assert manager.codecache is not None
    wdef = manager._load(workflowid)
    manager.check_runnable(wdef)
    # compile and check first: a workflow that cannot run leaves no order behind
    inst = ExecutionInstance(
        next(manager._ids),
        rt,
        wdef,
        manager.codecache,
        mode=SYNCHRONOUS,
        poll_interval=1.0,
        holdings=manager.holdings,
        on_orphans=manager._orphans,
    )
    inst.status = "running"
    with manager._lock:
        manager._instances[inst.execid] = inst
    try:
        wfiid = _create(rt.engine, workflowid, fields, rt.events, rt.sensitive)
        inst.logger.info(
            "executing SYNCHRONOUS workflow order instance %d of %s", wfiid, wdef.label()
        )
        try:
            _run(inst, wfiid)
        finally:
            with rt.engine.begin() as conn:
                runs_db.set_synchronous(conn, wfiid, False)
        answer = result(rt.engine, wfiid)
        inst.logger.info(
            "SYNCHRONOUS workflow order instance %d finished with status %s",
            wfiid,
            answer["status"],
        )
        return answer
    finally:
        with manager._lock:
            manager._instances.pop(inst.execid, None)
        inst.status = "stopped"


def _create(
    engine: Any, workflowid: int, fields: Mapping[str, Any], events: Any, cipher: Any
) -> int:
    with after_commit(engine, events) as (conn, later):
        wfiid = orders.create_orders(conn, workflowid, [dict(fields)], events=later, cipher=cipher)[
            0
        ]
        runs_db.set_synchronous(conn, wfiid, True)
    return wfiid


def _due(engine: Any, wfiid: int) -> tuple[str, datetime | None]:
    with engine.connect() as conn:
        return runs_db.due_state(conn, wfiid)


def _run(inst: ExecutionInstance, wfiid: int) -> None:
    rt = inst.runtime
    db = WorkerDb(rt.engine)
    # an order whose steps wait answers with its status once this passes
    deadline = now() + timedelta(seconds=int(rt.options.get("synchronous-wait-timeout")))
    try:
        while not rt.stop_event.is_set() and not inst._stopping:
            try:
                with db.tx() as conn:
                    order = claim_order(conn, wfiid, rt.sessionid)
                    if order is not None:
                        inst.holdings.add((wfiid,))  # before the commit (see engine.handback)
            except BaseException:
                inst.holdings.discard((wfiid,))
                inst._orphans()
                raise
            if order is None:
                status, trigger = _due(rt.engine, wfiid)
                if status in WAITING:
                    # woken by whatever ends the wait (its trigger), or answer at the deadline
                    left = (deadline - now()).total_seconds()
                    if left <= 0:
                        return
                    if trigger is not None:
                        left = min(left, (trigger - now()).total_seconds() + 0.01)
                    rt.stop_event.wait(min(max(left, 0.0), 0.1))
                    continue
                if status != S.RETRY or trigger is None:
                    return  # final (or BLOCKED / CANCELED meanwhile, or owned elsewhere)
                secs = (trigger - now()).total_seconds()
                if secs > 0:
                    rt.stop_event.wait(min(secs + 0.01, 1.0))
                continue
            try:
                final = OrderRunner(inst.env, db).run(order)
            except BaseException:
                inst.holdings.discard((wfiid,))
                inst._orphans()  # its last commit may or may not have happened
                raise
            inst.holdings.discard((wfiid,))
            inst.processed += 1
            if final != S.RETRY and final not in WAITING:
                return
    finally:
        db.close()


def result(engine: Any, wfiid: int) -> dict[str, object]:
    """The answer of a synchronous execution: status, dynamic data, the last error if ERROR."""
    with engine.connect() as conn:
        status, dynamic, err = runs_db.order_outcome(conn, wfiid)
    out: dict[str, object] = {
        "workflow_instanceid": wfiid,
        "status": ORDER_STATUS_NAMES.get(status, status),
        "dynamicdata": loads(dynamic) or None,
    }
    if err is not None:
        out["error"] = {"error": err[0], "description": err[1], "info": _info(err[2])}
    return out


def _info(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
