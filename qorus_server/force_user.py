"""``rbac-force-user``: requests without credentials from matching clients act as a user.

The option is a list of ``PATTERN=USER`` entries, tried in order; the first whose pattern
matches the client wins. A pattern of digits, dots, colons and the wildcards ``*`` and ``?``
(``192.168.*``, ``10.0.0.?``, ``::1``) is matched against the client's IP address; any other
pattern names hosts: without wildcards (``localhost``, ``build.example.com``) it matches the
addresses the name resolves to, with wildcards (``*.example.com``) the names the client's
address resolves back to. Name lookups are cached for :data:`DNS_TTL` seconds and run on a
worker thread, never on the event loop.

Only requests that present no credentials at all are mapped (a request with a wrong password
is refused as ever), and only to users of the users table, whose permissions and groups then
apply as if they had logged in; a user that does not exist or lacks LOGIN is refused.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from qorus_core.model.errors import OptionError

#: seconds a host name lookup is remembered
DNS_TTL = 60.0
#: the most lookups remembered
_DNS_MAX = 1000
_ADDRESS_PATTERN = re.compile(r"[0-9A-Fa-f.:*?\[\]]+")
_USER_MAX = 160


@dataclass(frozen=True)
class ForceRule:
    """One ``PATTERN=USER`` entry: ``by_host`` when the pattern names hosts."""

    pattern: str
    user: str
    by_host: bool

    def __str__(self) -> str:
        return f"{self.pattern}={self.user}"


def _is_address_pattern(pattern: str) -> bool:
    if not _ADDRESS_PATTERN.fullmatch(pattern):
        return False
    # hex digits alone spell host names too ("cafe", "add"): an address pattern has a dot, a
    # colon or a wildcard, or is a whole number (never a valid host label on its own)
    return any(c in pattern for c in ".:*?") or pattern.isdigit()


def parse_rules(values: Iterable[object]) -> tuple[ForceRule, ...]:
    """The rules of the option's entries; OptionError naming a malformed one."""
    out = []
    for raw in values:
        text = str(raw).strip()
        pattern, sep, user = text.rpartition("=")
        pattern, user = pattern.strip(), user.strip()
        if not sep or not pattern or not user:
            raise OptionError(
                f"rbac-force-user: {text!r} is not PATTERN=USER (a host or address pattern such "
                "as 192.168.* or localhost, '=', a user name)"
            )
        if len(user) > _USER_MAX or "\x00" in user or "\x00" in pattern:
            raise OptionError(f"rbac-force-user: {text[:80]!r} names no possible user")
        out.append(ForceRule(pattern.lower(), user, not _is_address_pattern(pattern)))
    return tuple(out)


def _addresses(address: str) -> list[str]:
    """The client's address as text, plus its IPv4 form when it is IPv4 mapped into IPv6."""
    text = address.strip().strip("[]").lower()
    out = [text]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return out
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        out.append(str(ip.ipv4_mapped))
    return out


class ForceUserMap:
    """Maps a client address to the user its requests act as (the rules of the option)."""

    def __init__(
        self,
        *,
        resolve: Callable[[str], set[str]] | None = None,
        reverse: Callable[[str], set[str]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._resolve = resolve or _resolve
        self._reverse = reverse or _reverse
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}
        self._parsed: tuple[tuple[str, ...], tuple[ForceRule, ...]] | None = None

    def rules(self, values: Iterable[object]) -> tuple[ForceRule, ...]:
        """The parsed rules of the option's value (parsed once per distinct value)."""
        key = tuple(str(v) for v in values)
        with self._lock:
            if self._parsed is not None and self._parsed[0] == key:
                return self._parsed[1]
        rules = parse_rules(key)
        with self._lock:
            self._parsed = (key, rules)
        return rules

    @staticmethod
    def needs_lookup(rules: Iterable[ForceRule]) -> bool:
        """Whether matching may look host names up (then run it on a worker thread)."""
        return any(r.by_host for r in rules)

    def user_for(self, rules: Iterable[ForceRule], address: str) -> str | None:
        """The user of the first rule matching ``address``, or None."""
        addrs = _addresses(address)
        for rule in rules:
            if self._matches(rule, addrs):
                return rule.user
        return None

    def _matches(self, rule: ForceRule, addrs: list[str]) -> bool:
        if not rule.by_host:
            return any(fnmatch.fnmatchcase(a, rule.pattern) for a in addrs)
        if any(c in rule.pattern for c in "*?["):
            names = self._lookup("reverse", addrs[0], self._reverse)
            return any(fnmatch.fnmatchcase(n, rule.pattern) for n in names)
        resolved = self._lookup("resolve", rule.pattern, self._resolve)
        return any(a in resolved for a in addrs)

    def _lookup(self, kind: str, key: str, fn: Callable[[str], set[str]]) -> frozenset[str]:
        now = self._clock()
        with self._lock:
            hit = self._cache.get((kind, key))
            if hit is not None and hit[0] > now:
                return hit[1]
        try:
            found = frozenset(x.lower() for x in fn(key))
        except (OSError, UnicodeError, ValueError):
            found = frozenset()
        with self._lock:
            if len(self._cache) >= _DNS_MAX:
                self._cache.clear()
            self._cache[(kind, key)] = (now + DNS_TTL, found)
        return found


def _resolve(name: str) -> set[str]:
    """The addresses a host name resolves to."""
    return {str(info[4][0]).split("%")[0] for info in socket.getaddrinfo(name, None)}


def _reverse(address: str) -> set[str]:
    """The names an address resolves back to."""
    host, aliases, _ = socket.gethostbyaddr(address)
    return {host, *aliases}
