"""The options file: one table of every option, a parser, and the values in force.

Typical use: ``options = load_options(resolve_omq_dir(), overrides)`` then
``options.get("max-retries")``.
"""

from __future__ import annotations

from qorus_core.options.names import lookup
from qorus_core.options.parser import (
    COMMAND_LINE,
    load_options,
    parse_options_text,
    parse_overrides,
)
from qorus_core.options.render import default_text, render_options_example
from qorus_core.options.spec import ALIASES, AUDIT_CODES, DOMAINS, OPTIONS, OptionSpec
from qorus_core.options.store import Options, Source, expand_omq
from qorus_core.options.values import check_value, format_value, parse_value

__all__ = [
    "ALIASES",
    "AUDIT_CODES",
    "COMMAND_LINE",
    "DOMAINS",
    "OPTIONS",
    "OptionSpec",
    "Options",
    "Source",
    "check_value",
    "default_text",
    "expand_omq",
    "format_value",
    "load_options",
    "lookup",
    "parse_options_text",
    "parse_overrides",
    "parse_value",
    "render_options_example",
]
