"""The wake listener: ``LISTEN qorus_wake`` on PostgreSQL so that an order made due on another
node wakes this node's execution instances at once instead of at the next poll.

One thread holds one dedicated autocommit psycopg connection (not one of the pool's). It waits
for notifications with a short timeout so that it stops promptly, and reconnects with a
back-off when the connection drops. It never raises: the poll stays the fallback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy.engine import Engine

from qorus_core.db.wake import CHANNEL

#: seconds between two checks of the stop flag while waiting for notifications
WAIT = 0.5
#: reconnect delays: first, then doubled up to the maximum
BACKOFF_MIN = 0.5
BACKOFF_MAX = 30.0


class WakeListener(threading.Thread):
    """Calls ``on_wake(workflowid)`` for every ``qorus_wake`` notification; ``on_reconnect()``
    after a lost connection is back (notifications sent meanwhile are lost)."""

    def __init__(
        self,
        engine: Engine,
        on_wake: Callable[[int], None],
        log: logging.Logger,
        *,
        on_reconnect: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(name="qorus-wake-listener", daemon=True)
        self._connect_args = _connect_args(engine)
        self._on_wake = on_wake
        self._on_reconnect = on_reconnect
        self.log = log
        self._stop_flag = threading.Event()
        self._listening = threading.Event()
        self.received = 0

    def wait_listening(self, timeout: float) -> bool:
        """Whether ``LISTEN`` is in effect (within ``timeout`` seconds)."""
        return self._listening.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop_flag.set()
        if self.is_alive():
            self.join(timeout)

    def run(self) -> None:
        delay = BACKOFF_MIN
        connected_before = False
        while not self._stop_flag.is_set():
            try:
                with psycopg.connect(**self._connect_args, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    delay = BACKOFF_MIN
                    if connected_before:
                        self.log.info("wake listener reconnected")
                        if self._on_reconnect is not None:
                            self._on_reconnect()
                    else:
                        self.log.debug("wake listener: LISTEN %s", CHANNEL)
                    connected_before = True
                    self._listen(conn)
            except Exception as exc:  # a dropped connection, a refused one, a bad payload
                self._listening.clear()
                if self._stop_flag.is_set():
                    break
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                self.log.warning(
                    "wake listener: %s; reconnecting in %.1f s (the poll goes on)", reason, delay
                )
                self._stop_flag.wait(delay)
                delay = min(delay * 2, BACKOFF_MAX)
        self._listening.clear()

    def _listen(self, conn: psycopg.Connection[Any]) -> None:
        while not self._stop_flag.is_set():
            for note in conn.notifies(timeout=WAIT):
                self.received += 1
                try:
                    wfid = int(note.payload)
                except ValueError:
                    self.log.warning("wake listener: ignored payload %r", note.payload)
                    continue
                try:
                    self._on_wake(wfid)
                except Exception:
                    self.log.exception("wake listener: waking workflow %d failed", wfid)


def _connect_args(engine: Engine) -> dict[str, Any]:
    """The keyword arguments psycopg needs for the system datasource (as the pool's)."""
    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    params = {k: v for k, v in dict(cparams).items() if k != "context"}
    if cargs:
        params["conninfo"] = cargs[0]
    return params
