"""A bounded, printable excerpt of caller-supplied text for error messages.

An error names what was wrong, but a hostile caller must not make us echo megabytes, control
characters or NULs back (into answers, logs and audit rows); every message that quotes input
quotes it through :func:`excerpt`.
"""

from __future__ import annotations

EXCERPT_LIMIT = 60


def excerpt(text: object, limit: int = EXCERPT_LIMIT) -> str:
    """``text`` quoted as a Python literal (control characters escaped), at most ``limit``
    characters of it, with the full length said when it was cut."""
    s = text if isinstance(text, str) else str(text)
    if len(s) <= limit:
        return repr(s)
    return f"{s[:limit]!r}... ({len(s)} characters)"
