"""The server side of RBAC: the start-up check, what a client presents to log in
(:class:`Credentials`, the same for every gateway), the :class:`Authenticator` that checks a
password (the database today, LDAP next), and the memory of logins (verified passwords and
login tokens) that :mod:`qorus_server.logins` keeps.

What is remembered is tied to the user's credential fingerprint (a digest of its password
hash, :func:`qorus_core.rbac.credential_fingerprint`) at the time of the login: a verified
password is reused only while the stored hash is unchanged, and ``reloadRbac`` revokes every
token whose user was deleted, changed password or lost LOGIN. Neither passwords nor tokens
are kept in the clear: passwords as a keyed digest (the key lives only in this process),
tokens as their SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.engine import Connection

from qorus_core import rbac
from qorus_core.rbac import Principal

#: How long a verified password is reused without checking the argon2 hash again (seconds).
LOGIN_CACHE_TTL = 60.0
_LOGIN_CACHE_MAX = 1000
#: Live tokens one user may hold; a new one beyond this ends the oldest.
_TOKENS_PER_USER = 100


def user_with_permissions(
    conn: Connection, needed: Iterable[str] = ("LOGIN", "SHUTDOWN")
) -> str | None:
    """A user holding every permission in ``needed`` (start-up step 4), or None."""
    want = set(needed)
    for info in rbac.list_users(conn):
        if want <= rbac.load_principal(conn, info.username).permissions:
            return info.username
    return None


@dataclass(frozen=True)
class Credentials:
    """What a client presents to log in, whatever the gateway (REST, the RPC protocols,
    WebSocket, WebDAV): an HTTP ``Authorization`` header, a ``Qorus-Token`` header and the
    client's address (for throttling and the audit)."""

    authorization: str | None
    token: str | None
    address: str

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], address: str | None) -> Credentials:
        """The credentials in request headers (a case-insensitive mapping)."""
        return cls(headers.get("authorization"), headers.get("qorus-token"), address or "local")


class Authenticator(Protocol):
    """Checks a user name and password: the system database today, LDAP next. It runs on a
    login thread; the login gate throttles, remembers and audits around it."""

    def verify(
        self, conn: Connection, username: str, password: str
    ) -> tuple[Principal, str | None]:
        """The user's principal and credential fingerprint (what a remembered login and a
        token are tied to; None when unknown); AuthenticationError when the password is wrong."""
        ...


class DatabaseAuthenticator:
    """Passwords as argon2 hashes in the system schema's users table."""

    def verify(
        self, conn: Connection, username: str, password: str
    ) -> tuple[Principal, str | None]:
        principal = rbac.authenticate(conn, username, password)
        return principal, rbac.credential_fingerprint(conn, username)


class LoginCache:
    """Verified passwords: (user, keyed digest of the password) -> credential fingerprint."""

    def __init__(self, ttl: float = LOGIN_CACHE_TTL, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, bytes], tuple[float, str]] = {}

    def key(self, username: str, password: str) -> tuple[str, bytes]:
        mac = hmac.new(self._key, password.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return username, mac.digest()

    def get(self, key: tuple[str, bytes]) -> str | None:
        """The fingerprint remembered with a verified password, or None."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            if hit[0] <= self._clock():
                del self._entries[key]
                return None
            return hit[1]

    def put(self, key: tuple[str, bytes], fingerprint: str) -> None:
        with self._lock:
            if len(self._entries) >= _LOGIN_CACHE_MAX:
                self._entries.clear()
            self._entries[key] = (self._clock() + self.ttl, fingerprint)

    def forget(self, key: tuple[str, bytes]) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def forget_user(self, username: str) -> None:
        with self._lock:
            for k in [k for k in self._entries if k[0] == username]:
                del self._entries[k]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass(frozen=True)
class TokenEntry:
    username: str
    fingerprint: str
    expires: float


def token_id(token: str) -> str:
    """How a token is known inside the server (its SHA-256): never the token itself."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class TokenStore:
    """Login tokens from ``public/login``, in this process's memory until they expire."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, TokenEntry] = {}

    def issue(self, username: str, fingerprint: str, lifetime: float) -> str:
        """A new token for ``username``, valid for ``lifetime`` seconds."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            for old in [k for k, e in self._tokens.items() if e.expires <= now]:
                del self._tokens[old]
            mine = [k for k, e in self._tokens.items() if e.username == username]
            for old in mine[: max(0, len(mine) - _TOKENS_PER_USER + 1)]:
                del self._tokens[old]
            self._tokens[token_id(token)] = TokenEntry(username, fingerprint, now + lifetime)
        return token

    def lookup(self, tid: str) -> TokenEntry | None:
        """The live token with this id, or None (an expired one is dropped)."""
        with self._lock:
            entry = self._tokens.get(tid)
            if entry is not None and entry.expires <= self._clock():
                del self._tokens[tid]
                entry = None
            return entry

    def revoke(self, tid: str) -> bool:
        with self._lock:
            return self._tokens.pop(tid, None) is not None

    def snapshot(self) -> list[tuple[str, TokenEntry]]:
        with self._lock:
            return list(self._tokens.items())

    def __len__(self) -> int:
        with self._lock:
            return len(self._tokens)
