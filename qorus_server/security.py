"""The server side of RBAC: the start-up check, HTTP logins and login tokens, over
:mod:`qorus_core.rbac`.

Checking an argon2 hash costs tens of milliseconds by design, so a successful login is cached
for a short time (keyed by user and a digest of the password, never the password itself);
``reload()`` (PUT ``system?action=reloadRbac``) forgets every cached login at once.

``POST public/login`` trades a user name and password for a token that later requests send in
the ``Qorus-Token`` header. Tokens live in this process's memory until ``rbac-token-expiration``
seconds pass: a restart or another node asks clients to log in again. The user's permissions
are read again for every request made with a token, so RBAC changes apply at once.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Iterable

from sqlalchemy.engine import Connection

from qorus_core import rbac
from qorus_core.model.errors import AuthenticationError
from qorus_core.rbac import Principal

#: How long a verified login is reused without checking the hash again (seconds).
LOGIN_CACHE_TTL = 60.0
_LOGIN_CACHE_MAX = 1000

_lock = threading.Lock()
_cache: dict[tuple[str, bytes], tuple[float, Principal]] = {}
_tokens: dict[str, tuple[float, str]] = {}


def user_with_permissions(
    conn: Connection, needed: Iterable[str] = ("LOGIN", "SHUTDOWN")
) -> str | None:
    """A user holding every permission in ``needed`` (start-up step 4), or None."""
    want = set(needed)
    for info in rbac.list_users(conn):
        if want <= rbac.load_principal(conn, info.username).permissions:
            return info.username
    return None


def login(conn: Connection, username: str, password: str) -> Principal:
    """The caller's principal, or AUTHENTICATION-ERROR for an unknown user or a bad password."""
    key = (username, hashlib.sha256(password.encode("utf-8")).digest())
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
    principal = rbac.authenticate(conn, username, password)
    with _lock:
        if len(_cache) >= _LOGIN_CACHE_MAX:
            _cache.clear()
        _cache[key] = (now + LOGIN_CACHE_TTL, principal)
    return principal


def reload() -> None:
    """Forget cached logins so that RBAC changes made by ``user-tool`` apply at once."""
    with _lock:
        _cache.clear()


def issue_token(username: str, lifetime: float) -> str:
    """A new login token for ``username``, valid for ``lifetime`` seconds."""
    token = secrets.token_urlsafe(32)
    now = time.monotonic()
    with _lock:
        for old in [k for k, (exp, _) in _tokens.items() if exp <= now]:
            del _tokens[old]
        _tokens[token] = (now + lifetime, username)
    return token


def token_login(conn: Connection, token: str) -> Principal:
    """The principal of a valid token, or AUTHENTICATION-ERROR."""
    with _lock:
        hit = _tokens.get(token)
        if hit is not None and hit[0] <= time.monotonic():
            del _tokens[token]
            hit = None
    if hit is None:
        raise AuthenticationError("the login token is unknown or expired; log in again")
    return rbac.load_principal(conn, hit[1])


def logout(token: str) -> bool:
    with _lock:
        return _tokens.pop(token, None) is not None
