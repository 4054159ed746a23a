"""The step commits of an execution instance's workers share transactions (group commit).

A worker hands the writes of its step (a function of the connection) to :meth:`GroupCommit.run`
and blocks until they are committed, exactly as if it had committed them itself: the next
step of its order starts only after that. The first worker to find no commit in progress
becomes the leader: it runs every unit waiting (its own among them) in ONE transaction on its
own connection and commits once; units that arrive meanwhile wait for the next transaction,
whose leader is one of them. A lone unit is committed at once (no timer, no savepoint).

In a shared transaction each unit runs in a savepoint, so a unit that fails (an order lost to
another session, a constraint) is rolled back alone and only its worker sees the error; the
others commit. When the transaction itself fails (the connection, the commit), none of it was
committed and every worker of the batch gets the error, as each would have alone.
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
    result: Any = None
    error: BaseException | None = None
    done: bool = False


class GroupCommit:
    def __init__(self, max_units: int = MAX_UNITS) -> None:
        self.max_units = max_units
        #: transactions committed and units in them (the mean tells how much was shared)
        self.transactions = 0
        self.units = 0
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._leading = False

    def run(self, db: WorkerDb, fn: Unit) -> Any:
        """Run ``fn(conn)`` in a transaction committed before this returns; its result, or
        the exception it (or its transaction's commit) raised."""
        me = _Pending(fn)
        with self._cond:
            self._queue.append(me)
            while not me.done:
                if self._leading:
                    self._cond.wait()
                    continue
                self._leading = True
                batch = self._queue[: self.max_units]
                del self._queue[: self.max_units]
                self._cond.release()
                try:
                    self._commit(db, batch)
                finally:
                    self._cond.acquire()
                    self._leading = False
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
        if len(batch) == 1:
            [p] = batch
            try:
                with db.tx() as conn:
                    p.result = p.fn(conn)
            except BaseException as exc:
                p.error = exc
            return
        try:
            with db.tx() as conn:
                for p in batch:
                    sp = conn.begin_nested()
                    try:
                        p.result = p.fn(conn)
                    except BaseException as exc:
                        p.error = exc
                        if sp.is_active:
                            sp.rollback()
                    else:
                        sp.commit()
        except BaseException as exc:  # nothing of the batch was committed
            for p in batch:
                if p.error is None:
                    p.error = exc
