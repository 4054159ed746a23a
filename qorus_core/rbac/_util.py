"""Small helpers the RBAC modules share: name checks and row existence."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from qorus_core.model.args import shown
from qorus_core.rbac.errors import BAD_ARGUMENT, RbacError

# ':' ',' ';' '=' and '+'/'-' in front separate fields in user-tool arguments
_NAME = re.compile(r"^[^\s:,;=+\-][^:,;=]*$")


def check_name(kind: str, name: str, maxlen: int, code: str) -> str:
    name = name.strip()
    if not name:
        raise RbacError(f"a {kind} name cannot be empty", code=code, status=BAD_ARGUMENT)
    if len(name) > maxlen:
        raise RbacError(
            f"{kind} name {shown(name)} is longer than {maxlen} characters",
            code=code,
            status=BAD_ARGUMENT,
        )
    if not _NAME.match(name) or name != name.strip():
        raise RbacError(
            f"{kind} name {name!r} is invalid: it may not start with a space, '+' or '-' nor "
            "contain ':', ',', ';' or '='",
            code=code,
            status=BAD_ARGUMENT,
        )
    return name


def check_text(what: str, text: str, maxlen: int, code: str) -> str:
    """A description: at most ``maxlen`` characters (its column), no NUL character."""
    if len(text) > maxlen:
        raise RbacError(
            f"{what} is longer than {maxlen} characters ({len(text)})",
            code=code,
            status=BAD_ARGUMENT,
        )
    if "\x00" in text:
        raise RbacError(f"{what} contains a NUL character", code=code, status=BAD_ARGUMENT)
    return text


def exists(conn: Connection, col: Any, value: Any) -> bool:
    return bool(conn.execute(select(func.count()).where(col == value)).scalar_one())


def missing(conn: Connection, col: Any, values: list[str]) -> list[str]:
    """The values that no row holds, in the order given."""
    if not values:
        return []
    have = set(conn.execute(select(col).where(col.in_(values))).scalars())
    return [v for v in values if v not in have]


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
