"""The one natural version order that every "latest version of a name" lookup uses."""

from __future__ import annotations

import random

import pytest

from qorus_core.model.versions import latest, latest_by, sort_versions, sorted_by, version_key

ORDERED = [
    "1",
    "1.0",
    "1.0.1",
    "1.0a",
    "1.2",
    "1.9",
    "1.10",
    "1.10.0",
    "2",
    "2.1",
    "2a",
    "2b",
    "10",
]


def test_natural_order_whatever_the_input_order() -> None:
    for seed in range(5):
        shuffled = ORDERED[:]
        random.Random(seed).shuffle(shuffled)
        assert sort_versions(shuffled) == ORDERED


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("1.9", "1.10"),
        ("1.10", "2"),
        ("2", "2a"),
        ("2.1", "2a"),
        ("2a", "10"),
        ("1.09", "1.10"),
        ("9", "10"),
        ("v1.9", "v1.10"),
        ("1.0-beta", "1.0-rc"),
        ("1", "1.0"),
    ],
)
def test_pairs(older: str, newer: str) -> None:
    assert version_key(older) < version_key(newer)
    assert latest([newer, older]) == newer
    assert latest([older, newer]) == newer


def test_latest_of_nothing_is_none() -> None:
    assert latest([]) is None
    assert latest_by([], lambda r: r) is None


def test_equal_runs_are_ordered_by_text_so_the_order_is_total() -> None:
    assert version_key("1.0") != version_key("1-0")
    assert sort_versions(["1.0", "1-0", "1_0"]) == sort_versions(["1_0", "1.0", "1-0"])


def test_huge_numbers_compare_numerically_without_conversion_limits() -> None:
    big = "9" * 5000
    assert latest([big, "1" + "0" * 5000]) == "1" + "0" * 5000
    assert latest(["0" * 6000 + "2", "10"]) == "10"


def test_rows_by_version() -> None:
    rows = [(1, "1.10"), (2, "1.9"), (3, "1.2")]
    assert latest_by(rows, lambda r: r[1]) == (1, "1.10")
    assert [r[0] for r in sorted_by(rows, lambda r: r[1])] == [3, 2, 1]
