"""A workflow execution instance: worker threads that claim and run a workflow's orders.

Workers share a queue of claimed orders; when it is empty one worker claims the next batch
(the others wait for it). With nothing due, workers sleep until woken (a new order in this
process, an operation that made an order due) or until the poll interval or the next retry
trigger passes, whichever is first. Stopping lets running orders finish their current step
chain and gives unstarted claimed orders back.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from datetime import datetime
from typing import Any

from qorus_core.db.refdata import now
from qorus_core.db.wfdefs import WorkflowDef
from qorus_core.model.errors import QorusError
from qorus_server.engine.claims import ClaimedOrder, claim_batch, release
from qorus_server.engine.codecache import CodeCache
from qorus_server.engine.env import RunEnv, option_value
from qorus_server.engine.runner import OrderRunner
from qorus_server.engine.workerdb import WorkerDb
from qorus_server.userapi.context import Runtime

SUPPORTED_STEP_TYPES = ("NORMAL",)
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
    ) -> None:
        self.execid = execid
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
        self.processed = 0
        self.env = self._make_env(wdef)
        self.workers = max(1, int(option_value(wdef, runtime, "workflow-workers")))

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

    def reset(self, wdef: WorkflowDef) -> None:
        """Swap in a new definition and freshly compiled code; running orders finish first."""
        env = self._make_env(wdef)
        with self._cond:
            self.env = env

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
            with db.tx() as conn:
                batch = claim_batch(
                    conn,
                    self.wdef.workflowid,
                    self.runtime.sessionid,
                    self.workers * self.batch_per_worker,
                )
            with self._cond:
                if not batch:
                    return None, gen
                self._queue.extend(batch[1:])
                if len(batch) > 1:
                    self._cond.notify_all()
                return batch[0], gen

    def _worker(self) -> None:
        db = WorkerDb(self.runtime.engine)
        try:
            self._work(db)
        finally:
            db.close()

    def _work(self, db: WorkerDb) -> None:
        while not self._stopping:
            try:
                order, gen = self._take(db)
            except Exception:
                self.logger.exception("claiming orders of %s failed; retrying", self.wdef.name)
                time.sleep(min(self.poll_interval, 5.0))
                continue
            if order is None:
                self._wait(gen)
                continue
            with self._cond:
                self._busy += 1
                self.status = "running"
                env = self.env
            try:
                OrderRunner(env, db).run(order)
                self.processed += 1
            except Exception:
                # a database failure in the middle of an order: the order stays IN-PROGRESS
                # with our session and is handed back by recovery (no progress is lost)
                self.logger.exception("order %d failed in the engine", order.workflow_instanceid)
            finally:
                with self._cond:
                    self._busy -= 1

    # ------------------------------------------------------------------ stop

    def stop(self, timeout: float | None = 60.0) -> None:
        with self._cond:
            self.status = "stopping"
            self._stopping = True
            self._cond.notify_all()
        for th in self._threads:
            th.join(timeout)
        with self._cond:
            left = list(self._queue)
            self._queue.clear()
        if left:
            release(self.runtime.engine, self.runtime.sessionid, left)
        self.logger.info("execution instance %d of %s stopped", self.execid, self.wdef.label())

    def info(self) -> dict[str, Any]:
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
        if step.steptype not in SUPPORTED_STEP_TYPES:
            raise QorusError(
                f"workflow {wdef.label()}: step {step.name} v{step.version} is a "
                f"{step.steptype} step; this version runs NORMAL steps only",
                code="WORKFLOW-START-ERROR",
            )
        if step.arraytype != "NONE":
            raise QorusError(
                f"workflow {wdef.label()}: step {step.name} v{step.version} is an array step "
                f"({step.arraytype}); this version does not run array steps yet",
                code="WORKFLOW-START-ERROR",
            )
