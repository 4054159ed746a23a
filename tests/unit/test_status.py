from __future__ import annotations

import pytest

from qorus_core.model import status


def test_codes_round_trip() -> None:
    for name, code in status.ORDER_STATUS_CODES.items():
        assert status.order_name(status.order_code(name)) == name
        assert status.order_code(code) == code


def test_rank_derives_highest() -> None:
    assert status.highest(["COMPLETE", "RETRY", "ERROR"]) == "ERROR"
    assert status.highest(["COMPLETE", "IN-PROGRESS", "CANCELED"]) == "IN-PROGRESS"
    assert status.highest(["COMPLETE", "INCOMPLETE"]) == "INCOMPLETE"


def test_unknown_status() -> None:
    with pytest.raises(ValueError, match="unknown order status"):
        status.order_code("DONE")


def test_enums_carry_the_codes() -> None:
    assert status.OrderStatus.IN_PROGRESS == "I"
    assert status.OrderStatus.IN_PROGRESS.api_name == "IN-PROGRESS"
    assert status.JobStatus.CRASH == "Z"
    assert status.SessionStatus.ACTIVE == "ACTIVE"
    assert {s.api_name: s.value for s in status.OrderStatus} == status.ORDER_STATUS_CODES
    assert type(status.OrderStatus.READY.value) is str
