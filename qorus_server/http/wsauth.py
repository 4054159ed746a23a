"""What the WebSocket endpoints (``/apievents``, ``/log``) share: the login of a WebSocket and
the refusal answered before it opens.

A WebSocket logs in as a REST client (HTTP Basic or a ``Qorus-Token`` header); a browser,
which cannot set headers on a WebSocket, passes the token of ``public/login`` as the query
argument ``token`` (or, where the endpoint allows it, a cookie).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response
from starlette.websockets import WebSocket

from qorus_core.model.errors import AuthorizationError
from qorus_server.api.errors import error_answer
from qorus_server.http import codec
from qorus_server.security import Credentials

if TYPE_CHECKING:
    from qorus_core.rbac import Principal
    from qorus_server.contract import ServerContract


def credentials(websocket: WebSocket, cookie: str | None = None) -> Credentials:
    """The credentials of a WebSocket's handshake: its headers, else the query argument
    ``token`` (else the cookie ``cookie``, when one is named)."""
    client = websocket.client
    creds = Credentials.from_headers(websocket.headers, client.host if client else None)
    if not creds.authorization and not creds.token:
        token = websocket.query_params.get("token")
        if not token and cookie is not None:
            token = websocket.cookies.get(cookie)
        if token:
            creds = Credentials(None, token, creds.address)
    return creds


async def login(
    server: ServerContract,
    websocket: WebSocket,
    *,
    cookie: str | None = None,
    need_login: bool = False,
) -> Principal | None:
    """The caller of a WebSocket (None without ``rbac-security``); with ``need_login`` it must
    hold LOGIN (:class:`AuthorizationError` otherwise)."""
    principal = await server.logins.authenticate(credentials(websocket, cookie))
    if need_login and principal is not None and not principal.has("LOGIN"):
        raise AuthorizationError(f"user {principal.username!r} lacks permission LOGIN")
    return principal


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
