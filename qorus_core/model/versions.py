"""The one version order: which version of a name is "the latest".

A name given without a version (``ORDER-FULFILMENT``, a step in a workflow's ``steps``, a group
member, a library class) means its latest version, and every caller (oload, the engine, the API,
RBAC groups) must agree on what that is, whatever order the versions were loaded in. The order
is natural: a version is read as runs of digits and runs of letters (separators such as ``.``,
``-``, ``_`` only split them); runs compare one by one, digits as numbers and before letters at
the same position, and a version that is a prefix of another comes first. So
``1.9 < 1.10 < 2 < 2.1 < 2a < 10``. Versions whose runs are equal (``1.0`` and ``1-0``) are
ordered by their text, so the order is total and never depends on load order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

#: a natural-order sort key; compare keys, never the parts
VersionKey = tuple[tuple[tuple[int, int, str], ...], str]

_RUNS = re.compile(r"[0-9]+|[^\W0-9_]+")


def version_key(version: str) -> VersionKey:
    """Sort key of ``version`` in natural version order (``1.10`` after ``1.9``)."""
    return tuple(_run(p) for p in _RUNS.findall(version)), version


def _run(part: str) -> tuple[int, int, str]:
    # digits compare as numbers without int(): (length without leading zeros, digits) orders
    # them numerically for any length
    if part.isascii() and part.isdigit():
        digits = part.lstrip("0")
        return 0, len(digits), digits
    return 1, 0, part


def sort_versions(versions: Iterable[str]) -> list[str]:
    """``versions`` oldest first, in natural version order."""
    return sorted(versions, key=version_key)


def latest(versions: Iterable[str]) -> str | None:
    """The latest of ``versions`` in natural version order; None when there are none."""
    return max(versions, key=version_key, default=None)


def latest_by(items: Iterable[T], version: Callable[[T], str]) -> T | None:
    """The item whose ``version(item)`` is latest in natural version order (rows, definitions)."""
    return max(items, key=lambda i: version_key(version(i)), default=None)


def sorted_by(items: Iterable[T], version: Callable[[T], str]) -> list[T]:
    """``items`` ordered oldest version first."""
    return sorted(items, key=lambda i: version_key(version(i)))
