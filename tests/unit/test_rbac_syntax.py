"""user-tool argument syntax, list changes and the password policy (no database)."""

from __future__ import annotations

import pytest

from qorus_core.rbac import PasswordPolicy, RbacError, hash_password, verify_password
from qorus_core.rbac.changes import ListChange
from qorus_core.rbac.syntax import (
    parse_add_role,
    parse_add_user,
    parse_delete,
    split_key_values,
)


def test_add_user_fields() -> None:
    u = parse_add_user('ann,pw,operator,read-only,"Ann, the admin"')
    assert (u.username, u.password, u.roles, u.description) == (
        "ann",
        "pw",
        ("operator", "read-only"),
        "Ann, the admin",
    )
    u = parse_add_user("ann,pw,operator")
    assert u.roles == ("operator",) and u.description == ""
    assert parse_add_user("ann,,operator,Ann").password is None


def test_add_user_error_never_shows_the_password() -> None:
    with pytest.raises(RbacError) as exc:
        parse_add_user("ann,TopSecret99")
    assert "TopSecret99" not in str(exc.value)


def test_key_values_keep_commas_inside_lists() -> None:
    kv = split_key_values(
        "desc=my group,workflows=A,B:1.0,jobs=J;enabled=false",
        ("desc", "workflows", "services", "jobs", "enabled"),
        "x",
    )
    assert kv == {"desc": "my group", "workflows": "A,B:1.0", "jobs": "J", "enabled": "false"}
    with pytest.raises(RbacError, match="unknown key 'colour'"):
        split_key_values("colour=red", ("desc",), "x")
    with pytest.raises(RbacError, match="twice"):
        split_key_values("desc=a,desc=b", ("desc",), "x")


def test_add_role_and_delete() -> None:
    assert parse_add_role("r:the role:LOGIN,SHUTDOWN:G1,G2") == (
        "r",
        "the role",
        ["LOGIN", "SHUTDOWN"],
        ["G1", "G2"],
    )
    assert parse_add_role("r:desc") == ("r", "desc", [], [])
    assert parse_delete("perm:MINE") == ("perm", "MINE")
    with pytest.raises(RbacError):
        parse_delete("thing:x")


def test_list_change() -> None:
    assert ListChange.parse(["a", "b"], "x").apply(["c"]) == ["a", "b"]
    assert ListChange.parse(["+a", "-c"], "x").apply(["c", "d"]) == ["d", "a"]
    with pytest.raises(RbacError, match="cannot mix"):
        ListChange.parse(["+a", "b"], "x")


@pytest.mark.parametrize(
    ("policy", "password", "rule"),
    [
        (PasswordPolicy(min_length=8), "short", "password-policy-min-length"),
        (PasswordPolicy(min_length=1, mixed_case=True), "alllower", "password-policy-mixed-case"),
        (PasswordPolicy(min_length=1, numbers=True), "NoDigits", "password-policy-numbers"),
        (PasswordPolicy(min_length=1, symbols=True), "NoSymbols1", "password-policy-symbols"),
    ],
)
def test_password_policy(policy: PasswordPolicy, password: str, rule: str) -> None:
    with pytest.raises(RbacError) as exc:
        policy.check(password, "ann")
    assert rule in exc.value.desc and password not in exc.value.desc
    assert exc.value.code == "PASSWORD-POLICY-ERROR"
    PasswordPolicy(8, True, True, True).check("Aa1!aaaa", "ann")


def test_hash_round_trip() -> None:
    h = hash_password("s3cret-pw")
    assert h.startswith("$argon2id$") and "s3cret-pw" not in h
    assert verify_password(h, "s3cret-pw")
    assert not verify_password(h, "other")
    assert not verify_password(None, "s3cret-pw")
    assert not verify_password("garbage", "s3cret-pw")
