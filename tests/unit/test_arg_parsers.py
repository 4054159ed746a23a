"""The typed argument parsers: what each accepts, and a 400 naming the argument for the rest."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from qorus_core.model import args as a
from qorus_core.model.errors import QorusError, ValidationError

NAN, INF = float("nan"), float("inf")


def refused(fn: Any, value: Any, *args: Any, **kw: Any) -> QorusError:
    with pytest.raises(QorusError) as info:
        fn(value, "arg1", *args, **kw)
    assert info.value.http_status == 400 or fn is a.arg_hash
    assert "arg1" in info.value.desc
    return info.value


@pytest.mark.parametrize(
    ("value", "want"),
    [(5, 5), ("  -7 ", -7), ("+3", 3), (4.0, 4), (2**63 - 1, 2**63 - 1), (-(2**63), -(2**63))],
)
def test_arg_int_accepts(value: Any, want: int) -> None:
    assert a.arg_int(value, "n") == want


@pytest.mark.parametrize(
    "value",
    [
        "abc",
        "1e3",
        "0x10",
        "1_000",
        "١٢",  # digits, but not ASCII ones
        "1\x00",
        "9" * 5000,
        2**63,
        -(2**63) - 1,
        NAN,
        INF,
        -INF,
        1.5,
        True,
        [1],
        {"a": 1},
        None,
        "",
    ],
)
def test_arg_int_refuses(value: Any) -> None:
    err = refused(a.arg_int, value)
    assert err.code == "INVALID-ARGUMENT"
    assert len(err.desc) < 200  # a huge value is not echoed


def test_arg_int_range_and_code() -> None:
    assert a.arg_int("999", "p", minimum=0, maximum=999) == 999
    err = refused(a.arg_int, 1000, minimum=0, maximum=999, code="ORDER-DATA-ERROR")
    assert err.code == "ORDER-DATA-ERROR" and "from 0 to 999" in err.desc
    assert "missing" in refused(a.arg_int, None).desc


def test_ids_and_lists() -> None:
    assert a.arg_id("0", "id") == 0
    refused(a.arg_id, -1)
    assert a.arg_ids("1, 2,3", "ids") == [1, 2, 3]
    assert a.arg_ids([4, "5"], "ids") == [4, 5]
    assert a.arg_ids(7, "ids") == [7]
    for bad in ("1,abc", [2**63], [[1]], {"a": 1}, "", None, [-1]):
        refused(a.arg_ids, bad)
    refused(a.arg_ids, ",".join(["1"] * 11), max_count=10)
    assert a.arg_list("a,,b", "l") == ["a", "b"]


def test_limits_and_offsets() -> None:
    assert a.arg_limit(None, "limit", default=100, maximum=10000) == 100
    assert a.arg_limit("", "limit", default=None, maximum=10000) is None
    assert a.arg_limit("0", "limit", default=100, maximum=10000) == 0
    assert a.arg_limit(2**40, "limit", default=100, maximum=10000) == 10000
    for bad in (-1, "-5", 2**63, NAN, "x"):
        refused(a.arg_limit, bad, default=100, maximum=10000)
    refused(a.arg_limit, 0, default=None, minimum=1, maximum=10)
    assert a.arg_offset(None, "offset") == 0
    assert a.arg_offset("12", "offset") == 12
    refused(a.arg_offset, -1)


def test_arg_float() -> None:
    assert a.arg_float("2.5", "f") == 2.5
    assert a.arg_float(3, "f", minimum=0, maximum=5) == 3.0
    for bad in (NAN, INF, "nan", "inf", "-Infinity", True, [1], "x", 10**400):
        refused(a.arg_float, bad)
    refused(a.arg_float, 6, minimum=0, maximum=5)


@pytest.mark.parametrize(
    ("value", "want"),
    [(True, True), (0, False), (2, True), ("yes", True), ("Off", False), ("", False)],
)
def test_arg_bool_accepts(value: Any, want: bool) -> None:
    assert a.arg_bool(value, "b") is want


@pytest.mark.parametrize("value", ["maybe", NAN, 1.5, [1], {"a": 1}, None, "\x00"])
def test_arg_bool_refuses(value: Any) -> None:
    refused(a.arg_bool, value)


def test_arg_text() -> None:
    assert a.arg_text("abc", "t") == "abc"
    assert a.arg_text(12, "t") == "12"
    assert a.arg_text("x" * 10, "t", max_len=10) == "x" * 10
    for bad in ("a\x00b", [1], {"a": 1}, None, True, NAN, INF):
        refused(a.arg_text, bad)
    err = refused(a.arg_text, "x" * 11, max_len=10)
    assert "longer than 10" in err.desc
    err = refused(a.arg_text, "y" * 5000, max_len=4000)
    assert "yyyyyyyyyy" not in err.desc
    assert a.arg_texts("a, b", "t") == ["a", "b"]
    refused(a.arg_texts, ["ok", "b\x00"])


def test_arg_date() -> None:
    assert a.arg_date("2024-05-01", "d") == datetime(2024, 5, 1)
    assert a.arg_date("2024-05-01T12:00:00+02:00", "d") == datetime(2024, 5, 1, 10)
    assert a.arg_date("2024-05-01T12:00:00Z", "d") == datetime(2024, 5, 1, 12)
    when = datetime(2020, 1, 2, 3, 4, 5)
    assert a.arg_date(when, "d") == when
    assert a.arg_date(date(2020, 1, 2), "d") == datetime(2020, 1, 2)
    for bad in (
        "yesterday",
        "2024-13-01",
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
        "2024-01-01\x00",
        "1" * 5000,
        5,
        NAN,
        [1],
        None,
    ):
        refused(a.arg_date, bad)


def test_arg_hash_and_data() -> None:
    assert a.arg_hash({"a": [1, {"b": 2.5}]}, "h") == {"a": [1, {"b": 2.5}]}
    assert a.arg_hash("{a: 1}", "h") == {"a": 1}
    deep: Any = 1
    for _ in range(64):
        deep = [deep]
    a.check_data(deep, "h")
    for bad in ("[1, 2]", "{a: [", 5, [1], None, {"a": NAN}, {"a": [INF]}, {"a": [deep]}):
        with pytest.raises(ValidationError) as info:
            a.arg_hash(bad, "arg1")
        assert "arg1" in info.value.desc
    # a custom error, as the sensitive data operations use
    with pytest.raises(QorusError) as err:
        a.arg_hash(5, "meta", lambda d: QorusError(d, code="SENSITIVE-DATA-ARG-ERROR"))
    assert err.value.code == "SENSITIVE-DATA-ARG-ERROR"


def test_shown_keeps_messages_short() -> None:
    assert a.shown("abc") == "'abc'"
    assert a.shown("x" * 100) == "a string of 100 characters"
    assert a.shown(list(range(100))) == "a list of 100 items"
    assert a.shown(2**200) == "a number"
    assert a.absent(None) and a.absent(" ") and not a.absent(0)
