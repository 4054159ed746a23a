"""The server side of RBAC: the start-up check, what a client presents to log in
(:class:`Credentials`, the same for every gateway), the :class:`Authenticator` that checks a
password (the users table; with ``rbac-external``, then the external authenticators it names,
see :func:`build_authenticator`), and the memory of logins (verified passwords and login
tokens) that :mod:`qorus_server.logins` keeps.

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
import importlib
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.engine import Connection

from qorus_core import rbac
from qorus_core.model.errors import AuthenticationError, OptionError
from qorus_core.options import Options
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


class LoginRefused(AuthenticationError):
    """A refused password login: ``desc`` is what the client is told (the same whatever the
    reason: :func:`qorus_core.rbac.refused_desc`), ``detail`` the reason for the system log and
    the audit (never the password)."""

    def __init__(self, username: str, detail: str) -> None:
        super().__init__(rbac.refused_desc(username))
        self.detail = detail


class UnknownUser(LoginRefused):
    """An authenticator does not know the user at all: the next one may (see
    :class:`ChainAuthenticator`)."""


class Authenticator(Protocol):
    """Checks a user name and password, and answers for the users it checked. It runs on a
    login thread; the login gate throttles, remembers and audits around it.

    A *fingerprint* is a digest of what a login of the user is checked against (for the users
    table: its password hash): a remembered login is reused, and a token survives
    ``reloadRbac``, only while the user's fingerprint is the one it was made with.
    """

    def verify(
        self, conn: Connection, username: str, password: str
    ) -> tuple[Principal, str | None]:
        """The user's principal and credential fingerprint (None when there is none to
        remember); AuthenticationError (401) when the name or password is wrong,
        UnavailableError (503) when whatever checks it cannot be reached."""
        ...

    def fingerprint(self, conn: Connection, username: str) -> str | None:
        """The user's fingerprint now; None when the user is unknown."""
        ...

    def principal(self, conn: Connection, username: str, fingerprint: str) -> Principal | None:
        """The user's principal now without a password, or None when the user is gone or its
        fingerprint is no longer ``fingerprint`` (remembered logins, ``reloadRbac``)."""
        ...

    def token_principal(
        self, conn: Connection, username: str, fingerprint: str
    ) -> Principal | None:
        """The principal of the user a token made with ``fingerprint`` was issued to, or None
        when that user is gone. A changed password need not end the token before
        ``reloadRbac`` (so that a client may change its own password, then reload)."""
        ...

    def reload(self) -> None:
        """``reloadRbac``: forget what was remembered about users (before the tokens are
        checked again)."""
        ...


class DatabaseAuthenticator:
    """Passwords as argon2 hashes in the system schema's users table."""

    def verify(
        self, conn: Connection, username: str, password: str
    ) -> tuple[Principal, str | None]:
        principal = rbac.authenticate(conn, username, password)
        return principal, rbac.credential_fingerprint(conn, username)

    def fingerprint(self, conn: Connection, username: str) -> str | None:
        return rbac.credential_fingerprint(conn, username)

    def principal(self, conn: Connection, username: str, fingerprint: str) -> Principal | None:
        if rbac.credential_fingerprint(conn, username) != fingerprint:
            return None
        return self.token_principal(conn, username, fingerprint)

    def token_principal(
        self, conn: Connection, username: str, fingerprint: str
    ) -> Principal | None:
        try:
            return rbac.load_principal(conn, username)
        except AuthenticationError:
            return None

    def reload(self) -> None:
        return None


_LOCAL = "db"


class ChainAuthenticator:
    """The users table first, then each external authenticator in turn (``rbac-external``).

    A name in the users table is checked there only, whatever its password: the directory is
    never asked about a local user, and a local user logs in while the directory is down. A
    name the table does not hold goes to the external authenticators; one that answers
    :class:`UnknownUser` passes it to the next.

    Fingerprints are tagged with who made them (``db:...``, ``QorusLdapAuth:...``), so that a
    remembered login or a token answers to the authenticator that checked it and no other: an
    external user's token ends when a local user of the same name appears.
    """

    def __init__(
        self, local: DatabaseAuthenticator, externals: Sequence[tuple[str, Authenticator]]
    ):
        self.local = local
        self.externals = dict(externals)

    def verify(
        self, conn: Connection, username: str, password: str
    ) -> tuple[Principal, str | None]:
        if self.local.fingerprint(conn, username) is not None:
            principal, fp = self.local.verify(conn, username, password)
            return principal, _tag(_LOCAL, fp)
        why = ["not in the users table"]
        for name, ext in self.externals.items():
            try:
                principal, fp = ext.verify(conn, username, password)
            except UnknownUser as exc:
                why.append(exc.detail)
                continue
            return principal, _tag(name, fp)
        raise UnknownUser(username, "; ".join(why))

    def fingerprint(self, conn: Connection, username: str) -> str | None:
        found = _tag(_LOCAL, self.local.fingerprint(conn, username))
        for name, ext in self.externals.items():
            if found is not None:
                break
            found = _tag(name, ext.fingerprint(conn, username))
        return found

    def _owner(
        self, conn: Connection, username: str, fingerprint: str
    ) -> tuple[Authenticator, str] | None:
        """Who made ``fingerprint``, and the fingerprint as it made it (None: no one who may
        still answer for ``username``)."""
        name, sep, raw = fingerprint.partition(":")
        if not sep:
            return None
        if name == _LOCAL:
            return self.local, raw
        ext = self.externals.get(name)
        if ext is None or self.local.fingerprint(conn, username) is not None:
            return None  # a local user of that name now: only the users table answers
        return ext, raw

    def principal(self, conn: Connection, username: str, fingerprint: str) -> Principal | None:
        owner = self._owner(conn, username, fingerprint)
        return owner[0].principal(conn, username, owner[1]) if owner else None

    def token_principal(
        self, conn: Connection, username: str, fingerprint: str
    ) -> Principal | None:
        owner = self._owner(conn, username, fingerprint)
        return owner[0].token_principal(conn, username, owner[1]) if owner else None

    def reload(self) -> None:
        for ext in self.externals.values():
            ext.reload()


def _tag(name: str, fingerprint: str | None) -> str | None:
    return None if fingerprint is None else f"{name}:{fingerprint}"


#: The external authenticators ``rbac-external`` may name: ``module:class``, imported only when
#: named. The class is built as ``cls(options, log)`` and raises OptionError when its options
#: are wrong (the server then refuses to start).
EXTERNAL_AUTHENTICATORS: dict[str, str] = {
    "QorusLdapAuth": "qorus_server.ldap_auth:LdapAuthenticator",
}


def build_authenticator(options: Options, log: logging.Logger) -> Authenticator:
    """The authenticator the options ask for: the users table alone, or with ``rbac-external``
    the users table then the external authenticators it names, in its order."""
    names = [str(n).strip() for n in options.get("rbac-external") or () if str(n).strip()]
    if not names:
        return DatabaseAuthenticator()
    externals: list[tuple[str, Authenticator]] = []
    for name in dict.fromkeys(names):
        target = EXTERNAL_AUTHENTICATORS.get(name)
        if target is None:
            known = ", ".join(sorted(EXTERNAL_AUTHENTICATORS))
            raise OptionError(f"rbac-external: unknown authenticator {name!r} (known: {known})")
        module, _, cls = target.partition(":")
        factory = getattr(importlib.import_module(module), cls)
        externals.append((name, factory(options, log)))
    return ChainAuthenticator(DatabaseAuthenticator(), externals)


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

    def revoke_user(self, username: str) -> int:
        """End every token of ``username``; how many there were."""
        with self._lock:
            mine = [k for k, e in self._tokens.items() if e.username == username]
            for k in mine:
                del self._tokens[k]
            return len(mine)

    def snapshot(self) -> list[tuple[str, TokenEntry]]:
        with self._lock:
            return list(self._tokens.items())

    def __len__(self) -> int:
        with self._lock:
            return len(self._tokens)
