"""Option names: short, full and alias forms to the one spec, with a did-you-mean on typos."""

from __future__ import annotations

import difflib

from qorus_core.model.errors import OptionError
from qorus_core.options.spec import ALIASES, DOMAINS, OPTIONS, OptionSpec

_ALL_NAMES: tuple[str, ...] = (*OPTIONS, *ALIASES)


def _suggest(full: str) -> str:
    close = difflib.get_close_matches(full, _ALL_NAMES, n=1, cutoff=0.75)
    if not close:
        return ""
    return f" (did you mean {ALIASES.get(close[0], close[0])!r}?)"


def lookup(name: str, *, short_ok: bool = True) -> OptionSpec:
    """The spec of ``name``: a full name, an alias, or (``short_ok``) a ``qorus`` short name.

    Raises :class:`OptionError` naming the unknown option or domain; a typo gets the nearest
    real name as a hint.
    """
    name = name.strip()
    domain, dot, _rest = name.partition(".")
    if dot and domain in DOMAINS:
        full = name
    elif dot:
        known = ", ".join(DOMAINS)
        raise OptionError(f"unknown option domain {domain!r} in {name!r} (known: {known})")
    elif short_ok:
        full = f"qorus.{name}"
    else:
        hint = _suggest(f"qorus.{name}")
        raise OptionError(f"option {name!r} lacks a domain such as 'qorus.'{hint}")
    full = ALIASES.get(full, full)
    spec = OPTIONS.get(full)
    if spec is None:
        raise OptionError(f"unknown option {full!r}{_suggest(full)}")
    return spec
