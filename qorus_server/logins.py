"""The one login of every gateway: HTTP Basic, ``public/login`` and login tokens.

Every gateway calls :meth:`LoginGate.authenticate` with the
:class:`~qorus_server.security.Credentials` of its request; passwords are checked by the
gate's :class:`~qorus_server.security.Authenticator` (the users table, and the external
authenticators of ``rbac-external``), which also answers for the users it checked: their
credential fingerprint and their principal without a password.

A password login goes: throttle check (:mod:`qorus_server.login_throttle`, in memory) ->
remembered verification (no argon2; the user's credential fingerprint and principal are read
again from the authenticator) -> otherwise one argon2 check on the login threads
(:mod:`qorus_server.hash_pool`). Identical credentials arriving together share one check, so
a client firing parallel requests costs one verification. Every failed check is logged in the
system log and audited (API-CALL, audit code ``api``) with the user name and client address,
never the password.

Tokens: a token remembers the user's credential fingerprint; ``reloadRbac`` revokes every
token whose user was deleted, changed password or lost LOGIN, and a deleted user or one
without LOGIN is refused on the next request anyway. ``POST logout`` revokes the caller's.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass, fields
from typing import Protocol

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from qorus_core import rbac
from qorus_core.db.engine import READONLY
from qorus_core.model.errors import AuthenticationError, AuthorizationError, OptionError
from qorus_core.options import Options
from qorus_core.rbac import Principal
from qorus_server.audit import Auditor
from qorus_server.force_user import ForceRule, ForceUserMap
from qorus_server.hash_pool import HashPool
from qorus_server.login_throttle import Limits, LoginThrottle, Outcome
from qorus_server.security import (
    Authenticator,
    Credentials,
    DatabaseAuthenticator,
    LoginCache,
    LoginRefused,
    TokenStore,
    token_id,
)

_TOKEN_REFUSED = "the login token is unknown, expired or revoked; log in again"
_SHOWN_NAME_MAX = 200
#: No user name is longer (``user-tool`` refuses longer ones); longer ones are refused unseen.
USER_NAME_MAX = 160
#: Longest password checked: argon2 would hash any length, so bound the work of one check.
PASSWORD_MAX = 4096


class LoginHost(Protocol):
    """What the login needs of the server."""

    @property
    def options(self) -> Options: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def log(self) -> logging.Logger: ...

    @property
    def auditor(self) -> Auditor | None: ...


@dataclass(frozen=True)
class TokenPrincipal(Principal):
    """A principal that logged in with a token: ``token_id`` names the token for logout."""

    token_id: str = ""


def shown_name(username: str) -> str:
    """A user name as logged: quoted with control characters escaped, cut when very long."""
    cut = username[:_SHOWN_NAME_MAX]
    return repr(cut) + ("..." if len(username) > _SHOWN_NAME_MAX else "")


def credentials_problem(user: str, password: str) -> str | None:
    """Why a user name and password cannot be checked at all (None when they can)."""
    if not user:
        return "the user name is empty"
    if len(user) > USER_NAME_MAX:
        return f"the user name is longer than {USER_NAME_MAX} characters"
    if len(password) > PASSWORD_MAX:
        return f"the password is longer than {PASSWORD_MAX} characters"
    if "\0" in user or "\0" in password:
        return "the user name or password holds a NUL character"
    try:
        user.encode("utf-8")
        password.encode("utf-8")
    except UnicodeEncodeError:
        return "the user name or password is not valid Unicode text"
    return None


def parse_basic(header: str | None) -> tuple[str, str]:
    """User name and password of an HTTP Basic ``Authorization`` header (401 when absent)."""
    if not header or not header[:6].lower() == "basic ":
        raise AuthenticationError(
            "authentication is required (HTTP Basic or a Qorus-Token from public/login)"
        )
    try:
        raw = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise AuthenticationError("malformed Authorization header") from None
    user, sep, password = raw.partition(":")
    if not sep:
        raise AuthenticationError("malformed Authorization header: no ':' after the user name")
    problem = credentials_problem(user, password)
    if problem:
        raise AuthenticationError(f"malformed Authorization header: {problem}")
    return user, password


class LoginGate:
    """Logins, their throttling and their memory for one server."""

    def __init__(self, host: LoginHost, authenticator: Authenticator | None = None) -> None:
        self.host = host
        self.authenticator = authenticator or DatabaseAuthenticator()
        self.cache = LoginCache()
        self.tokens = TokenStore()
        self.throttle = LoginThrottle(lambda: Limits.from_options(host.options))
        self._pool: HashPool | None = None
        self._lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._pending: dict[tuple[str, bytes], Future[Principal]] = {}
        #: rbac-force-user: client address -> user
        self.force_map = ForceUserMap()
        self._bad_force_value: str | None = None

    @property
    def pool(self) -> HashPool:
        with self._lock:
            if self._pool is None:
                opts = self.host.options
                self._pool = HashPool(
                    int(opts.get("rbac-login-threads")), int(opts.get("rbac-login-queue"))
                )
            return self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    def _connect(self) -> Connection:
        return self.host.engine.connect().execution_options(**{READONLY: True})

    # ------------------------------------------------------------------ HTTP requests

    async def authenticate(self, credentials: Credentials) -> Principal | None:
        """RBAC off: nobody. RBAC on: a ``Qorus-Token`` from ``public/login`` or HTTP Basic;
        without either, the user ``rbac-force-user`` names for the client's address."""
        if not self.host.options.get("rbac-security"):
            return None
        if credentials.token:
            return await run_in_threadpool(self.token_login, credentials.token)
        if not credentials.authorization:
            forced = await self._forced_user(credentials.address)
            if forced is not None:
                return await run_in_threadpool(self.forced_login, forced, credentials.address)
        user, password = parse_basic(credentials.authorization)
        return await self.password_login_async(user, password, credentials.address, "basic")

    # ------------------------------------------------------------------ rbac-force-user

    def _force_rules(self) -> tuple[ForceRule, ...]:
        values = self.host.options.get("rbac-force-user") or ()
        try:
            return self.force_map.rules(values)
        except OptionError as exc:  # set at run time: refuse to map anyone
            with self._lock:
                shown_before, self._bad_force_value = self._bad_force_value, exc.desc
            if shown_before != exc.desc:
                self.host.log.error("%s; no request is mapped to a user", exc.desc)
            return ()

    async def _forced_user(self, address: str) -> str | None:
        """The user ``rbac-force-user`` maps requests from ``address`` to, or None."""
        rules = self._force_rules()
        if not rules:
            return None
        if self.force_map.needs_lookup(rules):
            return await run_in_threadpool(self.force_map.user_for, rules, address)
        return self.force_map.user_for(rules, address)

    def forced_login(self, username: str, address: str) -> Principal:
        """The principal of a user of the users table that ``rbac-force-user`` maps a request
        without credentials to; 401 when the user does not exist, 403 without LOGIN."""
        try:
            with self._connect() as conn:
                principal = rbac.load_principal(conn, username)
        except AuthenticationError:
            self.host.log.warning(
                "rbac-force-user maps %s to user %s, which does not exist in the users table",
                address,
                shown_name(username),
            )
            raise AuthenticationError(
                "authentication is required (HTTP Basic or a Qorus-Token from public/login)"
            ) from None
        return _with_login(principal)

    async def password_login_async(
        self, user: str, password: str, address: str, via: str
    ) -> Principal:
        """:meth:`password_login` for the event loop: no shared worker waits for argon2."""
        self.throttle.check(user, address)
        key = self.cache.key(user, password)
        fingerprint = self.cache.get(key)
        if fingerprint is not None:
            principal = await run_in_threadpool(self._current, user, fingerprint)
            if principal is not None:
                return _with_login(principal)
            self.cache.forget(key)
        fut = self._verification(key, user, password, address, via)
        return _with_login(await asyncio.wrap_future(fut))

    def password_login(self, user: str, password: str, address: str, via: str) -> Principal:
        """The principal of a user name and password, checked on the login threads; 401 for a
        wrong one, 429 when throttled, 503 when every login thread and queue place is taken,
        403 when the user lacks LOGIN. Called from a worker thread."""
        self.throttle.check(user, address)
        key = self.cache.key(user, password)
        fingerprint = self.cache.get(key)
        if fingerprint is not None:
            principal = self._current(user, fingerprint)
            if principal is not None:
                return _with_login(principal)
            self.cache.forget(key)
        return _with_login(self._verification(key, user, password, address, via).result())

    def _current(self, user: str, fingerprint: str) -> Principal | None:
        """The user's principal when its credentials are still those that were verified."""
        with self._connect() as conn:
            return self.authenticator.principal(conn, user, fingerprint)

    def _verification(
        self, key: tuple[str, bytes], user: str, password: str, address: str, via: str
    ) -> Future[Principal]:
        """The running check of these credentials, or a new one (throttle and pool bounds)."""
        pool = self.pool
        with self._pending_lock:
            fut = self._pending.get(key)
            if fut is not None:
                return fut
            self.throttle.begin(user, address)
            try:
                fut = pool.submit(self._verify, key, user, password, address, via)
            except BaseException:
                self.throttle.abandoned(user, address)
                raise
            self._pending[key] = fut
        fut.add_done_callback(lambda f: self._done(key, f))
        return fut

    def _done(self, key: tuple[str, bytes], fut: Future[Principal]) -> None:
        with self._pending_lock:
            if self._pending.get(key) is fut:
                del self._pending[key]

    def _verify(
        self, key: tuple[str, bytes], user: str, password: str, address: str, via: str
    ) -> Principal:
        """On a login thread: one argon2 check, then the bookkeeping of its outcome."""
        try:
            with self._connect() as conn:
                principal, fingerprint = self.authenticator.verify(conn, user, password)
        except AuthenticationError as exc:
            outcome = self.throttle.failed(user, address)
            reason = exc.detail if isinstance(exc, LoginRefused) else exc.desc
            self._report_failure(user, address, via, reason, outcome)
            raise
        except BaseException:
            self.throttle.abandoned(user, address)
            raise
        self.throttle.succeeded(user, address)
        if fingerprint is not None:
            self.cache.put(key, fingerprint)
        return principal

    def _report_failure(
        self, user: str, address: str, via: str, reason: str, outcome: Outcome
    ) -> None:
        log = self.host.log
        name = shown_name(user)
        log.warning("login failed (%s): user %s from %s: %s", via, name, address, reason)
        rows = [("login failed", reason)]
        lim = Limits.from_options(self.host.options)
        if outcome.address_locked:
            note = (
                f"address {address} refused for {lim.lock_time:g} s after "
                f"{lim.max_failures} failed logins"
            )
            log.warning("login throttled: %s", note)
            rows.append(("login throttled", note))
        if outcome.user_locked:
            note = (
                f"user {name} locked for {lim.user_lock_time:g} s after "
                f"{lim.user_max_failures} failed logins"
            )
            log.warning("login throttled: %s", note)
            rows.append(("login throttled", note))
        auditor = self.host.auditor
        if auditor is None:
            return
        for what, detail in rows:
            try:
                auditor.event(
                    "API-CALL", reason=what, who=user, source=address, info1=via, info2=detail
                )
            except SQLAlchemyError:
                log.exception("cannot write the audit row of a failed login")

    # ------------------------------------------------------------------ tokens

    def issue_token(self, principal: Principal) -> str:
        """A new token for a user whose password was just checked."""
        with self._connect() as conn:
            fingerprint = self.authenticator.fingerprint(conn, principal.username)
        if fingerprint is None:
            raise AuthenticationError(f"user {principal.username!r} no longer exists")
        lifetime = float(self.host.options.get("rbac-token-expiration"))
        return self.tokens.issue(principal.username, fingerprint, lifetime)

    def token_login(self, token: str) -> Principal:
        """The principal of a live token; a deleted user or one without LOGIN ends it."""
        tid = token_id(token)
        entry = self.tokens.lookup(tid)
        if entry is None:
            raise AuthenticationError(_TOKEN_REFUSED)
        with self._connect() as conn:
            principal = self.authenticator.token_principal(conn, entry.username, entry.fingerprint)
        if principal is None or not principal.has("LOGIN"):
            self.tokens.revoke(tid)
            raise AuthenticationError(_TOKEN_REFUSED)
        values = {f.name: getattr(principal, f.name) for f in fields(principal)}
        return TokenPrincipal(**values, token_id=tid)

    def logout(self, principal: object) -> bool:
        """End the caller's token (True), or forget its remembered Basic logins (False)."""
        tid = getattr(principal, "token_id", "")
        if tid:
            return self.tokens.revoke(tid)
        username = getattr(principal, "username", None)
        if username:
            self.cache.forget_user(username)
        return False

    def end_user(self, username: str) -> int:
        """A user's password or roles changed, or the user was deleted, through the API: end
        its tokens and forget its remembered logins at once (the next request logs in again).
        Answers how many tokens ended."""
        self.cache.forget_user(username)
        ended = self.tokens.revoke_user(username)
        if ended:
            self.host.log.info("%d login token(s) of user %s ended", ended, shown_name(username))
        return ended

    # ------------------------------------------------------------------ reloadRbac

    def reload(self) -> int:
        """Forget remembered passwords; revoke the tokens of users deleted, with a changed
        password or without LOGIN. Answers how many tokens were revoked."""
        self.cache.clear()
        self.authenticator.reload()
        live = self.tokens.snapshot()
        if not live:
            return 0
        keep: dict[tuple[str, str], bool] = {}
        with self._connect() as conn:
            for _tid, entry in live:
                k = (entry.username, entry.fingerprint)
                if k not in keep:
                    found = self.authenticator.principal(conn, *k)
                    keep[k] = found is not None and found.has("LOGIN")
        revoked = 0
        for tid, entry in live:
            if not keep[(entry.username, entry.fingerprint)] and self.tokens.revoke(tid):
                revoked += 1
        if revoked:
            self.host.log.info("reloadRbac revoked %d login token(s)", revoked)
        return revoked


def _with_login(principal: Principal) -> Principal:
    """A password login is for users holding LOGIN (403 otherwise)."""
    if not principal.has("LOGIN"):
        raise AuthorizationError(f"user {principal.username!r} lacks the LOGIN permission")
    return principal
