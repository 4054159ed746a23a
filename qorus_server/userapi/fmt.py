"""Qore-style format strings for ``UserApi.log*``: ``%s %d %f %y %n %N %%`` with widths.

``%y`` renders any value as one-line YAML-ish text (strings quoted), ``%n`` as a one-line
readable dump, ``%N`` as a multi-line dump, so log lines read as they do in Qorus.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

_SPEC = re.compile(r"%(-?)(\d*)(?:\.(\d+))?([sdifxXeyYnN%])")


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<binary: {len(value)} bytes>"
    return str(value)


def yaml_text(value: Any) -> str:
    """``%y``: one-line YAML flow style."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {yaml_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return "[" + ", ".join(yaml_text(v) for v in value) + "]"
    return _scalar(value)


def dump(value: Any, multiline: bool = False, indent: int = 0) -> str:
    """``%n`` / ``%N``: a readable dump with the type named, as Qore prints it."""
    pad = "  " * (indent + 1)
    sep = ",\n" if multiline else ", "
    if isinstance(value, Mapping):
        if not value:
            return "hash: (empty)"
        items = [f"{k}: {dump(v, multiline, indent + 1)}" for k, v in value.items()]
        if multiline:
            return "hash: (\n" + sep.join(pad + i for i in items) + "\n" + "  " * indent + ")"
        return "hash: (" + sep.join(items) + ")"
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        if not value:
            return "list: (empty)"
        items = [dump(v, multiline, indent + 1) for v in value]
        if multiline:
            return "list: (\n" + sep.join(pad + i for i in items) + "\n" + "  " * indent + ")"
        return "list: (" + sep.join(items) + ")"
    return _scalar(value)


def qore_sprintf(fmt: str, *args: Any) -> str:
    """Format like Qore's ``sprintf``; missing arguments render as empty text."""
    it = iter(args)

    def repl(m: re.Match[str]) -> str:
        left, width, prec, conv = m.groups()
        if conv == "%":
            return "%"
        try:
            value = next(it)
        except StopIteration:
            value = None
            if conv not in "yYnN":
                return ""
        if conv == "s":
            text = "" if value is None else str(value)
            if prec:
                text = text[: int(prec)]
        elif conv in "di":
            try:
                text = str(int(value))
            except (TypeError, ValueError):
                text = "0"
        elif conv in "fe":
            try:
                num = float(value)
            except (TypeError, ValueError):
                num = 0.0
            text = f"{num:.{int(prec) if prec else 6}{conv}}"
        elif conv in "xX":
            try:
                text = format(int(value), conv)
            except (TypeError, ValueError):
                text = "0"
        elif conv in "yY":
            text = yaml_text(value)
        else:
            text = dump(value, multiline=conv == "N")
        if width:
            text = text.ljust(int(width)) if left else text.rjust(int(width))
        return text

    return _SPEC.sub(repl, fmt)
