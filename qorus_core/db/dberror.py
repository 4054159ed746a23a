"""The one text a tool shows for a database failure: the driver's first line, never a
traceback, so every tool words it the same way."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError


def reason(exc: SQLAlchemyError) -> str:
    """The driver's own first line (SQLAlchemy's wrapper adds SQL text and a link)."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def message(exc: SQLAlchemyError) -> str:
    """``database error: <reason>``."""
    return f"database error: {reason(exc)}"
