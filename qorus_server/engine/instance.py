"""A workflow execution instance: worker threads that claim and run a workflow's orders.

Workers share a queue of claimed orders; when it is empty one worker claims the next batch
(the others wait for it). With nothing due, workers sleep until woken (a new order in this
process, an operation that made an order due) or until the poll interval or the next retry
trigger passes, whichever is first. Stopping lets running orders finish their current step
chain and gives unstarted claimed orders back.

A database error does not let the workers drain their queue against a database that is down:
the order being run is given up (the orphan sweeper turns it to RETRY once the database
answers, since its last commit may or may not have happened), the unstarted claims are set
aside to be given back, and every worker pauses with a bounded exponential delay before the
next claim tries the database again.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from qorus_core.db import audit
from qorus_core.db.claims import ClaimedOrder, claim_batch, release, release_orders
from qorus_core.db.refdata import now
from qorus_core.db.wfdefs import WorkflowDef
from qorus_core.model.errors import QorusError
from qorus_core.model.status import ORDER_STATUS_NAMES
from qorus_server.engine import steptypes
from qorus_server.engine.backoff import Backoff
from qorus_server.engine.codecache import CodeCache
from qorus_server.engine.env import RunEnv, option_value
from qorus_server.engine.groupcommit import GroupCommit
from qorus_server.engine.handback import Holdings
from qorus_server.engine.runner import OrderRunner
from qorus_server.engine.workerdb import WorkerDb
from qorus_server.userapi.context import Runtime

MODES = ("NORMAL", "RECOVERY")


class ExecutionInstance:
    def __init__(
        self,
        execid: int,
        runtime: Runtime,
        wdef: WorkflowDef,
        codecache: CodeCache,
        *,
        mode: str = "NORMAL",
        poll_interval: float = 2.0,
        batch_per_worker: int = 25,
        holdings: Holdings | None = None,
        on_orphans: Callable[[], None] | None = None,
        retry_max: float = 30.0,
    ) -> None:
        self.execid = execid
        #: the process's held orders; ``on_orphans`` asks the sweeper to look for given-up ones
        self.holdings = holdings if holdings is not None else Holdings()
        self.on_orphans = on_orphans
        self.backoff = Backoff(0.5, retry_max)
        self._unstarted: list[ClaimedOrder] = []  # claims to give back once the db answers
        self.runtime = runtime
        self.mode = mode
        self.codecache = codecache
        self.poll_interval = poll_interval
        self.batch_per_worker = batch_per_worker
        self.status = "initializing"
        self.started = now()
        self.logger = runtime.get_logger("workflow", wdef.name)
        self._cond = threading.Condition()
        self._claim_lock = threading.Lock()
        self._queue: deque[ClaimedOrder] = deque()
        self._gen = 0  # bumped by every wake-up
        self._next_due: datetime | None = None
        self._stopping = False
        self._busy = 0
        self._threads: list[threading.Thread] = []
        #: the workers' step commits share transactions (see groupcommit)
        self.group = GroupCommit()
        self.processed = 0
        #: the WORKFLOW-START audit row (named by the WORKFLOW-STOP row)
        self.audit_id: int | None = None
        self.env = self._make_env(wdef)
        self.workers = max(1, int(option_value(wdef, runtime, "workflow-workers")))
        self._set_slots(wdef)

    @property
    def wdef(self) -> WorkflowDef:
        return self.env.wdef

    # ------------------------------------------------------------------ set-up

    def _make_env(self, wdef: WorkflowDef) -> RunEnv:
        check_supported(wdef)
        for sid in wdef.order:  # compile everything now: bad code fails the start, not orders
            self.codecache.step_class(wdef, wdef.steps[sid])
        wf_cls = self.codecache.workflow_class(wdef)
        env = RunEnv(
            runtime=self.runtime,
            wdef=wdef,
            codecache=self.codecache,
            logger=self.logger,
            wfobj=wf_cls() if wf_cls is not None else None,
            options={k: v for k, v in wdef.options.items()},
            max_retries=int(option_value(wdef, self.runtime, "max-retries")),
            recover_delay=int(option_value(wdef, self.runtime, "recover_delay")),
            settings={
                name: int(option_value(wdef, self.runtime, name))
                for name in ("async_delay", "max-async-retries")
            },
            on_retry=self._on_retry,
        )
        env.call_hook("oneTimeInit")
        return env

    def start(self) -> None:
        for n in range(self.workers):
            th = threading.Thread(
                target=self._worker,
                name=f"wf-{self.wdef.name}-{self.execid}-{n}",
                daemon=True,
            )
            self._threads.append(th)
            th.start()
        self.status = "running"
        self.logger.info(
            "execution instance %d of %s started (%s, %d workers)",
            self.execid,
            self.wdef.label(),
            self.mode,
            self.workers,
        )

    def _set_slots(self, wdef: WorkflowDef) -> None:
        value = int(option_value(wdef, self.runtime, "workflow-commit-slots"))
        self.group.slots = min(self.workers, max(0, value))

    def reset(self, wdef: WorkflowDef) -> None:
        """Swap in a new definition and freshly compiled code; running orders finish first."""
        env = self._make_env(wdef)
        with self._cond:
            self.env = env
        self._set_slots(wdef)

    # ------------------------------------------------------------------ wake-ups

    def wake(self) -> None:
        with self._cond:
            self._gen += 1
            self._cond.notify_all()

    def _on_retry(self, when: datetime) -> None:
        with self._cond:
            if self._next_due is None or when < self._next_due:
                self._next_due = when
            self._gen += 1
            self._cond.notify_all()

    def _wait(self, gen: int) -> None:
        with self._cond:
            if self._stopping or self._gen != gen:
                return
            timeout = self.poll_interval
            if self._next_due is not None:
                until = (self._next_due - now()).total_seconds()
                if until <= 0:
                    self._next_due = None
                    return
                timeout = min(timeout, until + 0.01)
            if self._busy == 0:
                self.status = "waiting"
            self._cond.wait(timeout)

    # ------------------------------------------------------------------ workers

    def _take(self, db: WorkerDb) -> tuple[ClaimedOrder | None, int]:
        with self._cond:
            gen = self._gen
            if self._queue:
                return self._queue.popleft(), gen
        with self._claim_lock:
            with self._cond:
                if self._queue:
                    return self._queue.popleft(), gen
                if self._stopping:
                    return None, gen
            if self.backoff.remaining() > 0:
                return None, gen  # another worker's attempt just failed: wait with it
            if self._unstarted:
                self._give_back(db)
            batch: list[ClaimedOrder] = []
            try:
                with db.tx() as conn:
                    batch = claim_batch(
                        conn,
                        self.wdef.workflowid,
                        self.runtime.sessionid,
                        self.workers * self.batch_per_worker,
                    )
                    # held before the commit: the sweeper never takes a claim in flight
                    self.holdings.add(o.workflow_instanceid for o in batch)
            except BaseException:
                # the COMMIT may have happened all the same: the sweeper settles that
                self.holdings.discard(o.workflow_instanceid for o in batch)
                if batch:
                    self._orphans()
                raise
            self._recovered()
            self._claimed(batch)
            with self._cond:
                if not batch:
                    return None, gen
                self._queue.extend(batch[1:])
                if len(batch) > 1:
                    self._cond.notify_all()
                return batch[0], gen

    def _claimed(self, batch: list[ClaimedOrder]) -> None:
        """Tell event clients that the claimed orders are IN-PROGRESS (after the commit)."""
        events = self.runtime.events
        if events is None or not batch:
            return
        wdef = self.wdef
        for o in batch:
            events.post(
                "WORKFLOW_STATUS_CHANGED",
                {
                    "name": wdef.name,
                    "version": wdef.version,
                    "workflowid": wdef.workflowid,
                    "workflow_instanceid": o.workflow_instanceid,
                    "info": {
                        "old": ORDER_STATUS_NAMES.get(o.status, o.status),
                        "new": "IN-PROGRESS",
                    },
                },
                caller="engine",
                safe=True,
            )

    def _give_back(self, db: WorkerDb) -> None:
        """Give back the claims set aside by a database error (called under the claim lock)."""
        with self._cond:
            left = list(self._unstarted)
        with db.tx() as conn:
            count = release_orders(conn, self.runtime.sessionid, left)
        self.holdings.discard(o.workflow_instanceid for o in left)
        with self._cond:
            self._unstarted = self._unstarted[len(left) :]
        self.logger.info("%d claimed order(s) that had not started were given back", count)

    def _worker(self) -> None:
        # what this thread changes is audited as the server's own doing
        audit.set_for_thread(self.runtime.audit)
        db = WorkerDb(self.runtime.engine)
        try:
            self._work(db)
        finally:
            db.close()

    def _work(self, db: WorkerDb) -> None:
        while not self._stopping:
            pause = self.backoff.remaining()
            if pause > 0:
                db.close()
                self._pause(pause)
                continue
            try:
                order, gen = self._take(db)
            except SQLAlchemyError as exc:
                self._db_failed(exc, None)
                continue
            except Exception:
                self.logger.exception("claiming orders of %s failed; retrying", self.wdef.name)
                self._pause(min(self.poll_interval, 5.0))
                continue
            if order is None:
                db.close()  # an idle worker holds no pooled connection
                if self.backoff.remaining() == 0:
                    self._wait(gen)
                continue
            self._run_order(db, order)

    def _run_order(self, db: WorkerDb, order: ClaimedOrder) -> None:
        with self._cond:
            self._busy += 1
            self.status = "running"
            env = self.env
        gave_up = False
        try:
            OrderRunner(env, db, self.group).run(order)
            self.processed += 1
            self._recovered()
        except SQLAlchemyError as exc:
            gave_up = True
            self._db_failed(exc, order)
        except Exception:
            gave_up = True
            self.logger.exception(
                "order %d failed in the engine; it goes back to RETRY", order.workflow_instanceid
            )
        finally:
            self.holdings.discard((order.workflow_instanceid,))
            with self._cond:
                self._busy -= 1
        if gave_up:
            self._orphans()  # only now that the order is no longer held

    # ------------------------------------------------------------------ database errors

    def _db_failed(self, exc: SQLAlchemyError, order: ClaimedOrder | None) -> None:
        delay = self.backoff.failed()
        with self._cond:
            unstarted = len(self._queue)
            self._unstarted.extend(self._queue)
            self._queue.clear()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        what = (
            f"order {order.workflow_instanceid}: database error ({reason}); the order goes back "
            "to RETRY once the database answers (validation() runs first where a step's "
            "commit is uncertain)"
            if order is not None
            else f"claiming orders failed: database error ({reason})"
        )
        more = f"; {unstarted} claimed order(s) not started are set aside" if unstarted else ""
        self.logger.error("%s%s; workers pause %.1f s", what, more, delay)

    def _recovered(self) -> None:
        if self.backoff.succeeded():
            self.logger.info("the database answers again; %s resumes", self.wdef.label())

    def _orphans(self) -> None:
        if self.on_orphans is not None:
            self.on_orphans()

    def _pause(self, seconds: float) -> None:
        """Sleep ``seconds`` unless the instance stops (wake-ups do not cut it short)."""
        deadline = time.monotonic() + seconds
        with self._cond:
            while not self._stopping:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._cond.wait(left)

    # ------------------------------------------------------------------ stop

    def request_stop(self) -> None:
        """Tell the workers to stop after their current order (:meth:`stop` waits for them)."""
        with self._cond:
            self.status = "stopping"
            self._stopping = True
            self._cond.notify_all()

    def stop(self, timeout: float | None = 60.0) -> None:
        self.request_stop()
        for th in self._threads:
            th.join(timeout)
        with self._cond:
            left = [*self._unstarted, *self._queue]
            self._queue.clear()
            self._unstarted.clear()
        if left:
            try:
                release(self.runtime.engine, self.runtime.sessionid, left)
            except SQLAlchemyError as exc:
                self.logger.error(
                    "cannot give back %d claimed order(s) (%s); they go back to RETRY when "
                    "the database answers",
                    len(left),
                    str(getattr(exc, "orig", None) or exc).strip().splitlines()[0],
                )
                self.holdings.discard(o.workflow_instanceid for o in left)
                self._orphans()
            else:
                self.holdings.discard(o.workflow_instanceid for o in left)
        self.logger.info("execution instance %d of %s stopped", self.execid, self.wdef.label())

    def info(self) -> dict[str, object]:
        wdef = self.wdef
        return {
            "executionID": self.execid,
            "workflowid": wdef.workflowid,
            "name": wdef.name,
            "version": wdef.version,
            "status": self.status,
            "mode": self.mode,
            "workers": self.workers,
            "sessionid": self.runtime.sessionid,
            "starttime": self.started,
            "processed": self.processed,
        }


def check_supported(wdef: WorkflowDef) -> None:
    """Refuse, at start, a workflow this engine cannot run yet (never fail silently later)."""
    if not wdef.steps:
        raise QorusError(f"workflow {wdef.label()} has no steps", code="WORKFLOW-START-ERROR")
    for step in wdef.steps.values():
        known = steptypes.names()
        if step.steptype not in known:
            raise QorusError(
                f"workflow {wdef.label()}: step {step.name} v{step.version} is a "
                f"{step.steptype} step; this version runs {', '.join(known)} steps only",
                code="WORKFLOW-START-ERROR",
            )
        if steptypes.find(step.steptype, step.arraytype != "NONE") is None:
            raise QorusError(
                f"workflow {wdef.label()}: step {step.name} v{step.version} is an array step "
                f"({step.arraytype}); this version does not run array steps yet",
                code="WORKFLOW-START-ERROR",
            )
