"""The one table of every option: name, type, default, limits and a line of help.

Everything else (the parser, ``qorus -l``, ``etc/options.example``, the REST option calls)
reads this table, so an option is declared exactly once: in ``table_system`` or
``table_access``, with the helpers of ``declare``.
"""

from __future__ import annotations

from qorus_core.options import table_system  # isort: split

from qorus_core.options import table_access  # declared after table_system: display order
from qorus_core.options.declare import AUDIT_CODES, DOMAINS, TABLE, TYPES, OptionSpec
from qorus_core.secrets import register_secret_names

__all__ = ["ALIASES", "AUDIT_CODES", "DOMAINS", "OPTIONS", "TYPES", "OptionSpec"]
_TABLES = (table_system, table_access)  # imported for their declarations, in display order

OPTIONS: dict[str, OptionSpec] = {s.full_name: s for s in TABLE}
"""Every option keyed by full name (``qorus.max-retries``), in display order."""

ALIASES: dict[str, str] = {f"{s.domain}.{alias}": s.full_name for s in TABLE for alias in s.aliases}
"""Old or alternative full names mapped to the full name they stand for."""

register_secret_names(
    name
    for s in TABLE
    if s.secret
    for name in (s.full_name, s.name, *s.aliases, *(f"{s.domain}.{a}" for a in s.aliases))
)
