"""``rbac-force-user``: the entries parsed, address patterns, host patterns (with stand-in name
lookups), the first match winning, lookups cached, bad entries refused."""

from __future__ import annotations

import pytest

from qorus_core.model.errors import OptionError
from qorus_server.force_user import ForceUserMap, parse_rules


def test_entries_parse_into_address_and_host_rules() -> None:
    rules = parse_rules(["192.168.*=ops", " 10.0.0.? = remote ", "localhost=admin", "::1=admin"])
    assert [(r.pattern, r.user, r.by_host) for r in rules] == [
        ("192.168.*", "ops", False),
        ("10.0.0.?", "remote", False),
        ("localhost", "admin", True),
        ("::1", "admin", False),
    ]
    assert parse_rules([]) == ()
    # a user name may not hold '=' but a pattern is everything before the last one
    assert parse_rules(["*.example.com=web"])[0].by_host


@pytest.mark.parametrize(
    "entry", ["192.168.*", "=ops", "192.168.*=", "=", "a=b\x00", "h=" + "u" * 161]
)
def test_bad_entries_are_refused(entry: str) -> None:
    with pytest.raises(OptionError, match="rbac-force-user"):
        parse_rules([entry])


def test_address_patterns_match_the_client_address() -> None:
    fm = ForceUserMap(resolve=_no_lookup, reverse=_no_lookup)
    rules = parse_rules(["127.0.0.2=viewer", "192.168.*=ops", "10.0.0.?=remote", "*=anyone"])
    assert fm.user_for(rules, "127.0.0.2") == "viewer"
    assert fm.user_for(rules, "192.168.10.4") == "ops"
    assert fm.user_for(rules, "10.0.0.7") == "remote"
    assert fm.user_for(rules, "10.0.0.17") == "anyone"  # first match wins, '*' last
    # an IPv4 address mapped into IPv6 matches the IPv4 patterns
    assert fm.user_for(rules, "::ffff:192.168.1.1") == "ops"
    only_lan = parse_rules(["192.168.*=ops"])
    assert fm.user_for(only_lan, "127.0.0.1") is None
    assert fm.user_for(only_lan, "local") is None  # no client address
    assert not fm.needs_lookup(only_lan)


def test_host_patterns_resolve_names_and_cache_them() -> None:
    calls: list[str] = []

    def resolve(name: str) -> set[str]:
        calls.append(f"resolve {name}")
        return {"127.0.0.1", "::1"} if name == "localhost" else set()

    def reverse(address: str) -> set[str]:
        calls.append(f"reverse {address}")
        if address == "10.1.2.3":
            return {"build.example.com", "ci"}
        raise OSError("no name")

    now = [0.0]
    fm = ForceUserMap(resolve=resolve, reverse=reverse, clock=lambda: now[0])
    rules = parse_rules(["localhost=admin", "*.example.com=builder"])
    assert fm.needs_lookup(rules)
    assert fm.user_for(rules, "127.0.0.1") == "admin"
    assert fm.user_for(rules, "::1") == "admin"
    assert fm.user_for(rules, "10.1.2.3") == "builder"
    assert fm.user_for(rules, "10.9.9.9") is None  # a failed lookup matches nothing
    assert fm.user_for(rules, "10.9.9.9") is None
    assert calls.count("resolve localhost") == 1  # cached
    assert calls.count("reverse 10.9.9.9") == 1
    now[0] += 61
    assert fm.user_for(rules, "127.0.0.1") == "admin"
    assert calls.count("resolve localhost") == 2  # looked up again after the TTL


def test_the_option_value_is_parsed_once_per_value() -> None:
    fm = ForceUserMap(resolve=_no_lookup, reverse=_no_lookup)
    first = fm.rules(["127.0.0.2=viewer"])
    assert fm.rules(["127.0.0.2=viewer"]) is first
    assert fm.rules(["127.0.0.3=viewer"])[0].pattern == "127.0.0.3"
    with pytest.raises(OptionError):
        fm.rules(["nonsense"])


def _no_lookup(value: str) -> set[str]:
    raise AssertionError(f"no name lookup expected, got one for {value!r}")
