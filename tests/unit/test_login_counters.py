"""The login throttle's counters, the bounded password-check pool and the login memory, on a
fake clock (no server, no sleeping)."""

from __future__ import annotations

import threading

import pytest

from qorus_core.model.errors import OptionError
from qorus_core.options import Options
from qorus_server.hash_pool import HashPool, LoginBusyError
from qorus_server.login_throttle import Limits, LoginThrottle, LoginThrottledError
from qorus_server.logins import credentials_problem, parse_basic
from qorus_server.security import LoginCache, TokenStore, token_id


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


LIMITS = Limits(max_failures=3, window=60, lock_time=100, user_max_failures=5, user_lock_time=10)


def _throttle(limits: Limits = LIMITS) -> tuple[LoginThrottle, Clock]:
    clock = Clock()
    return LoginThrottle(lambda: limits, clock), clock


def _fail(th: LoginThrottle, user: str, addr: str) -> None:
    th.begin(user, addr)
    th.failed(user, addr)


def test_an_address_is_locked_after_the_limit_and_freed_after_the_lock_time() -> None:
    th, clock = _throttle()
    for _ in range(2):
        _fail(th, "ann", "10.0.0.1")
    th.begin("ann", "10.0.0.1")
    outcome = th.failed("ann", "10.0.0.1")
    assert outcome.address_locked and not outcome.user_locked
    with pytest.raises(LoginThrottledError) as info:
        th.check("ann", "10.0.0.1")
    assert info.value.http_status == 429 and info.value.retry_after == 100
    assert "10.0.0.1" in info.value.desc
    # the same user from elsewhere is not refused
    th.check("ann", "10.0.0.2")
    th.begin("ann", "10.0.0.2")
    th.succeeded("ann", "10.0.0.2")
    clock.now += 40
    with pytest.raises(LoginThrottledError) as info:
        th.begin("bob", "10.0.0.1")
    assert info.value.retry_after == 60
    clock.now += 61
    th.begin("bob", "10.0.0.1")
    th.succeeded("bob", "10.0.0.1")


def test_failures_older_than_the_window_do_not_count() -> None:
    th, clock = _throttle()
    for _ in range(2):
        _fail(th, "ann", "10.0.0.1")
    clock.now += 61
    for _ in range(2):
        _fail(th, "ann", "10.0.0.1")
    th.check("ann", "10.0.0.1")


def test_checks_in_flight_count_against_the_allowance() -> None:
    th, _ = _throttle()
    for _ in range(3):
        th.begin("ann", "10.0.0.1")
    with pytest.raises(LoginThrottledError) as info:
        th.begin("ann", "10.0.0.1")
    assert info.value.retry_after == 1
    th.abandoned("ann", "10.0.0.1")
    th.begin("ann", "10.0.0.1")


def test_a_user_lock_is_short_and_spares_addresses_where_the_user_logged_in() -> None:
    th, clock = _throttle()
    th.begin("ann", "10.9.9.9")
    th.succeeded("ann", "10.9.9.9")
    outcome = None
    for i in range(5):  # a guesser spread over five addresses
        th.begin("ann", f"10.0.0.{i}")
        outcome = th.failed("ann", f"10.0.0.{i}")
    assert outcome is not None and outcome.user_locked
    with pytest.raises(LoginThrottledError) as info:
        th.check("ann", "10.1.1.1")
    assert info.value.retry_after == 10 and "'ann'" in info.value.desc
    th.check("ann", "10.9.9.9")  # where ann logged in before
    th.check("bob", "10.1.1.1")  # another user
    clock.now += 11
    th.check("ann", "10.1.1.1")


def test_zero_failures_means_no_limit() -> None:
    th, _ = _throttle(Limits(max_failures=0, user_max_failures=0))
    for _ in range(50):
        _fail(th, "ann", "10.0.0.1")
    th.check("ann", "10.0.0.1")


def test_invented_names_and_addresses_do_not_grow_the_tables_without_bound() -> None:
    th, _ = _throttle(Limits(max_failures=1000, user_max_failures=1000))
    for i in range(10050):
        _fail(th, f"user{i}", f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")
    assert len(th._addr) <= 10000 and len(th._user) <= 10000


def test_the_pool_refuses_at_once_when_full() -> None:
    pool = HashPool(threads=1, queue=1)
    gate = threading.Event()
    try:
        first = pool.submit(gate.wait, 30)
        second = pool.submit(gate.wait, 30)
        with pytest.raises(LoginBusyError) as info:
            pool.submit(gate.wait, 30)
        assert info.value.http_status == 503 and info.value.retry_after == 1
        gate.set()
        assert first.result(10) and second.result(10)
        assert pool.submit(lambda: 7).result(10) == 7
    finally:
        gate.set()
        pool.close()


def test_remembered_logins_and_tokens() -> None:
    clock = Clock()
    cache = LoginCache(ttl=60, clock=clock)
    key = cache.key("ann", "secret")
    assert key[1] != b"secret" and key != LoginCache().key("ann", "secret")
    cache.put(key, "fp1")
    assert cache.get(key) == "fp1" and cache.get(cache.key("ann", "other")) is None
    cache.forget_user("ann")
    assert cache.get(key) is None
    cache.put(key, "fp1")
    clock.now += 61
    assert cache.get(key) is None

    store = TokenStore(clock=clock)
    token = store.issue("ann", "fp1", 100)
    tid = token_id(token)
    assert token not in repr(store.snapshot())
    entry = store.lookup(tid)
    assert entry is not None and entry.username == "ann" and entry.fingerprint == "fp1"
    assert store.revoke(tid) and store.lookup(tid) is None and not store.revoke(tid)
    tid2 = token_id(store.issue("ann", "fp1", 100))
    clock.now += 101
    assert store.lookup(tid2) is None


def test_a_user_holds_a_bounded_number_of_tokens() -> None:
    store = TokenStore()
    first = token_id(store.issue("ann", "fp", 100))
    for _ in range(150):
        store.issue("ann", "fp", 100)
    store.issue("bob", "fp", 100)
    assert len(store) == 101 and store.lookup(first) is None


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (None, "authentication is required"),
        ("Bearer abc", "authentication is required"),
        ("Basic !!!", "malformed"),
        ("Basic " + "YWJj", "no ':'"),  # "abc"
        ("Basic " + "/w==", "malformed"),  # not UTF-8
        ("Basic " + "YQBiOnA=", "NUL"),  # "a\0b:p"
    ],
)
def test_bad_basic_headers_are_refused(header: str | None, problem: str) -> None:
    from qorus_core.model.errors import AuthenticationError

    with pytest.raises(AuthenticationError, match=problem):
        parse_basic(header)


def test_credentials_that_cannot_be_checked() -> None:
    assert parse_basic("Basic YW5uOnA6cQ==") == ("ann", "p:q")
    assert credentials_problem("ann", "pw") is None
    assert "longer than 160" in str(credentials_problem("a" * 161, "pw"))
    assert "longer than 4096" in str(credentials_problem("ann", "p" * 4097))
    assert "empty" in str(credentials_problem("", "pw"))
    assert "Unicode" in str(credentials_problem("ann", "\ud800"))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("rbac-login-max-failures", -1),
        ("rbac-login-failure-window", 0),
        ("rbac-login-lock-time", 0),
        ("rbac-login-user-max-failures", -5),
        ("rbac-login-user-lock-time", 0),
        ("rbac-login-threads", 0),
        ("rbac-login-threads", 65),
        ("rbac-login-queue", -1),
        ("rbac-login-queue", "many"),
    ],
)
def test_bad_login_options_are_refused(name: str, value: object) -> None:
    with pytest.raises(OptionError, match=name):
        Options({name: value})
