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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.engine import Connection

from qorus_core.db import audit, sensitive, waits
from qorus_core.db import steps as steps_db
from qorus_core.db.claims import ClaimedOrder, StepRow
from qorus_core.db.refdata import now
from qorus_core.db.unit import dumps
from qorus_core.db.wfdefs import StepDef
from qorus_core.model.status import ORDER_STATUS_CODES, ORDER_STATUS_NAMES, STATUS_RANK
from qorus_core.model.status import OrderStatus as S
from qorus_server.engine import steptypes
from qorus_server.engine.env import RunEnv
from qorus_server.engine.errors import ResolvedError, from_exception, resolve
from qorus_server.engine.groupcommit import GroupCommit
from qorus_server.engine.stepstate import next_step, order_status, step_state
from qorus_server.engine.steptypes import StepCall
from qorus_server.engine.workerdb import WorkerDb
from qorus_server.userapi import context
from qorus_server.userapi.context import OrderContext, StepWait

#: the step statuses of a wait: the step type's ``resume`` looks at the wait when it comes back
_WAITS = (S.ASYNC_WAITING, S.EVENT_WAITING, S.WAITING)
#: the element of an empty array's one (skipped) step instance
_EMPTY = object()


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
    wait: StepWait | None = None
    call: StepCall | None = None
    skip: bool = False
    #: array elements to record as IN-PROGRESS with the first element's commit
    placeholders: list[int] = field(default_factory=list)


class OrderRunner:
    """Runs orders of one workflow for one execution instance (shared by its workers)."""

    def __init__(self, env: RunEnv, db: WorkerDb, group: GroupCommit | None = None) -> None:
        self.env = env
        self.db = db
        #: the instance's shared step commits (None: each step commits on its own)
        self.group = group
        #: the earliest time a wait of this pass ends by itself (async_delay)
        self._until: datetime | None = None
        #: workflows with orders woken by this pass's commits (parents of finished children)
        self._woken: set[int] = set()

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

    # ------------------------------------------------------------------ the order's steps

    def _run_steps(self, ctx: OrderContext, order: ClaimedOrder) -> str:
        steps = order.steps
        ran: set[int] = set()
        final: str | None = None
        # the steps that may have run before: runnable now in an order that comes back in RETRY
        frontier: set[int] = set()
        if order.status == S.RETRY:
            while (s := next_step(self.env.wdef, steps, ran | frontier)) is not None:
                frontier.add(s.stepid)
        self._until = None
        self._woken = set()
        outcomes: list[StepOutcome] = []
        step = next_step(self.env.wdef, steps, ran)
        if step is None:
            # nothing can run (e.g. every step was skipped): settle the order's status
            final = order_status(self.env.wdef, steps)
            with self.db.tx() as conn:
                self._finish(conn, ctx, order, final, [], None)
            self._after(order, final)
            return final
        while step is not None:
            current = step
            validate = current.stepid in frontier
            items = self._elements(ctx, current, steps)
            ran.add(current.stepid)
            for n, (ind, arg, array_error) in enumerate(items):
                prev = steps.get((current.stepid, ind))
                outcome = self._run_step(ctx, current, ind, arg, prev, validate, array_error)
                if n == 0 and current.is_array:
                    outcome.placeholders = [
                        i for i, _, _ in items[1:] if (current.stepid, i) not in steps
                    ]
                steps[(current.stepid, ind)] = StepRow(
                    outcome.status, outcome.retries, outcome.skip, ctx.custom_status, True
                )
                for i in outcome.placeholders:
                    steps[(current.stepid, i)] = StepRow(S.IN_PROGRESS, 0, False, None, True)
                if n == len(items) - 1:
                    step = next_step(self.env.wdef, steps, ran)
                    final = None if step is not None else order_status(self.env.wdef, steps)

                def commit(
                    conn: Connection,
                    current: StepDef = current,
                    ind: int = ind,
                    outcome: StepOutcome = outcome,
                    prev: StepRow | None = prev,
                ) -> None:
                    nonlocal step, final
                    status = self._commit_step(conn, ctx, order, outcome, prev, final is not None)
                    if status != steps[(current.stepid, ind)].status:
                        # an event posted before the bind completes the step at once
                        steps[(current.stepid, ind)].status = status
                        if final is not None:
                            step = next_step(self.env.wdef, steps, ran)
                            final = order_status(self.env.wdef, steps) if step is None else None
                    self._segment(conn, ctx, order, steps, current.stepid)
                    if final is not None:
                        self._finish(
                            conn, ctx, order, final, [*outcomes, outcome], outcome.retry_delay
                        )

                segments = dict(order.segments)
                self._commit(
                    commit,
                    # a wait or sensitive data write more than the database: never shared
                    shareable=outcome.wait is None
                    and not (ctx.sensitive is not None and ctx.sensitive.dirty),
                    undo=partial(_restore, order.segments, segments),
                )
                outcomes.append(outcome)
                self._post_errors(order, outcome)
                ctx.dynamic_dirty = False
                ctx.key_changes.clear()
        assert final is not None
        self._after(order, final)
        return final

    def _elements(
        self,
        ctx: OrderContext,
        step: StepDef,
        steps: dict[tuple[int, int], StepRow],
    ) -> list[tuple[int, object, Exception | None]]:
        """What to run of a step: ``(ind, element, error)``; ``[(0, None, None)]`` for a plain
        step, the elements of ``array()`` not yet COMPLETE for an array step (an empty array:
        one skipped instance; a failing ``array()``: its error on instance 0)."""
        if not step.is_array:
            return [(0, None, None)]
        ctx.begin_step(step.stepid, step.name, step.version, 0, 0)
        try:
            obj = self.env.codecache.step_class(self.env.wdef, step)()
            elements = list(obj.array())
        except Exception as exc:
            return [(0, None, exc)]
        if not elements:
            return [(0, _EMPTY, None)]
        return [
            (i, e, None)
            for i, e in enumerate(elements)
            if steps.get((step.stepid, i)) is None or steps[(step.stepid, i)].status != S.COMPLETE
        ]

    # ------------------------------------------------------------------ one step

    def _run_step(
        self,
        ctx: OrderContext,
        step: StepDef,
        ind: int,
        arg: object,
        prev: StepRow | None,
        validate: bool,
        array_error: Exception | None = None,
    ) -> StepOutcome:
        env = self.env
        retries = prev.retries if prev is not None else 0
        ctx.begin_step(step.stepid, step.name, step.version, ind, retries)
        ctx.steptype, ctx.queueid, ctx.event_typeid = step.steptype, step.queueid, step.event_typeid
        started = now()
        status: str = S.COMPLETE
        skip = arg is _EMPTY
        prev_status = prev.status if prev is not None else None
        call: StepCall | None = None
        try:
            if array_error is not None:
                raise array_error
            kind = steptypes.find(step.steptype, step.is_array)
            if kind is None:
                raise ValueError(f"step type {step.steptype} ({step.arraytype}) is not registered")
            call = StepCall(
                ctx,
                step,
                env.logger,
                db=self.db,
                arg=arg,
                array=step.is_array,
                prev_status=prev_status,
                validate=validate,
                settings=env.settings,
            )
            if not skip:
                obj = env.codecache.step_class(env.wdef, step)()
                if prev_status in _WAITS and kind.resume is not None:
                    again = kind.resume(obj, call)
                else:
                    again = not validate or kind.recover(obj, call)
                if again and not ctx.errors:
                    ctx.wait = None
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
                "order %d step %s%s: %s %s: %s",
                ctx.workflow_instanceid,
                step.name,
                f"[{ind}]" if step.is_array else "",
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
        retries = ctx.step_retries
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
        wait = ctx.wait if status == S.COMPLETE else None
        if wait is not None:
            status = wait.status
        return StepOutcome(
            step.stepid, ind, status, retries, started, resolved, delay, wait, call, skip
        )

    # ------------------------------------------------------------------ commits

    def _commit(
        self, fn: Callable[[Connection], None], *, shareable: bool, undo: Callable[[], None]
    ) -> None:
        """Run a step's writes in a transaction committed before the order goes on: shared
        with the other workers' step commits when the instance groups them."""
        if self.group is None:
            with self.db.tx() as conn:
                fn(conn)
        else:
            self.group.run(self.db, fn, shareable=shareable, undo=undo)

    def _commit_step(
        self,
        conn: Connection,
        ctx: OrderContext,
        order: ClaimedOrder,
        out: StepOutcome,
        prev: StepRow | None,
        final: bool,
    ) -> str:
        """Write the step's row, what it waits on, data, keys and errors; unless ``final``
        (where the order update checks it), make sure this session still owns the order.
        Returns the step's status as written (an event already posted completes the step)."""
        wfiid = order.workflow_instanceid
        sessionid = self.env.runtime.sessionid
        ts = now()
        if out.wait is not None and out.call is not None:
            kind = steptypes.find(out.call.step.steptype, out.call.step.is_array)
            if kind is not None and kind.commit is not None:
                out.status = kind.commit(conn, out.call, out.wait, ts)
            until = out.wait.until
            if out.status in _WAITS and until is not None:
                self._until = until if self._until is None else min(self._until, until)
        params = steps_db.step_params(
            wfiid,
            out.stepid,
            out.ind,
            out.status,
            out.retries,
            ctx.custom_status,
            out.started,
            ts if out.status == S.COMPLETE else None,
            skip=out.skip,
        )
        if prev is None and not final:
            if not steps_db.insert_step_owned(conn, params, sessionid):
                raise LostOwnership()
        else:
            steps_db.write_step(conn, params, exists=prev is not None)
            if not final:
                self._check_owner(conn, order)
        for ind in out.placeholders:
            steps_db.write_step(
                conn,
                steps_db.step_params(
                    wfiid, out.stepid, ind, S.IN_PROGRESS, 0, None, out.started, None
                ),
                exists=False,
            )
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
        return out.status

    def _segment(
        self,
        conn: Connection,
        ctx: OrderContext,
        order: ClaimedOrder,
        steps: dict[tuple[int, int], StepRow],
        stepid: int,
    ) -> None:
        """Record the status of the step's segment when it changed: COMPLETE when all its
        steps are, the highest-ranked status of its open steps, else IN-PROGRESS."""
        wdef = self.env.wdef
        seg = wdef.steps[stepid].segmentid
        members = [s.stepid for s in wdef.steps.values() if s.segmentid == seg]
        states = [step_state(wdef, steps, sid) for sid in members]
        if all(st == S.COMPLETE for st in states):
            status = str(S.COMPLETE)
        else:
            open_ = [ORDER_STATUS_NAMES[st] for st in states if st not in (None, S.COMPLETE)]
            status = (
                ORDER_STATUS_CODES[max(open_, key=lambda n: STATUS_RANK.get(n, 0))]
                if open_
                else S.IN_PROGRESS
            )
        known = order.segments.get(seg)
        if known == status:
            return
        steps_db.write_segment(
            conn, order.workflow_instanceid, wdef.workflowid, seg, status, known is not None, now()
        )
        order.segments[seg] = status

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
        if order.parent_workflow_instanceid is not None and final in (S.COMPLETE, S.ERROR):
            woken = waits.wake_parent(conn, order.workflow_instanceid, final)
            if woken is not None:
                self._woken.add(woken)
        if final == S.COMPLETE and plain:
            if not steps_db.complete_owned(
                conn, order.workflow_instanceid, self.env.runtime.sessionid, ts
            ):
                raise LostOwnership()
            self._audit(conn, order, final)
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
            # a wait that ended while the order ran has set the trigger already
            wake_at=self._until if final in _WAITS else None,
        ):
            raise LostOwnership()
        self._audit(conn, order, values["workflowstatus"])
        if final == S.RETRY:
            self.env.note_retry(values["retry_trigger"])
        elif final in _WAITS and self._until is not None:
            self.env.note_retry(self._until)

    def _post_errors(self, order: ClaimedOrder, out: StepOutcome) -> None:
        """WORKFLOW_DATA_ERROR for each error the step raised (after its commit), with the
        error's severity as the event's user severity."""
        events = self.env.runtime.events
        if events is None or not out.errors:
            return
        wdef = self.env.wdef
        for e in out.errors:
            events.post(
                "WORKFLOW_DATA_ERROR",
                {
                    "name": wdef.name,
                    "version": wdef.version,
                    "workflowid": wdef.workflowid,
                    "workflow_instanceid": order.workflow_instanceid,
                    "error": {
                        "err": e.error,
                        "desc": e.description,
                        "info": e.info,
                        "business_error": e.business,
                        "stepid": out.stepid,
                        "ind": out.ind,
                        "retry": out.retries,
                        "severity": e.severity,
                    },
                },
                caller="engine",
                user_severity=e.severity,
            )

    def _audit(self, conn: Connection, order: ClaimedOrder, new: str) -> None:
        """The WORKFLOW-STATUS-CHANGE row (IN-PROGRESS -> ``new``) with the order's final
        commit, under the trail in force (the engine's; nothing when none or when
        ``workflow-data`` is not audited: no statement at all)."""
        trail = audit.current()
        if trail is not None:
            trail.status_changes(
                conn, [(self.env.wdef.workflowid, order.workflow_instanceid, S.IN_PROGRESS, new)]
            )

    def _after(self, order: ClaimedOrder, final: str) -> None:
        """After the last commit: wake the local instances of woken parents' workflows and
        tell event clients the order's new status."""
        rt = self.env.runtime
        if rt.on_new_order is not None:
            for wf in sorted(self._woken):
                rt.on_new_order(wf)
        events = rt.events
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
                "info": {"old": "IN-PROGRESS", "new": ORDER_STATUS_NAMES[final]},
            },
            caller="engine",
            safe=True,
        )


def _restore(target: dict[int, str], saved: dict[int, str]) -> None:
    """Put a dict back as it was (the segments known before a step commit that failed)."""
    target.clear()
    target.update(saved)
