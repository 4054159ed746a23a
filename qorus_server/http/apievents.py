"""``/apievents``: the system event stream over a WebSocket.

Protocol (text messages):

* the server sends every new event the client may see, as a JSON array of event hashes (at
  most :data:`MAX_BATCH` a message), from the moment the WebSocket opens;
* the client may send ``ping`` (answer ``pong``);
* the client may send a filter, a JSON array of criteria hashes or a hash
  ``{or|and: [...], and_not|or_not: [...], nfilt: [...]}`` (the filters of
  ``omq.system.wait-for-events``, :func:`qorus_server.event_filters.parse_filter`); from then
  on only the events that pass it are sent. ``[]`` or ``null`` sends everything again. The answer is
  a JSON hash: ``{"filter": ...}`` as understood, or ``{"err": ..., "desc": ...}`` when it is
  refused (the filter in force stays); arrays are always events, hashes always answers;
* anything else is answered ``error: unknown command``.

Login as for REST (HTTP Basic or a ``Qorus-Token`` header; a browser, which cannot set
headers on a WebSocket, passes the token of ``public/login`` as the query argument ``token``
or the ``qorus_auth_token`` cookie, as the real product's web console does). With
``rbac-security`` a user needs LOGIN and sees the events of the interfaces of its groups
(:func:`qorus_server.events.visible`). A refusal is answered before the WebSocket opens, as
an HTTP error with the usual ``{err, desc}`` body where the server supports it; otherwise the
handshake is refused (close code 1008).

Posting never waits for a client: the bus only tells the event loop that something was
posted (once per burst, whatever the number of clients), and each client's coroutine reads
the bus from its own position. A client that falls more than :data:`MAX_BEHIND` events
behind (or behind what the bus still holds), or whose send does not finish within
:data:`SEND_TIMEOUT` seconds, is disconnected with close code :data:`CLOSE_TOO_SLOW`. When the
client goes away or the server stops, its coroutine ends; nothing is left running.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketState

from qorus_core.model.errors import QorusError
from qorus_server.event_filters import EventFilter, parse_filter
from qorus_server.events import Event, for_user
from qorus_server.http.wsauth import login, refuse

if TYPE_CHECKING:
    from qorus_core.rbac import Principal
    from qorus_server.contract import ServerContract
    from qorus_server.events import EventBus

#: the most events in one message
MAX_BATCH = 100
#: the most events a client may be behind before it is disconnected
MAX_BEHIND = 5000
#: the longest one send may take (a client that does not read)
SEND_TIMEOUT = 10.0
#: the longest filter message read
MAX_MESSAGE = 64 * 1024
#: the close code of a client too slow to follow the stream
CLOSE_TOO_SLOW = 4008
#: how often an idle connection looks at the server's state
IDLE_SECONDS = 1.0
#: the cookie a browser's login token may come in (as in the real product's console)
TOKEN_COOKIE = "qorus_auth_token"


class Hub:
    """Wakes the connections of one event loop when events are posted: one callback into the
    loop per burst of posts, whatever the number of clients."""

    def __init__(self, bus: EventBus, loop: asyncio.AbstractEventLoop) -> None:
        self.bus = bus
        self.loop = loop
        self.clients = 0
        self._waiters: set[asyncio.Future[None]] = set()
        self._lock = threading.Lock()
        self._scheduled = False
        self._unsubscribe: Any = None

    def join(self) -> None:
        self.clients += 1
        if self._unsubscribe is None:
            self._unsubscribe = self.bus.subscribe(self._posted)

    def leave(self) -> None:
        self.clients -= 1
        if self.clients <= 0 and self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _posted(self, _event: Event) -> None:  # the posting thread
        with self._lock:
            if self._scheduled:
                return
            self._scheduled = True
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody to wake
            self.loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        with self._lock:
            self._scheduled = False
        waiters, self._waiters = self._waiters, set()
        for f in waiters:
            if not f.done():
                f.set_result(None)

    def next(self) -> asyncio.Future[None]:
        """A future done at the next post (ask for it *before* reading the bus)."""
        f: asyncio.Future[None] = self.loop.create_future()
        self._waiters.add(f)
        return f


class EventStream:
    """The ``/apievents`` endpoint of one server; ``active`` counts open streams."""

    def __init__(self, server: ServerContract) -> None:
        self.server = server
        self.active = 0
        self._hubs: dict[asyncio.AbstractEventLoop, Hub] = {}

    def _hub(self) -> Hub:
        loop = asyncio.get_running_loop()
        hub = self._hubs.get(loop)
        if hub is None:
            hub = self._hubs[loop] = Hub(self.server.events, loop)
        return hub

    async def handle(self, websocket: WebSocket) -> None:
        try:
            principal = await self._login(websocket)
        except Exception as exc:
            await refuse(websocket, exc)
            return
        await websocket.accept()
        hub = self._hub()
        hub.join()
        self.active += 1
        try:
            await Client(self.server, websocket, hub, principal).run()
        finally:
            self.active -= 1
            hub.leave()

    async def _login(self, websocket: WebSocket) -> Principal | None:
        return await login(self.server, websocket, cookie=TOKEN_COOKIE, need_login=True)


class Client:
    """One client: its position in the stream, its filter, its two coroutines (reading the
    client, sending events)."""

    def __init__(
        self, server: ServerContract, websocket: WebSocket, hub: Hub, user: Principal | None
    ) -> None:
        self.server = server
        self.ws = websocket
        self.hub = hub
        self.user = user
        self.filter = EventFilter()
        self.accept = for_user(user)
        self.cursor = server.events.last_id
        self._send_lock = asyncio.Lock()
        self.closing: tuple[int, str] | None = None

    async def run(self) -> None:
        receiver = asyncio.ensure_future(self._receive())
        try:
            while not receiver.done() and self.closing is None and not self.server.stopping:
                wake = self.hub.next()
                if not await self._flush():
                    await asyncio.wait({wake, receiver}, timeout=IDLE_SECONDS)
                if not wake.done():
                    wake.cancel()
        except Exception:  # the client went away while a message was sent
            pass
        finally:
            receiver.cancel()
            await asyncio.wait({receiver})
            if not receiver.cancelled():
                receiver.exception()  # retrieved: a failed answer to a gone client is no news
        code, reason = self.closing or (1001, "the server is shutting down")
        if self.ws.application_state == WebSocketState.CONNECTED and (
            self.closing is not None or self.server.stopping
        ):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(code=code, reason=reason), SEND_TIMEOUT)

    async def _flush(self) -> bool:
        """Send what was posted since the last look; whether there was anything new."""
        bus = self.server.events
        new = bus.since(self.cursor)
        if not new:
            return False
        missed = new[0].id - self.cursor - 1
        if missed > 0 or len(new) > MAX_BEHIND:
            behind = len(new) + max(missed, 0)
            self.closing = (
                CLOSE_TOO_SLOW,
                f"the client is too slow: {behind} events behind (at most {MAX_BEHIND})",
            )
            return True
        self.cursor = new[-1].id
        take = self.accept if self.filter.everything else for_user(self.user, self.filter)
        out = [e.as_dict() for e in new if take(e)]
        for i in range(0, len(out), MAX_BATCH):
            await self._send(json.dumps(out[i : i + MAX_BATCH], default=str))
            if self.closing is not None:
                break
        return True

    async def _send(self, text: str) -> None:
        async with self._send_lock:
            try:
                await asyncio.wait_for(self.ws.send_text(text), SEND_TIMEOUT)
            except TimeoutError:
                self.closing = (
                    CLOSE_TOO_SLOW,
                    f"the client is too slow: a send took more than {SEND_TIMEOUT:g} s",
                )

    async def _receive(self) -> None:
        """Answers ``ping`` and filter messages until the client goes away."""
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                raw = message.get("bytes") or b""
                text = raw.decode("utf-8", "replace") if len(raw) <= MAX_MESSAGE else None
            if text == "ping":
                await self._send("pong")
            elif text is not None and (text.lstrip()[:1] in ("[", "{") or text == "null"):
                await self._send(json.dumps(self._set_filter(text), default=str))
            else:
                await self._send("error: unknown command")

    def _set_filter(self, text: str) -> dict[str, Any]:
        """Take a filter message; the answer (what was understood, or why not)."""
        try:
            if len(text) > MAX_MESSAGE:
                raise QorusError(
                    f"the filter message is longer than {MAX_MESSAGE} characters",
                    code="GET-EVENTS-ERROR",
                )
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                raise QorusError("the filter is not valid JSON", code="GET-EVENTS-ERROR") from None
            self.filter = parse_filter(value, "filter")
        except QorusError as exc:
            return {"err": exc.code, "desc": exc.desc}
        return {"filter": _shown(self.filter)}


def _shown(f: EventFilter) -> Any:
    """A filter as understood (sets as sorted lists)."""

    def crit(c: list[list[tuple[str, Any]]]) -> list[dict[str, Any]]:
        return [{k: sorted(v) if isinstance(v, frozenset) else v for k, v in h} for h in c]

    if f.everything:
        return []
    out: dict[str, Any] = {f.mode: crit(f.criteria)}
    if f.negated:
        out["or_not" if f.mode == "and" else "and_not"] = crit(f.negated)
    if f.nfilt:
        out["nfilt"] = crit(f.nfilt)
    return out
