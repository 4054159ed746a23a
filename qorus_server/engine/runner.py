"""Running one claimed order: its steps in dependency order, one commit per step.

Each step's status, the order's dynamic data, its key changes, its error instances and — when
nothing more can run — the order's final status commit together in one transaction. Every
step commit also checks that this session still owns the order, so an order taken away (a
stale session recovered by another node) is dropped rather than processed twice.

No IN-PROGRESS row is written before a step runs (it would double the commits). After a crash
or a retry, every step that may have run (a step of a RETRY order whose predecessors are
COMPLETE and which is not COMPLETE itself) therefore runs ``validation()`` before ``primary()``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from qorus_core.db import sensitive
from qorus_core.db import steps as steps_db
from qorus_core.db.claims import ClaimedOrder, StepRow
from qorus_core.db.refdata import now
from qorus_core.db.unit import dumps
from qorus_core.db.wfdefs import StepDef
from qorus_core.model.status import ORDER_STATUS_NAMES, STATUS_RANK
from qorus_core.model.status import OrderStatus as S
from qorus_server.engine import steptypes
from qorus_server.engine.env import RunEnv
from qorus_server.engine.errors import ResolvedError, from_exception, resolve
from qorus_server.engine.steptypes import StepCall
from qorus_server.engine.workerdb import WorkerDb
from qorus_server.userapi import context
from qorus_server.userapi.context import OrderContext


class LostOwnership(Exception):
    """The order no longer belongs to this session; stop working on it."""


@dataclass
class StepOutcome:
    stepid: int
    ind: int
    status: str
    retries: int
    started: datetime
    errors: list[ResolvedError]
    retry_delay: int | None


class OrderRunner:
    """Runs orders of one workflow for one execution instance (shared by its workers)."""

    def __init__(self, env: RunEnv, db: WorkerDb) -> None:
        self.env = env
        self.db = db

    # ------------------------------------------------------------------ order

    def run(self, order: ClaimedOrder) -> str | None:
        """Process a claimed order until nothing more can run; its final status code, or
        None when the order was lost to another session."""
        env = self.env
        wdef = env.wdef
        ctx = OrderContext(
            runtime=env.runtime,
            logger=env.logger,
            workflowid=wdef.workflowid,
            workflow_name=wdef.name,
            workflow_version=wdef.version,
            workflow_instanceid=order.workflow_instanceid,
            parent_workflow_instanceid=order.parent_workflow_instanceid,
            staticdata=order.staticdata,
            dynamicdata=order.dynamicdata,
            workflow_options=env.options,
            workflow_keys=wdef.keys,
        )
        token = context.set_current(ctx)
        final: str | None = None
        try:
            if env.wfobj is not None:
                env.call_hook("attach")
            final = self._run_steps(ctx, order)
        except LostOwnership:
            env.logger.warning(
                "order %d was taken over by another session; dropped", order.workflow_instanceid
            )
            final = None
        finally:
            if env.wfobj is not None:
                env.call_hook(
                    "detach",
                    ORDER_STATUS_NAMES.get(final or "", ""),
                    order.external_order_instanceid,
                )
            context.reset_current(token)
        return final

    def _runnable(self, steps: dict[tuple[int, int], StepRow], ran: set[int]) -> StepDef | None:
        wdef = self.env.wdef
        for sid in wdef.order:
            if sid in ran:
                continue
            row = steps.get((sid, 0))
            if row is not None and row.status in (S.COMPLETE, S.ERROR):
                continue
            step = wdef.steps[sid]
            if all((d, 0) in steps and steps[(d, 0)].status == S.COMPLETE for d in step.depends_on):
                return step
        return None

    def _run_steps(self, ctx: OrderContext, order: ClaimedOrder) -> str:
        steps = order.steps
        ran: set[int] = set()
        final: str | None = None
        # the steps that may have run before: runnable now in an order that comes back in RETRY
        frontier: set[int] = set()
        if order.status == S.RETRY:
            while (s := self._runnable(steps, ran | frontier)) is not None:
                frontier.add(s.stepid)
        step = self._runnable(steps, ran)
        if step is None:
            # nothing can run (e.g. every step was skipped): settle the order's status
            final = self._derive(steps)
            with self.db.tx() as conn:
                self._finish(conn, ctx, order, final, [], None)
            self._post_status(order, final)
            return final
        while step is not None:
            prev = steps.get((step.stepid, 0))
            outcome = self._run_step(ctx, step, prev, step.stepid in frontier)
            ran.add(step.stepid)
            steps[(step.stepid, 0)] = StepRow(
                outcome.status, outcome.retries, False, ctx.custom_status, True
            )
            step = self._runnable(steps, ran)
            final = None if step is not None else self._derive(steps)
            with self.db.tx() as conn:
                self._commit_step(conn, ctx, order, outcome, prev, final is not None)
                if final is not None:
                    self._finish(conn, ctx, order, final, [outcome], outcome.retry_delay)
            ctx.dynamic_dirty = False
            ctx.key_changes.clear()
        assert final is not None
        self._post_status(order, final)
        return final

    def _derive(self, steps: dict[tuple[int, int], StepRow]) -> str:
        """The order's status from its steps' statuses by rank."""
        wdef = self.env.wdef
        if all((sid, 0) in steps and steps[(sid, 0)].status == S.COMPLETE for sid in wdef.steps):
            return S.COMPLETE
        names = [ORDER_STATUS_NAMES[r.status] for r in steps.values() if r.status != S.COMPLETE]
        if not names:
            return S.INCOMPLETE
        best = max(names, key=lambda s: STATUS_RANK.get(s, 0))
        return {"ERROR": S.ERROR, "RETRY": S.RETRY}.get(best, S.INCOMPLETE)

    # ------------------------------------------------------------------ one step

    def _run_step(
        self, ctx: OrderContext, step: StepDef, prev: StepRow | None, validate: bool
    ) -> StepOutcome:
        env = self.env
        retries = prev.retries if prev is not None else 0
        ctx.begin_step(step.stepid, step.name, step.version, 0, retries)
        started = now()
        status = S.COMPLETE
        try:
            kind = steptypes.find(step.steptype, step.arraytype != "NONE")
            if kind is None:
                raise ValueError(f"step type {step.steptype} ({step.arraytype}) is not registered")
            obj = env.codecache.step_class(env.wdef, step)()
            call = StepCall(ctx, step, env.logger)
            if not validate or kind.recover(obj, call):
                kind.run(obj, call)
        except Exception as exc:
            ctx.errors.append(from_exception(exc))
        resolved = [resolve(env.wdef, e) for e in ctx.errors]
        delay: int | None = ctx.retry_delay
        for r in resolved:
            env.call_hook("errorHandler", r.error, r.info if r.info is not None else r.description)
            level = logging.ERROR if r.changes_status else logging.WARNING
            env.logger.log(
                level,
                "order %d step %s: %s %s: %s",
                ctx.workflow_instanceid,
                step.name,
                r.severity,
                r.error,
                r.description,
            )
            if not r.changes_status:
                continue
            if not r.retry:
                status = S.ERROR
            elif status != S.ERROR:
                status = S.RETRY
            if r.retry_delay is not None:
                delay = r.retry_delay
        if status == S.RETRY:
            if retries >= env.max_retries:
                env.logger.error(
                    "order %d step %s: max-retries (%d) reached; ERROR",
                    ctx.workflow_instanceid,
                    step.name,
                    env.max_retries,
                )
                status = S.ERROR
            else:
                retries += 1
        return StepOutcome(step.stepid, 0, status, retries, started, resolved, delay)

    # ------------------------------------------------------------------ commits

    def _commit_step(
        self,
        conn: Connection,
        ctx: OrderContext,
        order: ClaimedOrder,
        out: StepOutcome,
        prev: StepRow | None,
        final: bool,
    ) -> None:
        """Write the step's row, data, keys and errors; unless ``final`` (where the order
        update checks it), make sure this session still owns the order."""
        wfiid = order.workflow_instanceid
        sessionid = self.env.runtime.sessionid
        ts = now()
        params = steps_db.step_params(
            wfiid,
            out.stepid,
            out.ind,
            out.status,
            out.retries,
            ctx.custom_status,
            out.started,
            ts if out.status == S.COMPLETE else None,
        )
        if prev is None and not final:
            if not steps_db.insert_step_owned(conn, params, sessionid):
                raise LostOwnership()
        else:
            steps_db.write_step(conn, params, exists=prev is not None)
            if not final:
                self._check_owner(conn, order)
        if ctx.dynamic_dirty:
            steps_db.update_dynamic(conn, wfiid, dumps(ctx.dynamicdata), ts)
        if ctx.key_changes:
            steps_db.write_keys(conn, wfiid, ctx.workflowid, ctx.key_changes, ts)
        if ctx.sensitive is not None and ctx.sensitive.dirty:
            names = ctx.sensitive.flush(conn)
            order.has_sensitive = True
            self.env.logger.info(
                "order %d step %s: sensitive data of key(s) %s updated",
                wfiid,
                ctx.stepname,
                ", ".join(names),
            )
        if out.errors:
            steps_db.add_errors(
                conn,
                [
                    {
                        "workflow_instanceid": wfiid,
                        "stepid": out.stepid,
                        "ind": out.ind,
                        "severity": e.severity,
                        "retry": e.retry and e.changes_status,
                        "error": e.error[:240],
                        "description": (e.description or "")[:4000],
                        "info": e.info,
                        "business_error": e.business,
                        "created": ts,
                    }
                    for e in out.errors
                ],
            )

    def _check_owner(self, conn: Connection, order: ClaimedOrder) -> None:
        if not steps_db.touch_owned(
            conn, order.workflow_instanceid, self.env.runtime.sessionid, now()
        ):
            raise LostOwnership()

    def _finish(
        self,
        conn: Connection,
        ctx: OrderContext,
        order: ClaimedOrder,
        final: str,
        outcomes: list[StepOutcome],
        delay: int | None,
    ) -> None:
        ts = now()
        if (
            final == S.COMPLETE
            and order.has_sensitive
            and self.env.runtime.options.get("purge-sensitive-data-complete")
        ):
            sensitive.purge(conn, [order.workflow_instanceid])
        errors = sum(1 for o in outcomes for e in o.errors if e.changes_status)
        warnings = sum(1 for o in outcomes for e in o.errors if not e.changes_status)
        plain = not (errors or warnings or ctx.custom_status or ctx.reschedule or ctx.blocked)
        if final == S.COMPLETE and plain:
            if not steps_db.complete_owned(
                conn, order.workflow_instanceid, self.env.runtime.sessionid, ts
            ):
                raise LostOwnership()
            return
        values: dict[str, Any] = {
            "workflowstatus": final,
            "status_sessionid": 0,
            "modified": ts,
        }
        if any(e.business and e.changes_status for o in outcomes for e in o.errors):
            values["business_error"] = True
        if final == S.COMPLETE:
            values["completed"] = ts
            values["retry_trigger"] = None
        elif final == S.RETRY:
            secs = delay if delay is not None else self.env.recover_delay
            values["retry_trigger"] = ts + timedelta(seconds=max(int(secs), 0))
        if ctx.custom_status is not None:
            values["custom_status"] = ctx.custom_status
        if ctx.reschedule is not None:
            values["scheduled"] = ctx.reschedule
        if ctx.blocked and final != S.COMPLETE:
            values["workflowstatus"] = "B"
            values["workflowstatus_orig"] = final
        if not steps_db.finish_owned(
            conn,
            order.workflow_instanceid,
            self.env.runtime.sessionid,
            values,
            add_errors=errors,
            add_warnings=warnings,
            add_retry=final == S.RETRY,
        ):
            raise LostOwnership()
        if final == S.RETRY:
            self.env.note_retry(values["retry_trigger"])

    def _post_status(self, order: ClaimedOrder, final: str) -> None:
        events = self.env.runtime.events
        if events is None:
            return
        wdef = self.env.wdef
        events.post(
            "WORKFLOW_STATUS_CHANGED",
            {
                "name": wdef.name,
                "version": wdef.version,
                "workflowid": wdef.workflowid,
                "workflow_instanceid": order.workflow_instanceid,
                "old": "IN-PROGRESS",
                "new": ORDER_STATUS_NAMES[final],
            },
            caller="engine",
        )
