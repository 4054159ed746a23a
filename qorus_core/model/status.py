"""Statuses: API names, one-letter database codes and the rank used to derive an order's status.

Each status is a :class:`~enum.StrEnum` member whose value is what the schema stores (so it
compares equal to the column's text and binds as a string) and whose ``api_name`` is what the
API and the tools show."""

from __future__ import annotations

from enum import StrEnum


class _Coded(StrEnum):
    @property
    def api_name(self) -> str:
        """The name the API shows: ``IN_PROGRESS`` -> ``IN-PROGRESS``."""
        return self.name.replace("_", "-")


class OrderStatus(_Coded):
    """Order (workflow instance), segment and step statuses; the value is the database code."""

    COMPLETE = "C"
    ERROR = "E"
    WAITING = "W"
    IN_PROGRESS = "I"
    INCOMPLETE = "N"
    ASYNC_WAITING = "A"
    EVENT_WAITING = "V"
    RETRY = "R"
    CANCELED = "X"
    READY = "Y"
    SCHEDULED = "S"
    BLOCKED = "B"


class JobStatus(_Coded):
    """Job instance statuses; the value is the database code."""

    COMPLETE = "C"
    IN_PROGRESS = "I"
    ERROR = "E"
    CRASH = "Z"


class SessionStatus(StrEnum):
    """Application session statuses (stored as written)."""

    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"
    RECOVERED = "RECOVERED"


# order (workflow instance), segment and step statuses: name -> code
ORDER_STATUS_CODES: dict[str, str] = {s.api_name: s.value for s in OrderStatus}
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

JOB_STATUS_CODES: dict[str, str] = {s.api_name: s.value for s in JobStatus}
JOB_STATUS_NAMES: dict[str, str] = {v: k for k, v in JOB_STATUS_CODES.items()}

SESSION_ACTIVE = SessionStatus.ACTIVE
SESSION_CLOSED = SessionStatus.CLOSED
SESSION_RECOVERED = SessionStatus.RECOVERED


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
