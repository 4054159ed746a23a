"""Statuses: API names, one-letter database codes and the rank used to derive an order's status."""

from __future__ import annotations

# order (workflow instance), segment and step statuses: name -> code
ORDER_STATUS_CODES: dict[str, str] = {
    "COMPLETE": "C",
    "ERROR": "E",
    "WAITING": "W",
    "IN-PROGRESS": "I",
    "INCOMPLETE": "N",
    "ASYNC-WAITING": "A",
    "EVENT-WAITING": "V",
    "RETRY": "R",
    "CANCELED": "X",
    "READY": "Y",
    "SCHEDULED": "S",
    "BLOCKED": "B",
}
ORDER_STATUS_NAMES: dict[str, str] = {v: k for k, v in ORDER_STATUS_CODES.items()}

# lower rank wins less: an order's status is the highest-ranked status of its parts
STATUS_RANK: dict[str, int] = {
    "COMPLETE": 1,
    "INCOMPLETE": 2,
    "WAITING": 3,
    "EVENT-WAITING": 4,
    "ASYNC-WAITING": 5,
    "RETRY": 6,
    "ERROR": 7,
    "CANCELED": 8,
    "IN-PROGRESS": 9,
}

JOB_STATUS_CODES: dict[str, str] = {
    "COMPLETE": "C",
    "IN-PROGRESS": "I",
    "ERROR": "E",
    "CRASH": "Z",
}
JOB_STATUS_NAMES: dict[str, str] = {v: k for k, v in JOB_STATUS_CODES.items()}

SESSION_ACTIVE = "ACTIVE"
SESSION_CLOSED = "CLOSED"
SESSION_RECOVERED = "RECOVERED"


def order_code(name: str) -> str:
    """The database code of an order status given by name (or already a code)."""
    upper = name.upper()
    if upper in ORDER_STATUS_CODES:
        return ORDER_STATUS_CODES[upper]
    if upper in ORDER_STATUS_NAMES:
        return upper
    raise ValueError(f"unknown order status {name!r}")


def order_name(code: str) -> str:
    return ORDER_STATUS_NAMES[code]


def highest(statuses: list[str]) -> str:
    """The status of a whole from the statuses (names) of its parts, by rank."""
    return max(statuses, key=lambda s: STATUS_RANK.get(s, 0))
