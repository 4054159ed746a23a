"""``etc/options.example`` generated from the table, so the example never drifts from it."""

from __future__ import annotations

import textwrap

from qorus_core.options.spec import DOMAINS, OPTIONS, OptionSpec
from qorus_core.options.values import format_value

_HEADER = """\
# $OMQ_DIR/etc/options: the Qorus options file (generated from qorus_core/options/spec.py)
#
# One option a line, "domain.NAME = value" or "domain.NAME: value"; "#" starts a comment.
# Domains: qorus (the server), qorus-client (the command-line clients), ldap.
# Values: bool true/false, int, string, list "a, b" or "[a, b]", hash "{k=v;k2=v2}" or
# "{k: v}". Command-line arguments NAME=value to qorus override this file.
# "startup only" options cannot be changed while the system runs.
# Every option below is commented out and shows its default; "qorus -l" prints the values
# in force.
"""


def default_text(spec: OptionSpec) -> str:
    """The default as shown to people: its text, or what an unset value resolves to."""
    if spec.default_text is not None:
        return spec.default_text
    shown = format_value(spec, spec.default)
    return shown if shown else "none"


def _entry(spec: OptionSpec) -> str:
    lines = [f"# {line}" for line in textwrap.wrap(spec.desc, 94)]
    facts = [spec.type]
    if spec.min is not None or spec.max is not None:
        low = "" if spec.min is None else str(spec.min)
        high = "" if spec.max is None else str(spec.max)
        facts.append(f"range {low}..{high}")
    if spec.choices:
        facts.append("one or more of: " + " ".join(spec.choices))
    if spec.aliases:
        facts.append("alias " + ", ".join(f"{spec.domain}.{a}" for a in spec.aliases))
    if spec.startup_only:
        facts.append("startup only")
    lines.append(f"# ({'; '.join(facts)}; default: {default_text(spec)})")
    value = format_value(spec, spec.default)
    lines.append(f"#{spec.full_name}: {value}".rstrip())
    return "\n".join(lines)


def render_options_example() -> str:
    """The text of ``etc/options.example``: every option, commented out, with its default."""
    parts = [_HEADER]
    for domain in DOMAINS:
        parts.append(f"\n# ==== {domain} " + "=" * (88 - len(domain)) + "\n")
        for spec in OPTIONS.values():
            if spec.domain == domain:
                parts.append("\n" + _entry(spec) + "\n")
    return "".join(parts)
