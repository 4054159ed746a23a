"""Job schedules through croniter: parsing, what is refused, the next trigger in a time zone
(daylight saving included) and durations."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from qorus_core.model.schedule import Schedule, ScheduleError

PRAGUE = ZoneInfo("Europe/Prague")


@pytest.mark.parametrize(
    ("text", "after", "expected"),
    [
        ("*/15 * * * *", datetime(2030, 1, 7, 10, 0), datetime(2030, 1, 7, 10, 15)),
        ("*/15 * * * *", datetime(2030, 1, 7, 10, 14, 59, 999), datetime(2030, 1, 7, 10, 15)),
        ("0 9 * * mon-fri", datetime(2030, 1, 11, 9, 0), datetime(2030, 1, 14, 9, 0)),
        ("0 0 1 jan,jul *", datetime(2030, 1, 7), datetime(2030, 7, 1)),
        ("30 4 * * 7", datetime(2030, 1, 7), datetime(2030, 1, 13, 4, 30)),
    ],
)
def test_next_trigger_in_utc(text: str, after: datetime, expected: datetime) -> None:
    assert Schedule.parse(text).next_after(after, UTC) == expected


def test_next_trigger_in_a_time_zone_with_daylight_saving() -> None:
    daily = Schedule.parse("30 2 * * *")
    # winter: 02:30 in Prague is 01:30 UTC
    assert daily.next_after(datetime(2030, 1, 7), PRAGUE) == datetime(2030, 1, 7, 1, 30)
    # summer: 02:30 in Prague is 00:30 UTC
    assert daily.next_after(datetime(2030, 7, 7), PRAGUE) == datetime(2030, 7, 7, 0, 30)
    # the night clocks go forward (31 March 2030) has no 02:30: the job runs at 03:00 local
    assert daily.next_after(datetime(2030, 3, 30, 23, 0), PRAGUE) == datetime(2030, 3, 31, 1, 0)


def test_durations() -> None:
    every = Schedule.every(90)
    assert every.next_after(datetime(2030, 1, 1, 0, 0, 0, 500), UTC) == datetime(
        2030, 1, 1, 0, 1, 30
    )
    assert every.describe() == "every 90 seconds" and every.kind == "recurring"
    for bad in (0, -5, 10_000_000):
        with pytest.raises(ScheduleError):
            Schedule.every(bad)


@pytest.mark.parametrize(
    "text",
    ["* * * *", "* * * * * *", "60 * * * *", "* 18-8 * * *", "* * L * *", "* * 31 2 *", ""],
)
def test_refused(text: str) -> None:
    with pytest.raises(ScheduleError) as info:
        Schedule.parse(text)
    assert info.value.http_status == 400 and info.value.code == "CRON-ERROR"


def test_columns_round_trip() -> None:
    sched = Schedule.parse("0 6 * * MON-FRI")
    cols = sched.columns()
    assert cols == {
        "minute": "0",
        "hour": "6",
        "day": "*",
        "month": "*",
        "wday": "mon-fri",
        "recurring": None,
    }
    assert Schedule.of_row(cols) == sched
    assert Schedule.of_row(Schedule.every(60).columns()) == Schedule.every(60)
    assert sched.describe() == "minutes: 0, hours: 6, days: *, months: *, wdays: mon-fri"
