"""``/log``: a WebSocket that streams a log file as it grows.

Paths, as in Qorus: ``/log/system`` (also ``/log/qorus-core``) the system log, ``/log/http``
the HTTP access log, ``/log/workflows/NAME``, ``/log/services/NAME``, ``/log/jobs/NAME`` the
log of one interface, named by id, name (its latest version) or ``name:version``. The last
``lines`` lines (query ``lines=N``, or the ``Qorus-Log-History`` header; 100 by default, at
most :data:`MAX_LINES`) are sent first, then every line as it is written, one text message
per line. The client may send ``ping`` (answer ``pong``).

The caller logs in like any REST client (HTTP Basic or a ``Qorus-Token`` header; a browser,
which cannot set headers on a WebSocket, may pass the token as the query argument ``token``).
With ``rbac-security`` on, a workflow's, service's or job's log needs that interface to be
visible to the caller (its interface groups), and the system and HTTP logs, which speak of
every interface, a caller who sees every interface (a role holding the DEFAULT group). A
refusal is answered before the WebSocket opens, as an HTTP error with the usual
``{err, desc}`` body (401, 403, 404, 400), where the server supports it; otherwise the
handshake is refused (403).

Following a file is a poll of its size every :data:`POLL_SECONDS` on the event loop, reading
at most :data:`READ_CHUNK` bytes at a time, in the coroutine of the connection itself: no
thread and no task outlives a client that goes away. A rotation (``rotateLogFiles``) is
noticed by the file's identity changing: the rest of the old file is sent, then the new file
from its start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketState

from qorus_core.db.engine import READONLY
from qorus_core.db.names import interface_ref
from qorus_core.model import args as a
from qorus_core.model.errors import (
    AuthorizationError,
    NotFoundError,
    QorusError,
)
from qorus_server.api.errors import error_answer
from qorus_server.http import codec
from qorus_server.security import Credentials

if TYPE_CHECKING:
    from qorus_core.rbac import Principal
    from qorus_server.contract import ServerContract

DEFAULT_LINES = 100
MAX_LINES = 10_000
POLL_SECONDS = 0.25
READ_CHUNK = 256 * 1024
#: a longer line is sent in pieces of this size
MAX_LINE = 64 * 1024
#: the most read backwards from the end of a file for its last lines
HISTORY_MAX_BYTES = 8 * 1024 * 1024
_NAME_MAX = 160 + 1 + 80

#: path -> which of the server's own logs
SYSTEM_LOGS = {"system": "system", "qorus-core": "system", "http": "http"}
#: path -> (interface kind, the option with its log file template, principal's test)
INTERFACE_LOGS = {
    "workflows": ("workflow", "wf-logfile-template", "sees_workflow"),
    "services": ("service", "svc-logfile-template", "sees_service"),
    "jobs": ("job", "job-logfile-template", "sees_job"),
}
_WHICH = "system, qorus-core, http, workflows/NAME, services/NAME or jobs/NAME"


class LogStream:
    """The ``/log`` WebSocket endpoint of one server; ``active`` counts open streams."""

    def __init__(self, server: ServerContract) -> None:
        self.server = server
        self.active = 0

    async def handle(self, websocket: WebSocket) -> None:
        try:
            principal = await self._login(websocket)
            lines = history_lines(websocket)
            path = await run_in_threadpool(
                self._target, websocket.path_params.get("path", ""), principal
            )
        except Exception as exc:
            await refuse(websocket, exc)
            return
        with Tail(path) as tail:
            # the position is taken before the handshake ends: a line written once the client
            # is connected is always streamed
            try:
                history = await run_in_threadpool(tail.start, lines)
            except Exception as exc:
                await refuse(websocket, exc)
                return
            try:
                await websocket.accept()
            except Exception:  # gone during the handshake
                return
            self.active += 1
            try:
                await self._stream(websocket, tail, history)
            finally:
                self.active -= 1

    async def _login(self, websocket: WebSocket) -> Principal | None:
        client = websocket.client
        creds = Credentials.from_headers(websocket.headers, client.host if client else None)
        token = websocket.query_params.get("token")
        if token and not creds.authorization and not creds.token:
            creds = Credentials(None, token, creds.address)
        return await self.server.logins.authenticate(creds)

    def _target(self, raw: str, principal: Principal | None) -> Path:
        """The log file the caller asked for and may read (in a worker thread: the database)."""
        kind, _, name = raw.strip("/").partition("/")
        logs = self.server.logs
        if logs is None:
            raise QorusError("this server writes no log files", code="LOG-NOT-AVAILABLE")
        if kind in SYSTEM_LOGS and not name:
            if principal is not None and not principal.all_interfaces:
                raise AuthorizationError(
                    f"user {principal.username!r} may not follow the {kind} log: it speaks of "
                    "every interface, and the user's roles do not hold the DEFAULT group"
                )
            return logs.system_path if SYSTEM_LOGS[kind] == "system" else _http_path(logs)
        if kind not in INTERFACE_LOGS or not name:
            raise NotFoundError(f"there is no log {raw!r}: use {_WHICH}", code="LOG-NOT-FOUND")
        what, template, test = INTERFACE_LOGS[kind]
        ref = a.arg_text(name, "name", max_len=_NAME_MAX).strip()
        with self.server.engine.connect().execution_options(**{READONLY: True}) as conn:
            ident, iface = interface_ref(conn, what, ref)
        if principal is not None and not getattr(principal, test)(ident):
            raise AuthorizationError(
                f"user {principal.username!r} has no access to {what} {ref!r} (interface groups)",
                info={f"{what}id": ident},
            )
        path = logs.path(template, iface)
        if path.resolve().parent != Path(logs.dir).resolve():
            raise NotFoundError(f"there is no log {raw!r}", code="LOG-NOT-FOUND")
        return path

    async def _stream(self, websocket: WebSocket, tail: Tail, history: list[str]) -> None:
        receiver = asyncio.ensure_future(_receive(websocket))
        try:
            for n, line in enumerate(history, 1):
                await websocket.send_text(line)
                if n % 200 == 0:
                    await asyncio.sleep(0)
            while not receiver.done() and not self.server.stopping:
                for line in tail.read():
                    await websocket.send_text(line)
                if tail.more:
                    await asyncio.sleep(0)  # a long backlog: let the other requests run
                else:
                    await asyncio.wait({receiver}, timeout=POLL_SECONDS)
        except Exception:  # the client went away while a line was sent
            pass
        finally:
            receiver.cancel()
            await asyncio.wait({receiver})
            if not receiver.cancelled():
                receiver.exception()  # retrieved: a failed send of "pong" is no news
        if self.server.stopping and websocket.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close(code=1001, reason="the server is shutting down")


def _http_path(logs: Any) -> Path:
    return Path(logs.path("logfile-template", "HTTP"))


async def _receive(websocket: WebSocket) -> None:
    """Answers ``ping`` until the client goes away."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        await websocket.send_text("pong" if text == "ping" else "error: unknown command")


def history_lines(websocket: WebSocket) -> int:
    """How many of the file's last lines to send first (query ``lines`` or the
    ``Qorus-Log-History`` header): 0 .. :data:`MAX_LINES`, 400 otherwise."""
    raw = websocket.query_params.get("lines")
    name = "lines"
    if raw is None:
        raw, name = websocket.headers.get("qorus-log-history"), "Qorus-Log-History"
    if raw is None:
        return DEFAULT_LINES
    return a.arg_int(raw, name, minimum=0, maximum=MAX_LINES)


async def refuse(websocket: WebSocket, exc: Exception) -> None:
    """An error before the WebSocket opens: its HTTP answer when the server can send one
    (the WebSocket denial response), else a refused handshake."""
    answer = error_answer(exc, f"WebSocket {websocket.url.path}")
    body, ctype = codec.encode(answer.body, codec.JSON)
    response = Response(
        body, status_code=answer.http_status, headers={**answer.headers, "content-type": ctype}
    )
    try:
        await websocket.send_denial_response(response)
    except RuntimeError:
        await websocket.close(code=1008, reason=answer.error.code)


class Tail:
    """What is appended to one log file, across rotations, as lines of text."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh: IO[bytes] | None = None
        self.ident: tuple[int, int] | None = None
        self.partial = b""
        #: the last read stopped before the end of what is there
        self.more = False

    def start(self, lines: int) -> list[str]:
        """Open the file (if it exists) at its end; its last ``lines`` lines."""
        if not self._open(at_end=True):
            return []
        assert self.fh is not None
        end = self.fh.tell()
        if lines <= 0 or end == 0:
            return []
        start, data = end, b""
        while start > 0 and data.count(b"\n") <= lines and end - start < HISTORY_MAX_BYTES:
            step = min(64 * 1024, start)
            start -= step
            self.fh.seek(start)
            data = self.fh.read(step) + data
        self.fh.seek(end)
        if not data.endswith(b"\n"):  # an unfinished last line is followed, not shown twice
            data, _, self.partial = data.rpartition(b"\n")
            data += b"\n" if data else b""
        parts = data.split(b"\n")[:-1]
        if start > 0 and parts:
            parts = parts[1:]  # the first one is cut
        return [_text(p) for p in parts[-lines:]]

    def _open(self, at_end: bool) -> bool:
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 (kept open while following)
        except OSError:
            return False
        st = os.fstat(fh.fileno())
        if at_end:
            fh.seek(0, os.SEEK_END)
        self.fh, self.ident, self.partial = fh, (st.st_dev, st.st_ino), b""
        return True

    def read(self) -> list[str]:
        """The lines written since the last call (complete lines only)."""
        if self.fh is None and not self._open(at_end=False):  # not written yet
            return []
        assert self.fh is not None
        data = self.fh.read(READ_CHUNK)
        self.more = len(data) == READ_CHUNK
        if data:
            return self._lines(data)
        return self._switch_if_rotated()

    def _switch_if_rotated(self) -> list[str]:
        """At the end of the open file: when the path now names another file (rotated), the
        new one from its start (what was left unfinished of the old one as a line of its
        own); when the file became shorter (truncated), the same file from its start."""
        assert self.fh is not None
        try:
            st = os.stat(self.path)
        except OSError:  # renamed away and not yet made again
            return []
        if (st.st_dev, st.st_ino) != self.ident:
            late = self.fh.read(READ_CHUNK)  # written between the last read and the rename
            if late:
                self.more = True
                return self._lines(late)
            rest = [_text(self.partial)] if self.partial else []
            self.fh.close()
            self.fh = None
            self._open(at_end=False)
            self.more = True
            return rest
        if st.st_size < self.fh.tell():
            self.fh.seek(0)
            self.partial = b""
            self.more = True
        return []

    def _lines(self, data: bytes) -> list[str]:
        if not data:
            return []
        buf = self.partial + data
        *complete, self.partial = buf.split(b"\n")
        out = [_text(line) for line in complete]
        while len(self.partial) > MAX_LINE:
            out.append(_text(self.partial[:MAX_LINE]))
            self.partial = self.partial[MAX_LINE:]
        return out

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None

    def __enter__(self) -> Tail:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _text(line: bytes) -> str:
    return line.rstrip(b"\r").decode("utf-8", errors="replace")
