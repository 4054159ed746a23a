"""Cron field checks for job schedules (``*``, lists, ranges, ``*/n`` steps, month/day names)."""

from __future__ import annotations

import re

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

# schedule key -> (low, high, names whose index + offset is the value)
FIELDS: dict[str, tuple[int, int, tuple[str, ...], int]] = {
    "minutes": (0, 59, (), 0),
    "hours": (0, 23, (), 0),
    "days": (1, 31, (), 0),
    "months": (1, 12, MONTHS, 1),
    "dow": (0, 7, DAYS, 0),
}
_ITEM = re.compile(r"^(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/([0-9]+))?$")


def _value(tok: str, field: str) -> int | None:
    low, high, names, offset = FIELDS[field]
    if tok.isdigit():
        v = int(tok)
    elif tok in names:
        v = names.index(tok) + offset
    else:
        return None
    return v if low <= v <= high else None


def check_field(field: str, text: str) -> str | None:
    """None when ``text`` is a valid cron expression for ``field``, else why it is not."""
    low, high, _, _ = FIELDS[field]
    if not text.strip():
        return f"{field} is empty"
    for part in text.strip().lower().split(","):
        m = _ITEM.match(part.strip())
        if not m:
            return f"{field}: {part!r} is not a cron expression"
        rng, step = m.group(1), m.group(2)
        if step is not None and int(step) == 0:
            return f"{field}: step 0 in {part!r}"
        if rng == "*":
            continue
        ends = rng.split("-")
        vals = [_value(e, field) for e in ends]
        if any(v is None for v in vals):
            return f"{field}: {part!r} is out of range {low}-{high}"
        if len(vals) == 2 and vals[0] > vals[1]:  # type: ignore[operator]
            return f"{field}: range {rng!r} runs backwards"
    return None
