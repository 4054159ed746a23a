"""Orders this process claimed, and the sweeper that hands back those nobody works on.

Every claim registers its orders in :class:`Holdings` *before* its transaction commits; a
worker drops an order from it when it is done with it, or when a database error leaves the
order's state uncertain (a COMMIT that failed may still have happened). The
:class:`OrphanSweeper` thread then finds the session's IN-PROGRESS orders that are not held
and turns them to RETRY (:func:`qorus_core.db.handback.hand_back`), so that a database outage
never leaves an order IN-PROGRESS under a live session. It runs when a worker reports a
database error, again with a bounded exponential delay while the database stays down, and as
a safety net every ``interval`` seconds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from qorus_core.db import audit
from qorus_core.db.engine import READONLY
from qorus_core.db.handback import hand_back, owned_in_progress
from qorus_core.db.sessions import RecoveryResult
from qorus_server.engine.backoff import Backoff


class Holdings:
    """The ids of the orders this process is working on (claimed, queued or running)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: set[int] = set()

    def add(self, ids: Iterable[int]) -> None:
        with self._lock:
            self._ids.update(ids)

    def discard(self, ids: Iterable[int]) -> None:
        with self._lock:
            self._ids.difference_update(ids)

    def __contains__(self, wfiid: object) -> bool:
        with self._lock:
            return wfiid in self._ids

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids)


class OrphanSweeper:
    def __init__(
        self,
        engine: Engine,
        sessionid: int,
        holdings: Holdings,
        log: logging.Logger,
        on_handed_back: Callable[[RecoveryResult], None],
        *,
        interval: float = 30.0,
        retry_max: float = 30.0,
    ) -> None:
        self.engine = engine
        self.sessionid = sessionid
        self.holdings = holdings
        self.log = log
        self.on_handed_back = on_handed_back
        #: the audit trail of the orders handed back (the engine's)
        self.trail: audit.AuditTrail | None = None
        self.interval = interval
        self.backoff = Backoff(0.5, retry_max)
        self.handed_back = 0
        self._due = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qorus-orphan-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._due.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)

    def trigger(self) -> None:
        """Sweep soon: a worker gave up an order after a database error."""
        self._due.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.backoff.failing:
                self._stop.wait(self.backoff.remaining())
            else:
                self._due.wait(self.interval)
            if self._stop.is_set():
                return
            self._due.clear()
            try:
                self.sweep()
            except SQLAlchemyError as exc:
                delay = self.backoff.failed()
                reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                self.log.warning(
                    "cannot look for orders to hand back (%s); next attempt in %.1f s",
                    reason,
                    delay,
                )
                continue
            self.backoff.succeeded()

    def sweep(self) -> RecoveryResult:
        """Hand back this session's IN-PROGRESS orders that no worker holds; what was done."""
        with self.engine.connect().execution_options(**{READONLY: True}) as conn:
            ids = owned_in_progress(conn, self.sessionid)
        candidates = [i for i in ids if i not in self.holdings]
        if not candidates:
            return RecoveryResult(self.sessionid)
        with self.engine.begin() as conn, audit.using(self.trail):
            res, ids = hand_back(conn, self.sessionid, candidates, self.holdings.__contains__)
        if res.orders:
            self.handed_back += res.orders
            shown = ", ".join(str(i) for i in ids[:20])
            self.log.warning(
                "%d order(s) left IN-PROGRESS by a failed database operation went back to "
                "RETRY (due now; validation() runs before a step whose commit is uncertain): "
                "%s%s",
                res.orders,
                shown,
                " ..." if len(ids) > 20 else "",
            )
            self.on_handed_back(res)
        return res
