"""The step commits of an execution instance's workers share transactions (group commit).

A worker hands the writes of its step (a function of the connection) to :meth:`GroupCommit.run`
and blocks until they are committed, exactly as if it had committed them itself: the next
step of its order starts only after that. At most ``slots`` transactions are in flight at
once (option ``workflow-commit-slots``; 0 gives every worker its own and nothing is shared). A
worker that finds a slot free runs every unit waiting (its own among them) in ONE transaction
on its own connection and commits once; a worker that finds none waits, and its unit goes
into the next transaction that starts. A lone unit is committed at once (no timer).

Units that are not ``shareable`` (a step that waits, sensitive data) always commit alone. When
a shared transaction fails (a unit's own error, a constraint, the connection, the commit),
nothing of it was committed: every unit's ``undo`` puts its in-memory state back, and each unit
runs again in a transaction of its own, so only the unit that fails alone reports its error,
exactly as without sharing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from qorus_server.engine.workerdb import WorkerDb

#: most units in one transaction
MAX_UNITS = 32

Unit = Callable[[Connection], Any]


@dataclass
class _Pending:
    fn: Unit
    undo: Callable[[], None] | None
    result: Any = None
    error: BaseException | None = None
    done: bool = False


class GroupCommit:
    def __init__(self, slots: int = 0, max_units: int = MAX_UNITS) -> None:
        #: transactions in flight at once; 0: no limit, nothing is shared
        self.slots = max(0, slots)
        self.max_units = max_units
        #: shared transactions committed and the units in them (the bench reports the mean)
        self.transactions = 0
        self.units = 0
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._leading = 0

    def run(
        self,
        db: WorkerDb,
        fn: Unit,
        *,
        shareable: bool = True,
        undo: Callable[[], None] | None = None,
    ) -> Any:
        """Run ``fn(conn)`` in a transaction committed before this returns; its result, or
        the exception it (or its transaction) raised. ``undo`` puts back what ``fn`` changed
        in memory, for a run again after a shared transaction failed."""
        if self.slots == 0 or not shareable:
            with db.tx() as conn:
                return fn(conn)
        me = _Pending(fn, undo)
        with self._cond:
            self._queue.append(me)
            while not me.done:
                if self._leading >= max(1, self.slots):  # slots may change meanwhile
                    self._cond.wait()
                    continue
                self._leading += 1
                batch = self._queue[: self.max_units]
                del self._queue[: self.max_units]
                self._cond.release()
                try:
                    self._commit(db, batch)
                finally:
                    self._cond.acquire()
                    self._leading -= 1
                    self.transactions += 1
                    self.units += len(batch)
                    for p in batch:
                        p.done = True
                    self._cond.notify_all()
        if me.error is not None:
            raise me.error
        return me.result

    @staticmethod
    def _commit(db: WorkerDb, batch: list[_Pending]) -> None:
        if len(batch) > 1:
            try:
                with db.tx() as conn:
                    for p in batch:
                        p.result = p.fn(conn)
                return
            except BaseException:  # nothing of the batch was committed: each alone below
                for p in batch:
                    if p.undo is not None:
                        p.undo()
        for p in batch:
            try:
                with db.tx() as conn:
                    p.result = p.fn(conn)
            except BaseException as exc:
                p.error = exc
