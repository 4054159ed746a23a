"""Job schedules: five cron fields (minutes hours days months dow) or a ``duration`` in seconds,
and the next trigger time in a time zone. Parsing and the calendar arithmetic are croniter's;
this module only keeps what Qorus accepts.

Qorus's cron syntax is ``*``, numbers, lists (``0,30``), ranges (``8-18``), steps (``*/15``,
``8-18/2``) and three-letter month and day names (``jan``, ``mon-fri``); Sunday is 0 or 7.
croniter also understands forms Qorus never had (``L``, ``W``, ``#``, ``?``, ``H``, a seconds
field) and reads a range that runs backwards (``18-8``) as wrapping round, where Qorus swapped
its ends: all of these are refused, so a schedule means the same here as in Qorus or is an
error. Stored timestamps are naive UTC (the schema's convention); a cron schedule is evaluated
in the server's time zone, so ``0 2 * * *`` is 02:00 local time, daylight saving included.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, CroniterError, croniter

from qorus_core.model.errors import ValidationError

#: the schedule keys of a job definition, in cron order
FIELDS = ("minutes", "hours", "days", "months", "dow")
#: the ``jobs`` columns of the same fields
COLUMNS = ("minute", "hour", "day", "month", "wday")
#: a duration must be below this many seconds (as in Qorus)
MAX_DURATION = 10_000_000
#: the longest cron field text (the columns are 240 characters wide)
MAX_FIELD = 240

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NAMES = {"months": frozenset(_MONTHS), "dow": frozenset(_DAYS)}
_CHARS = re.compile(r"^[0-9a-z*,/-]+$")
_WORDS = re.compile(r"[a-z]+")


class ScheduleError(ValidationError):
    """A cron schedule or duration that cannot be used (HTTP 400, as Qorus's CRON-ERROR)."""

    code = "CRON-ERROR"


def _alone(field: str, text: str) -> str:
    """A whole cron expression with ``text`` in ``field``'s place and ``*`` elsewhere."""
    parts = ["*"] * 5
    parts[FIELDS.index(field)] = text
    return " ".join(parts)


def _value(field: str, token: str) -> int | None:
    """The number a single token stands for (``7`` stays 7 in ``dow``), or None."""
    if field == "dow" and token == "7":
        return 7
    try:
        expanded = croniter(_alone(field, token)).expanded[FIELDS.index(field)]
    except CroniterError:
        return None
    value = expanded[0] if len(expanded) == 1 else None
    return value if isinstance(value, int) else None


def check_field(field: str, text: str) -> str | None:
    """None when ``text`` is a valid cron expression for ``field``, else why it is not."""
    if field not in FIELDS:
        return f"{field!r} is not a cron field ({', '.join(FIELDS)})"
    spec = text.strip().lower()
    if not spec:
        return f"{field} is empty"
    if len(spec) > MAX_FIELD:
        return f"{field} is longer than {MAX_FIELD} characters"
    if not _CHARS.match(spec):
        return f"{field}: {text.strip()!r} is not a cron expression"
    for word in _WORDS.findall(spec):
        if word not in _NAMES.get(field, ()):
            names = _NAMES.get(field)
            allowed = f" (use {', '.join(sorted(names))})" if names else ""
            return f"{field}: {word!r} is not a name this field takes{allowed}"
    try:
        croniter(_alone(field, spec))
    except CroniterError as exc:
        reason = str(exc).split("]")[-1].strip(" ,.") or "not acceptable"
        return f"{field}: {text.strip()!r} is not valid ({reason})"
    for part in spec.split(","):
        ends = part.split("/", 1)[0].split("-")
        if len(ends) == 2:
            low, high = (_value(field, e) for e in ends)
            if low is not None and high is not None and low > high:
                return f"{field}: range {part.split('/', 1)[0]!r} runs backwards"
    return None


@dataclass(frozen=True)
class Schedule:
    """A job's schedule: ``cron`` (minutes, hours, days, months, dow) or ``duration``."""

    cron: tuple[str, str, str, str, str] | None = None
    duration: int | None = None

    # ------------------------------------------------------------------ building

    @classmethod
    def of_fields(cls, fields: dict[str, str]) -> Schedule:
        """From the ``schedule:`` mapping of a job file (every field given, each valid)."""
        missing = [f for f in FIELDS if f not in fields]
        if missing:
            raise ScheduleError(f"the schedule lacks {', '.join(missing)}")
        texts = tuple(str(fields[f]).strip().lower() for f in FIELDS)
        for field, text in zip(FIELDS, texts, strict=True):
            why = check_field(field, text)
            if why:
                raise ScheduleError(f"invalid cron schedule: {why}")
        sched = cls(cron=texts)  # type: ignore[arg-type]
        sched.check_fires()
        return sched

    @classmethod
    def parse(cls, text: str) -> Schedule:
        """From a cron string ``"m h d M dow"`` (five fields separated by blanks)."""
        parts = text.split()
        if len(parts) != 5:
            raise ScheduleError(
                f"a cron schedule has five fields 'minutes hours days months dow', got "
                f"{len(parts)} in {text.strip()[:80]!r}"
            )
        return cls.of_fields(dict(zip(FIELDS, parts, strict=True)))

    @classmethod
    def every(cls, seconds: int) -> Schedule:
        if not 0 < seconds < MAX_DURATION:
            raise ScheduleError(f"duration must be 1 to {MAX_DURATION - 1} seconds, got {seconds}")
        return cls(duration=seconds)

    @classmethod
    def of_row(cls, row: dict[str, object]) -> Schedule:
        """From a ``jobs`` row (``minute`` ... ``wday`` or ``recurring``), as stored."""
        recurring = row.get("recurring")
        if recurring:
            return cls(duration=int(str(recurring)))
        return cls(cron=tuple(str(row.get(c) or "*") for c in COLUMNS))  # type: ignore[arg-type]

    def columns(self) -> dict[str, object]:
        """The ``jobs`` columns that hold this schedule."""
        if self.cron is not None:
            return {**dict(zip(COLUMNS, self.cron, strict=True)), "recurring": None}
        return {**dict.fromkeys(COLUMNS), "recurring": self.duration}

    def check_fires(self) -> None:
        """A cron schedule must match some date (``31 feb`` never does)."""
        if self.cron is not None:
            try:
                croniter(self.expression, datetime(2000, 1, 1)).get_next(datetime)
            except CroniterBadDateError:
                raise ScheduleError(
                    f"the cron schedule {self.expression!r} never fires (no such date)"
                ) from None

    # ------------------------------------------------------------------ reading

    @property
    def expression(self) -> str:
        """``"m h d M dow"`` for a cron schedule, else the empty string."""
        return " ".join(self.cron) if self.cron is not None else ""

    def describe(self) -> str:
        """Qorus's ``sched_txt``."""
        if self.cron is not None:
            m, h, d, mon, dow = self.cron
            return f"minutes: {m}, hours: {h}, days: {d}, months: {mon}, wdays: {dow}"
        return f"every {self.duration} seconds"

    @property
    def kind(self) -> str:
        """Qorus's ``sched_type``: ``cron`` or ``recurring``."""
        return "cron" if self.cron is not None else "recurring"

    def next_after(self, after: datetime, tz: tzinfo) -> datetime:
        """The first trigger strictly after ``after`` (naive UTC), as naive UTC, whole seconds;
        cron fields are read in ``tz``."""
        after = after.replace(microsecond=0)
        if self.duration is not None:
            return after + timedelta(seconds=self.duration)
        local = after.replace(tzinfo=UTC).astimezone(tz)
        nxt: datetime = croniter(self.expression, local).get_next(datetime)
        return nxt.astimezone(UTC).replace(tzinfo=None, microsecond=0)


def local_zone() -> tzinfo:
    """The server's time zone: ``$TZ``, else ``/etc/localtime``'s zone, else the fixed offset
    the system reports now."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = Path("/etc/localtime").resolve()
        if "zoneinfo" in target.parts:
            candidates.append("/".join(target.parts[target.parts.index("zoneinfo") + 1 :]))
    except OSError:
        pass
    for name in candidates:
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return datetime.now().astimezone().tzinfo or UTC
