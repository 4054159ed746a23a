"""Typed parsers of the arguments callers send: REST query and body values, RPC parameters,
and what interface code hands to the order functions.

Every value from outside is parsed here before it reaches a query, so that a bad one is
answered with a 400 naming the argument instead of a database error: integers within 64 bits
(the width of every id and count column), no NaN or Infinity, limits and offsets not negative,
dates that parse and convert to UTC, text without NUL characters (PostgreSQL refuses them) and
no longer than its column, hashes of bounded depth. The value itself is echoed only when it is
short, so a huge or sensitive argument never comes back in an error.

A parser raises :class:`~qorus_core.model.errors.ValidationError` (HTTP 400); ``code`` picks
the Qorus error code when an operation has its own (ORDER-SEARCH-ERROR, ORDER-DATA-ERROR, ...).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import yaml

from qorus_core.bounded import DEFAULT_LIMITS, LimitError, load_yaml
from qorus_core.model.errors import QorusError, ValidationError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
#: the widest value of an INTEGER column (step index, retries, autostart)
INT32_MAX = 2**31 - 1
#: the most values one list argument (``ids=1,2,3``) may hold
MAX_LIST = 10000
#: the default bound of a text argument (the widest bounded text column, VARCHAR(4000))
MAX_TEXT = 4000
#: the deepest nesting of a hash argument (order data, options)
MAX_DEPTH = 64
#: the longest date text accepted (ISO 8601 with microseconds and offset is 32 characters)
MAX_DATE_TEXT = 64

_INT_TEXT = re.compile(r"[+-]?[0-9]{1,40}")
_SHOWN = 40

ErrorFactory = Callable[[str], QorusError]


def _error(desc: str, code: str | None) -> QorusError:
    return ValidationError(desc, code=code)


def shown(value: Any) -> str:
    """The value for an error message: its repr when short, else only its type and size."""
    if isinstance(value, str | bytes | list | tuple | dict) and len(value) > _SHOWN:
        unit = "characters" if isinstance(value, str) else "items"
        return f"a {_type(value)} of {len(value)} {unit}"
    text = repr(value)
    return text if len(text) <= _SHOWN else f"a {_type(value)}"


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, Mapping):
        return "hash"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def absent(value: Any) -> bool:
    """No value given: missing, null or an empty query argument (``?limit=``)."""
    return value is None or (isinstance(value, str) and value.strip() == "")


def arg_int(
    value: Any,
    name: str,
    *,
    minimum: int = INT64_MIN,
    maximum: int = INT64_MAX,
    code: str | None = None,
) -> int:
    """An integer within ``minimum..maximum`` (by default 64 bits signed): a number without a
    fraction or decimal digits with an optional sign; never a boolean, NaN or Infinity."""
    out: int | None = None
    if isinstance(value, bool):
        out = None
    elif isinstance(value, int):
        out = value
    elif isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            out = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if _INT_TEXT.fullmatch(text):
            out = int(text)
    if out is None:
        if absent(value):
            raise _error(f"missing argument {name!r} (an integer)", code)
        raise _error(f"argument {name!r} must be an integer, got {shown(value)}", code)
    if not minimum <= out <= maximum:
        raise _error(
            f"argument {name!r} must be an integer {_range(minimum, maximum)}, got {shown(out)}",
            code,
        )
    return out


def _range(minimum: int, maximum: int) -> str:
    if maximum == INT64_MAX:
        return f"of {minimum} or more" if minimum != INT64_MIN else "within 64 bits"
    return f"from {minimum} to {maximum}"


def arg_id(value: Any, name: str, *, code: str | None = None) -> int:
    """An object id: 0 .. 2**63-1."""
    return arg_int(value, name, minimum=0, code=code)


def arg_list(value: Any, name: str, *, max_count: int = MAX_LIST) -> list[Any]:
    """A list argument: a list, or a comma-separated string (``ids=1,2,3``); never empty."""
    if absent(value):
        raise _error(f"missing argument {name!r}", None)
    items: list[Any]
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, list | tuple):
        items = list(value)
    elif isinstance(value, Mapping):
        raise _error(f"argument {name!r} must be a list, got a hash", None)
    else:
        items = [value]
    if len(items) > max_count:
        raise _error(f"argument {name!r} has {len(items)} values; at most {max_count}", None)
    return items


def arg_ids(
    value: Any, name: str, *, code: str | None = None, max_count: int = MAX_LIST
) -> list[int]:
    """A list of ids: a list or a comma-separated string, each 0 .. 2**63-1."""
    if absent(value):
        raise _error(f"missing argument {name!r} (a list of ids)", code)
    return [arg_id(v, name, code=code) for v in arg_list(value, name, max_count=max_count)]


def arg_limit(
    value: Any,
    name: str,
    *,
    default: int | None,
    maximum: int,
    minimum: int = 0,
    code: str | None = None,
) -> int | None:
    """A row limit: ``default`` when absent, refused below ``minimum`` or beyond 64 bits, and
    capped at ``maximum``."""
    if absent(value):
        return default
    return min(arg_int(value, name, minimum=minimum, code=code), maximum)


def arg_offset(value: Any, name: str, *, code: str | None = None) -> int:
    """A row offset: 0 when absent, refused when negative or beyond 64 bits."""
    return 0 if absent(value) else arg_int(value, name, minimum=0, code=code)


def arg_float(
    value: Any,
    name: str,
    *,
    minimum: float = -math.inf,
    maximum: float = math.inf,
    code: str | None = None,
) -> float:
    """A finite number within ``minimum..maximum`` (never NaN or Infinity)."""
    out: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            out = float(value)
        except OverflowError:
            out = None
    elif isinstance(value, str) and len(value) <= _SHOWN:
        try:
            out = float(value.strip())
        except ValueError:
            out = None
    if out is None or not math.isfinite(out):
        if absent(value):
            raise _error(f"missing argument {name!r} (a number)", code)
        raise _error(f"argument {name!r} must be a finite number, got {shown(value)}", code)
    if not minimum <= out <= maximum:
        raise _error(f"argument {name!r} must be from {minimum} to {maximum}, got {out}", code)
    return out


#: the words every boolean input accepts (arguments, options, user-tool fields)
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def bool_word(text: str) -> bool | None:
    """True or False for a boolean word (case-insensitive), None for anything else."""
    low = text.lower()
    if low in TRUE_WORDS:
        return True
    if low in FALSE_WORDS:
        return False
    return None


def arg_bool(value: Any, name: str, *, code: str | None = None) -> bool:
    """A boolean: a bool, an integer (non-zero is true) or true/false, yes/no, on/off, 1/0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        text = value.strip()
        found = bool_word(text) if text else False
        if found is not None:
            return found
    raise _error(f"argument {name!r} must be true or false, got {shown(value)}", code)


def arg_text(
    value: Any,
    name: str,
    *,
    max_len: int = MAX_TEXT,
    code: str | None = None,
    error: ErrorFactory | None = None,
) -> str:
    """A text: a string (or a number, written as text) of at most ``max_len`` characters and
    without NUL characters."""
    fail: ErrorFactory = error or (lambda desc: _error(desc, code))
    if isinstance(value, bool) or value is None:
        raise fail(f"argument {name!r} must be a string, got {shown(value)}")
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        value = str(value)
    if not isinstance(value, str):
        raise fail(f"argument {name!r} must be a string, got {shown(value)}")
    if len(value) > max_len:
        raise fail(f"argument {name!r} is longer than {max_len} characters ({len(value)})")
    if "\x00" in value:
        raise fail(f"argument {name!r} contains a NUL character")
    return value


def arg_texts(
    value: Any, name: str, *, max_len: int = MAX_TEXT, code: str | None = None
) -> list[str]:
    """A list of texts: a list or a comma-separated string."""
    return [arg_text(v, name, max_len=max_len, code=code) for v in arg_list(value, name)]


def arg_date(value: Any, name: str, *, code: str | None = None) -> datetime:
    """A date as naive UTC (the storage convention): ISO 8601 text (``2024-05-01``,
    ``2024-05-01T10:00:00+02:00``, ``...Z``), a datetime or a date (as YAML bodies give it);
    its UTC form must exist."""
    stamp: datetime | None = None
    if isinstance(value, datetime):
        stamp = value
    elif isinstance(value, date):
        stamp = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and len(value) <= MAX_DATE_TEXT and "\x00" not in value:
        try:
            stamp = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            stamp = None
    if stamp is None:
        if absent(value):
            raise _error(f"missing argument {name!r} (a date)", code)
        raise _error(f"argument {name!r} must be an ISO 8601 date, got {shown(value)}", code)
    if stamp.tzinfo is not None:
        try:
            stamp = stamp.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise _error(f"argument {name!r} is out of the date range in UTC", code) from None
    return stamp


def arg_hash(
    value: Any, name: str, error: ErrorFactory = ValidationError, *, max_depth: int = MAX_DEPTH
) -> dict[str, Any]:
    """A hash; a string is parsed as YAML (``{a: 1}``), as qrest sends it. Its values are
    checked by :func:`check_data`. Errors name the argument but never echo its value (it may
    be sensitive)."""
    if isinstance(value, str):
        try:
            value = load_yaml(value, DEFAULT_LIMITS)
        except LimitError as exc:
            raise error(f"{name} is refused: {exc.desc}") from None
        except (yaml.YAMLError, RecursionError):
            raise error(f"{name} must be a hash; its text is not valid YAML") from None
    if not isinstance(value, dict):
        raise error(f"{name} must be a hash, got {_type(value)}")
    check_data(value, name, error, max_depth=max_depth)
    return value


def check_data(
    value: Any, name: str, error: ErrorFactory = ValidationError, *, max_depth: int = MAX_DEPTH
) -> None:
    """Data to store or answer (order data, options): nested at most ``max_depth`` deep and
    without NaN or Infinity, which JSON cannot carry. Walked without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise error(f"{name} holds a number that is not finite ({item})")
        if isinstance(item, Mapping | list | tuple):
            if depth > max_depth:
                raise error(f"{name} is nested deeper than {max_depth} levels")
            children = item.values() if isinstance(item, Mapping) else item
            stack.extend((child, depth + 1) for child in children)
