"""Reading ``$OMQ_DIR/etc/options`` and ``NAME=value`` command-line overrides.

Every error names its place (``/path/etc/options:12:`` or ``command line:``) so the user can
go straight to the bad line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from qorus_core.model.errors import OptionError
from qorus_core.omqdir import OmqDir
from qorus_core.options.names import lookup
from qorus_core.options.store import Options, Source
from qorus_core.options.values import parse_value
from qorus_core.secrets import is_secret_key, mask_text

COMMAND_LINE: Final = "command line"

_LINE = re.compile(r"([A-Za-z0-9_.\-]+)\s*[=:]\s*(.*)")


def strip_comment(text: str) -> str:
    """Cut a ``#`` comment that starts the text or follows whitespace, outside quotes."""
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip()
    return text.rstrip()


def _fail(place: str, exc_or_msg: OptionError | str) -> OptionError:
    msg = exc_or_msg.desc if isinstance(exc_or_msg, OptionError) else exc_or_msg
    return OptionError(mask_text(f"{place}: {msg}"), info={"place": place})


def _shown(text: str) -> str:
    """A bad line or argument as quoted in an error: after a secret name nothing is shown."""
    name = re.split(r"[\s=:]", text.strip(), maxsplit=1)[0]
    try:
        secret = lookup(name).secret
    except OptionError:
        secret = is_secret_key(name)
    return f"{name} ..." if secret else text


def _secret_safe(name: str, exc: OptionError) -> OptionError | str:
    """The error of a secret option's value names the option, never the value."""
    try:
        spec = lookup(name)
    except OptionError:
        return exc
    return f"{spec.full_name}: not a valid {spec.type}" if spec.secret else exc


def parse_options_text(text: str, origin: str) -> dict[str, tuple[Any, int]]:
    """Parse options file text into {full name: (value, line number)}.

    ``origin`` (the file name) prefixes every error message.
    """
    found: dict[str, tuple[Any, int]] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        body = strip_comment(line.strip())
        if not body:
            continue
        place = f"{origin}:{lineno}"
        match = _LINE.fullmatch(body)
        if match is None:
            raise _fail(
                place,
                f"expected 'domain.NAME = value' or 'domain.NAME: value', got {_shown(body)!r}",
            )
        name, raw = match.groups()
        try:
            spec = lookup(name, short_ok=False)
            value = parse_value(spec, raw)
        except OptionError as exc:
            raise _fail(place, _secret_safe(name, exc)) from None
        if spec.full_name in found:
            first = found[spec.full_name][1]
            raise _fail(place, f"option {spec.full_name!r} is set twice (first on line {first})")
        found[spec.full_name] = (value, lineno)
    return found


def parse_overrides(overrides: Sequence[str]) -> dict[str, Any]:
    """Parse ``NAME=value`` arguments; NAME may leave out ``qorus.``."""
    found: dict[str, Any] = {}
    for arg in overrides:
        name, sep, raw = arg.partition("=")
        if not sep or not name.strip():
            raise _fail(COMMAND_LINE, f"expected NAME=value, got {_shown(arg)!r}")
        try:
            spec = lookup(name)
            value = parse_value(spec, raw)
        except OptionError as exc:
            raise _fail(COMMAND_LINE, _secret_safe(name, exc)) from None
        if spec.full_name in found:
            raise _fail(COMMAND_LINE, f"option {spec.full_name!r} is given twice")
        found[spec.full_name] = value
    return found


def load_options(omq: OmqDir, overrides: Sequence[str] = (), path: Path | None = None) -> Options:
    """The options in force: defaults, then the options file, then the overrides.

    ``path`` defaults to ``$OMQ_DIR/etc/options``; a missing file means all defaults.
    """
    path = path if path is not None else omq.options_file
    try:
        text: str | None = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        text = None
    except (OSError, UnicodeDecodeError) as exc:
        raise OptionError(f"{path}: cannot read the options file: {exc}") from None
    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    if text is not None:
        for full, (value, _line) in parse_options_text(text, str(path)).items():
            values[full] = value
            sources[full] = "file"
    for full, value in parse_overrides(overrides).items():
        values[full] = value
        sources[full] = COMMAND_LINE
    return Options(values, sources, path if text is not None else None)
