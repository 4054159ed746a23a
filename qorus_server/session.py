"""The application session of a running instance: acquire it (refusing a live one, recovering
a crashed one), keep its heartbeat, and close it at shutdown.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from qorus_core.db import sessions as sess
from qorus_core.model.errors import QorusError
from qorus_server.audit import Auditor


class SessionError(QorusError):
    """The application session cannot be opened (start-up exit code 7)."""

    code = "SESSION-ERROR"


@dataclass
class SessionSettings:
    instancekey: str
    node: str
    url: str | None
    version: str
    auto_recover: bool
    heartbeat_interval: int


def _describe(s: sess.Session) -> str:
    return f"session {s.sessionid} on host {s.hostname} pid {s.pid}"


def acquire(
    engine: Engine, settings: SessionSettings, auditor: Auditor, log: logging.Logger
) -> tuple[int, list[sess.RecoveryResult]]:
    """Open this instance's session in one transaction; recover or refuse earlier ones."""
    recovered: list[sess.RecoveryResult] = []
    with engine.begin() as conn:
        for old in sess.active_sessions(conn, settings.instancekey):
            alive = old.process_alive()
            if alive is None:  # another host: trust its heartbeat
                alive = not old.heartbeat_stale(3 * settings.heartbeat_interval)
            if alive:
                raise SessionError(
                    f"instance {settings.instancekey!r} is already running: "
                    f"{_describe(old)} is alive"
                )
            if not settings.auto_recover:
                raise SessionError(
                    f"instance {settings.instancekey!r} has a crashed {_describe(old)}; "
                    "recover it with 'schema-tool --recover' or start with auto-recover=true"
                )
            who = f"{socket.gethostname()} pid {os.getpid()}"
            log.warning("recovering crashed %s", _describe(old))
            auditor.event(
                "SYSTEM-RECOVERY-START",
                conn,
                reason=f"recovering crashed {_describe(old)}",
                who=who,
                info1=str(old.sessionid),
            )
            result = sess.recover_session(conn, old.sessionid)
            auditor.event(
                "SYSTEM-RECOVERY-COMPLETE",
                conn,
                reason=f"recovered crashed {_describe(old)}",
                who=who,
                info1=str(old.sessionid),
                info2=result.as_dict(),
            )
            log.warning("recovered %s: %s", _describe(old), result.as_dict())
            recovered.append(result)
        sessionid = sess.open_session(
            conn,
            instancekey=settings.instancekey,
            node=settings.node,
            url=settings.url,
            version=settings.version,
        )
    return sessionid, recovered


class Heartbeat:
    """A daemon thread that writes the session heartbeat every ``interval`` seconds."""

    def __init__(self, engine: Engine, sessionid: int, interval: int, log: logging.Logger) -> None:
        self.engine = engine
        self.sessionid = sessionid
        self.interval = interval
        self.log = log
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qorus-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self.engine.begin() as conn:
                    sess.heartbeat(conn, self.sessionid)
            except Exception as exc:  # keep beating: the database may come back
                self.log.error("session heartbeat failed: %s", exc)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval + 5)


def close(engine: Engine, sessionid: int) -> None:
    with engine.begin() as conn:
        sess.close_session(conn, sessionid)
