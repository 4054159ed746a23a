"""How an option is declared: :class:`OptionSpec` and the helpers the table modules call.

The declarations themselves are in ``table_system`` (identity, database, HTTP, the engine,
audit) and ``table_access`` (security, clients, LDAP); :mod:`qorus_core.options.spec`
assembles them into the one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DOMAINS: tuple[str, ...] = ("qorus", "qorus-client", "ldap")
"""Option domains, in the order they are listed; ``qorus`` is the default one."""

TYPES: tuple[str, ...] = ("bool", "int", "string", "list", "hash")

AUDIT_CODES: tuple[str, ...] = (
    "system",
    "workflows",
    "workflow-data",
    "jobs",
    "job-data",
    "services",
    "api",
    "api-read",
    "user-events",
    "oload",
    "alerts",
    "groups",
    "*",
)


@dataclass(frozen=True)
class OptionSpec:
    """One option. ``name`` is the short name; ``full_name`` adds the domain.

    ``default_text`` explains a ``None`` default that the system resolves at run time
    (for example the embedded database). ``secret`` values are masked when shown.
    """

    name: str
    domain: str
    type: str
    default: Any
    desc: str
    aliases: tuple[str, ...] = ()
    startup_only: bool = False
    min: int | None = None
    max: int | None = None
    choices: tuple[str, ...] | None = None
    default_text: str | None = None
    secret: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.domain}.{self.name}"

    def __post_init__(self) -> None:
        if self.domain not in DOMAINS:
            raise ValueError(f"bad domain {self.domain!r} for option {self.name!r}")
        if self.type not in TYPES:
            raise ValueError(f"bad type {self.type!r} for option {self.name!r}")


TABLE: list[OptionSpec] = []
"""Every option in declaration (display) order; filled by the table modules."""


def opt(name: str, type_: str, default: Any, desc: str, **kw: Any) -> None:
    domain = kw.pop("domain", "qorus")
    TABLE.append(OptionSpec(name=name, domain=domain, type=type_, default=default, desc=desc, **kw))


def client(name: str, type_: str, default: Any, desc: str, **kw: Any) -> None:
    opt(name, type_, default, desc, domain="qorus-client", **kw)


def ldap(name: str, type_: str, default: Any, desc: str, **kw: Any) -> None:
    opt(name, type_, default, desc, domain="ldap", **kw)


STARTUP_ONLY = {"startup_only": True}
