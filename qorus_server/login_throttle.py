"""Slowing down password guessing: failed logins counted per client address and per user name.

* **Per address**: ``rbac-login-max-failures`` failures from one address within
  ``rbac-login-failure-window`` seconds lock that address out of password logins for
  ``rbac-login-lock-time`` seconds (HTTP 429 with ``Retry-After``). Checks still running from
  an address count against its allowance too, so a burst of concurrent guesses from one
  address cannot get past the limit before the first failure is recorded.
* **Per user name**: ``rbac-login-user-max-failures`` failures for one name, from any address,
  lock the name for ``rbac-login-user-lock-time`` seconds only, and only for addresses where
  that user has not logged in successfully lately. A guesser spread over many addresses is
  slowed down, while the real user keeps working from where it usually works, and elsewhere
  waits a short while at most: a per-user lock never becomes a way to lock someone out.

Everything here is in memory and cheap (it runs on the event loop); the tables are bounded so
that a flood of invented user names or addresses cannot grow them without limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from qorus_core.model.errors import ThrottledError
from qorus_core.options import Options

#: How long an address where a user logged in successfully stays exempt from the user's lock.
KNOWN_ADDRESS_TTL = 86400.0
_KNOWN_PER_USER = 32
_MAX_ENTRIES = 10000
#: Longest user name kept as a key (longer names are cut; no user name is that long).
_NAME_KEY_MAX = 200


class LoginThrottledError(ThrottledError):
    """Too many failed logins from this address or for this user (HTTP 429, ``Retry-After``)."""

    code = "LOGIN-THROTTLED"

    def __init__(self, desc: str, retry_after: int) -> None:
        super().__init__(desc)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limits:
    """The ``rbac-login-*`` limits in force (0 failures: that limit is off)."""

    max_failures: int = 5
    window: float = 300.0
    lock_time: float = 300.0
    user_max_failures: int = 20
    user_lock_time: float = 30.0

    @classmethod
    def from_options(cls, options: Options) -> Limits:
        return cls(
            max_failures=int(options.get("rbac-login-max-failures")),
            window=float(options.get("rbac-login-failure-window")),
            lock_time=float(options.get("rbac-login-lock-time")),
            user_max_failures=int(options.get("rbac-login-user-max-failures")),
            user_lock_time=float(options.get("rbac-login-user-lock-time")),
        )


@dataclass
class _Slot:
    failures: deque[float] = field(default_factory=deque)
    inflight: int = 0
    locked_until: float = 0.0

    def prune(self, now: float, window: float) -> None:
        while self.failures and self.failures[0] <= now - window:
            self.failures.popleft()

    def idle(self, now: float) -> bool:
        return not self.failures and self.inflight == 0 and self.locked_until <= now


@dataclass(frozen=True)
class Outcome:
    """What one recorded failure did: the locks it started (for the log and the audit)."""

    address_locked: bool = False
    user_locked: bool = False


def _retry(until: float, now: float) -> int:
    return max(1, math.ceil(until - now))


class LoginThrottle:
    """The failure counters; thread-safe, for the HTTP event loop and worker threads alike."""

    def __init__(
        self,
        limits: Callable[[], Limits],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._addr: OrderedDict[str, _Slot] = OrderedDict()
        self._user: OrderedDict[str, _Slot] = OrderedDict()
        self._known: OrderedDict[str, dict[str, float]] = OrderedDict()

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _slot(table: OrderedDict[str, _Slot], key: str, now: float) -> _Slot:
        slot = table.get(key)
        if slot is None:
            if len(table) >= _MAX_ENTRIES:
                for k in [k for k, s in table.items() if s.idle(now)]:
                    del table[k]
                while len(table) >= _MAX_ENTRIES:
                    table.popitem(last=False)
            slot = table[key] = _Slot()
        table.move_to_end(key)
        return slot

    def _is_known(self, user: str, address: str, now: float) -> bool:
        seen = self._known.get(user)
        return seen is not None and seen.get(address, 0.0) > now

    def _refuse(self, user: str, address: str, now: float, lim: Limits) -> None:
        a = self._addr.get(address)
        if a is not None and a.locked_until > now:
            raise LoginThrottledError(
                f"too many failed logins from {address}; try again later",
                _retry(a.locked_until, now),
            )
        u = self._user.get(user)
        if u is not None and u.locked_until > now and not self._is_known(user, address, now):
            raise LoginThrottledError(
                f"too many failed logins for user {user!r}; try again later",
                _retry(u.locked_until, now),
            )

    # ------------------------------------------------------------------ API

    def check(self, user: str, address: str) -> None:
        """Refuse (429) a login from a locked address, or for a locked name from elsewhere."""
        user = user[:_NAME_KEY_MAX]
        with self._lock:
            self._refuse(user, address, self._clock(), self._limits())

    def begin(self, user: str, address: str) -> None:
        """Admit one password check (the caller must end it with :meth:`failed`,
        :meth:`succeeded` or :meth:`abandoned`); refuse it when the address or name is locked
        or when the checks already running would exceed what is left of its allowance."""
        user = user[:_NAME_KEY_MAX]
        lim = self._limits()
        with self._lock:
            now = self._clock()
            self._refuse(user, address, now, lim)
            a = self._slot(self._addr, address, now)
            a.prune(now, lim.window)
            if lim.max_failures and len(a.failures) + a.inflight >= lim.max_failures:
                raise LoginThrottledError(
                    f"too many logins in progress from {address}; try again later", 1
                )
            u = self._slot(self._user, user, now)
            u.prune(now, lim.window)
            if (
                lim.user_max_failures
                and len(u.failures) + u.inflight >= lim.user_max_failures
                and not self._is_known(user, address, now)
            ):
                raise LoginThrottledError(
                    f"too many logins in progress for user {user!r}; try again later", 1
                )
            a.inflight += 1
            u.inflight += 1

    def _end(self, user: str, address: str) -> tuple[_Slot, _Slot]:
        now = self._clock()
        a = self._slot(self._addr, address, now)
        u = self._slot(self._user, user, now)
        a.inflight = max(0, a.inflight - 1)
        u.inflight = max(0, u.inflight - 1)
        return a, u

    def failed(self, user: str, address: str) -> Outcome:
        """Record a wrong user name or password; lock the address or the name at the limit."""
        user = user[:_NAME_KEY_MAX]
        lim = self._limits()
        with self._lock:
            now = self._clock()
            a, u = self._end(user, address)
            addr_locked = user_locked = False
            a.prune(now, lim.window)
            a.failures.append(now)
            if lim.max_failures and len(a.failures) >= lim.max_failures:
                a.locked_until = now + lim.lock_time
                a.failures.clear()
                addr_locked = True
            u.prune(now, lim.window)
            u.failures.append(now)
            if lim.user_max_failures and len(u.failures) >= lim.user_max_failures:
                u.locked_until = now + lim.user_lock_time
                u.failures.clear()
                user_locked = True
            return Outcome(addr_locked, user_locked)

    def succeeded(self, user: str, address: str) -> None:
        """End a check that found the password right: remember the address for this user."""
        user = user[:_NAME_KEY_MAX]
        with self._lock:
            now = self._clock()
            self._end(user, address)
            seen = self._known.get(user)
            if seen is None:
                if len(self._known) >= _MAX_ENTRIES:
                    self._known.popitem(last=False)
                seen = self._known[user] = {}
            self._known.move_to_end(user)
            seen.pop(address, None)
            seen[address] = now + KNOWN_ADDRESS_TTL
            while len(seen) > _KNOWN_PER_USER:
                del seen[next(iter(seen))]

    def abandoned(self, user: str, address: str) -> None:
        """End a check that did not decide (database error, no free login thread)."""
        with self._lock:
            self._end(user[:_NAME_KEY_MAX], address)
