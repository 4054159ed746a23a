"""Typed option values: text from a file or a command line to Python values, and back.

Errors are :class:`OptionError` without a place; the caller adds the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from qorus_core.bounded import DEFAULT_LIMITS, LimitError, load_yaml
from qorus_core.model.args import bool_word
from qorus_core.model.errors import OptionError
from qorus_core.options.spec import OptionSpec

_INT = re.compile(r"[+-]?[0-9]{1,19}")
_INT64 = (-(2**63), 2**63 - 1)
_OPEN = "[{("
_CLOSE = "]})"


def unquote(text: str) -> str:
    """Drop one pair of matching surrounding quotes, so values may keep spaces or ``#``."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def split_top(text: str, seps: str) -> list[str]:
    """Split on any of ``seps`` outside brackets and quotes (``8011{cert=a;key=b}`` stays whole)."""
    parts: list[str] = []
    depth = 0
    quote = ""
    cur: list[str] = []
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif ch in seps and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return parts


def _bool(spec: OptionSpec, raw: str) -> bool:
    found = bool_word(raw)
    if found is not None:
        return found
    raise OptionError(f"{spec.full_name}: {raw!r} is not a boolean (use true or false)")


def _check_range(spec: OptionSpec, value: int) -> int:
    if not _INT64[0] <= value <= _INT64[1]:
        raise OptionError(f"{spec.full_name}: the value is out of range (64 bits)")
    if spec.min is not None and value < spec.min:
        raise OptionError(f"{spec.full_name}: {value} is out of range (at least {spec.min})")
    if spec.max is not None and value > spec.max:
        raise OptionError(f"{spec.full_name}: {value} is out of range (at most {spec.max})")
    return value


def _int(spec: OptionSpec, raw: str) -> int:
    if not _INT.fullmatch(raw):
        raise OptionError(f"{spec.full_name}: {raw!r} is not an integer")
    return _check_range(spec, int(raw))


def _check_choice(spec: OptionSpec, item: str) -> str:
    if spec.choices is not None and item not in spec.choices:
        allowed = ", ".join(spec.choices)
        raise OptionError(f"{spec.full_name}: {item!r} is not one of {allowed}")
    return item


def _flow(spec: OptionSpec, raw: str, kind: str) -> Any:
    try:
        return load_yaml(raw, DEFAULT_LIMITS)
    except LimitError as exc:
        raise OptionError(f"{spec.full_name}: the value is refused: {exc.desc}") from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise OptionError(f"{spec.full_name}: {raw!r} is not a valid {kind} ({first})") from None


def _list(spec: OptionSpec, raw: str) -> list[str]:
    if raw.startswith("["):
        loaded = _flow(spec, raw, "list")
        if not isinstance(loaded, list):
            raise OptionError(f"{spec.full_name}: {raw!r} is not a valid list")
        items = [_scalar_text(spec, x) for x in loaded]
    else:
        items = [unquote(p.strip()) for p in split_top(raw, ",")]
    return [_check_choice(spec, x) for x in items if x != ""]


def _scalar_text(spec: OptionSpec, item: Any) -> str:
    if isinstance(item, (dict, list)):
        raise OptionError(f"{spec.full_name}: list items must be plain values, not {item!r}")
    if isinstance(item, bool):
        return "true" if item else "false"
    return "" if item is None else str(item)


def _qore_hash(spec: OptionSpec, body: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in split_top(body, ";,"):
        part = part.strip()
        if not part:
            continue
        key, sep, val = part.partition("=")
        if not sep or not key.strip():
            raise OptionError(f"{spec.full_name}: {part!r} is not key=value")
        out[key.strip()] = unquote(val.strip())
    return out


def _hash(spec: OptionSpec, raw: str) -> dict[str, Any]:
    body = raw[1:-1] if raw.startswith("{") and raw.endswith("}") else None
    if body is None:
        if raw.startswith("{"):
            raise OptionError(f"{spec.full_name}: {raw!r} is not a valid hash (missing '}}')")
        return _qore_hash(spec, raw)
    eq, colon = body.find("="), body.find(":")
    if eq >= 0 and (colon < 0 or eq < colon):
        return _qore_hash(spec, body)
    loaded = _flow(spec, raw, "hash")
    if not isinstance(loaded, dict):
        raise OptionError(f"{spec.full_name}: {raw!r} is not a valid hash")
    return {str(k): v for k, v in loaded.items()}


def parse_value(spec: OptionSpec, raw: str) -> Any:
    """Turn option text into its typed value; an empty text means unset (None, [] or {})."""
    raw = raw.strip()
    if spec.type == "list":
        return _list(spec, raw) if raw else []
    if spec.type == "hash":
        return _hash(spec, raw) if raw else {}
    if spec.type == "string":
        text = unquote(raw)
        return _check_choice(spec, text) if text else None
    if not raw:
        raise OptionError(f"{spec.full_name}: a value is required")
    return _bool(spec, raw) if spec.type == "bool" else _int(spec, raw)


def check_value(spec: OptionSpec, value: Any) -> Any:
    """Validate a value given at run time: text is parsed, anything else must fit the type."""
    if isinstance(value, str) and spec.type != "string":
        return parse_value(spec, value)
    if spec.type == "string":
        if value is None:
            return None
        if not isinstance(value, str):
            raise OptionError(f"{spec.full_name}: {value!r} is not a string")
        return _check_choice(spec, value) if value else None
    if spec.type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise OptionError(f"{spec.full_name}: {value!r} is not a boolean")
    if spec.type == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise OptionError(f"{spec.full_name}: {value!r} is not an integer")
        return _check_range(spec, value)
    if spec.type == "list":
        if value is None:
            return []
        if not isinstance(value, Sequence):
            raise OptionError(f"{spec.full_name}: {value!r} is not a list")
        return [_check_choice(spec, _scalar_text(spec, x)) for x in value]
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise OptionError(f"{spec.full_name}: {value!r} is not a hash")
    return {str(k): v for k, v in value.items()}


def format_value(spec: OptionSpec, value: Any) -> str:
    """Option text for a value; :func:`parse_value` reads it back to the same value."""
    if value is None:
        return ""
    if spec.type == "bool":
        return "true" if value else "false"
    if spec.type == "list":
        return ", ".join(str(x) for x in value)
    if spec.type == "hash":
        if not value:
            return ""
        return "{" + ";".join(f"{k}={v}" for k, v in value.items()) + "}"
    return str(value)
