"""The ``ldap.*`` options of ``rbac-external: QorusLdapAuth`` read and checked once
(:class:`LdapSettings`), and the escaping of a login name into a DN (RFC 4514) and a search
filter (RFC 4515), and the role names taken from the role attribute by ``ldap.roleregex``:
the parts of the LDAP login that need no directory (unit-tested on their own).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from qorus_core.model.errors import OptionError
from qorus_core.options import Options

#: values of the role attribute looked at, and the longest one
_ROLE_VALUES_MAX = 1000
_ROLE_VALUE_LEN_MAX = 4096


# ---------------------------------------------------------------------------- escaping

_DN_SPECIAL = frozenset(',+"\\<>;=')


def escape_dn_value(value: str) -> str:
    """``value`` as an attribute value in a DN (RFC 4514 section 2.4): ``, + " \\ < > ; =``
    after a backslash, NUL as ``\\00``, a leading ``#`` or space and a trailing space
    escaped."""
    out: list[str] = []
    last = len(value) - 1
    for i, ch in enumerate(value):
        if ch in _DN_SPECIAL or (ch == "#" and i == 0) or (ch == " " and i in (0, last)):
            out.append("\\" + ch)
        elif ch == "\x00":
            out.append("\\00")
        else:
            out.append(ch)
    return "".join(out)


_FILTER_SPECIAL = {"\\": "\\5c", "*": "\\2a", "(": "\\28", ")": "\\29", "\x00": "\\00"}


def escape_filter_value(value: str) -> str:
    """``value`` as an assertion value in a search filter (RFC 4515 section 3): ``\\ * ( )``
    and NUL as ``\\XX``, so that it matches itself and nothing else."""
    return "".join(_FILTER_SPECIAL.get(ch, ch) for ch in value)


def role_names(values: Iterable[str], regex: re.Pattern[str] | None) -> list[str]:
    """The role names in the values of the role attribute: the first group of ``regex`` where
    it matches (anywhere in the value; values where it does not are skipped), or the whole
    value without a regex. In order, without repeats or empty names."""
    out: dict[str, None] = {}
    for i, value in enumerate(values):
        if i >= _ROLE_VALUES_MAX:
            break
        if len(value) > _ROLE_VALUE_LEN_MAX:
            continue
        if regex is None:
            name: str | None = value.strip()
        else:
            m = regex.search(value)
            name = m.group(1) if m else None
        if name:
            out[name] = None
    return list(out)


# ---------------------------------------------------------------------------- settings


def _text(options: Options, name: str) -> str:
    value = options.get(name)
    return "" if value is None else str(value).strip()


@dataclass(frozen=True)
class LdapSettings:
    """The ``ldap.*`` options, checked once at start-up."""

    uri: str
    host: str
    port: int
    use_ssl: bool
    starttls: bool
    ca_file: str | None
    base: str
    users_base: str
    uentry: str
    bind_dn: str | None
    bind_password: str | None
    direct_prefix: str | None
    direct_username: bool
    roleattr: str
    roleregex: re.Pattern[str] | None
    timeout: int

    @property
    def mode(self) -> str:
        """``search`` (bind-dn), ``direct`` (directbindprefix / directusername) or ``dn``."""
        if self.bind_dn:
            return "search"
        if self.direct_prefix is not None or self.direct_username:
            return "direct"
        return "dn"

    def user_dn(self, username: str) -> str:
        """The DN a user is bound as in ``dn`` mode: ``uentry=NAME,ubase,base``."""
        return f"{self.uentry}={escape_dn_value(username)},{self.users_base}"

    def direct_name(self, username: str) -> str:
        """The name a user is bound as in ``direct`` mode: ``PREFIX + NAME`` or ``NAME``."""
        return (self.direct_prefix or "") + username

    @classmethod
    def from_options(cls, options: Options) -> LdapSettings:
        """The settings, or OptionError naming the option that is missing or wrong."""
        uri = _text(options, "ldap.uri")
        if not uri:
            raise OptionError("rbac-external names QorusLdapAuth but ldap.uri is not set")
        parts = urlsplit(uri)
        scheme = parts.scheme.lower()
        try:
            port = parts.port
        except ValueError:
            raise OptionError(f"ldap.uri {uri!r}: bad port") from None
        if scheme not in ("ldap", "ldaps") or not parts.hostname:
            raise OptionError(f"ldap.uri {uri!r} must be ldap://HOST[:PORT] or ldaps://HOST[:PORT]")
        if parts.username or parts.password or parts.path.strip("/") or parts.query:
            raise OptionError(
                "ldap.uri takes only a scheme, host and port (the bind account is ldap.bind-dn)"
            )
        base = _text(options, "ldap.base")
        if not base:
            raise OptionError("rbac-external names QorusLdapAuth but ldap.base is not set")
        ubase = _text(options, "ldap.ubase")
        if not ubase:
            users_base = base
        elif ubase.lower().endswith(base.lower()):
            users_base = ubase
        else:
            users_base = f"{ubase},{base}"
        uentry = _text(options, "ldap.uentry")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", uentry):
            raise OptionError(f"ldap.uentry {uentry!r} must be an attribute name such as uid")
        roleattr = _text(options, "ldap.roleattr")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", roleattr):
            raise OptionError(
                "ldap.roleattr must name the attribute of a user's entry that holds its roles "
                f"(got {roleattr!r}); without roles no directory user could log in"
            )
        regex_text = options.get("ldap.roleregex")
        roleregex = None
        if regex_text:
            try:
                roleregex = re.compile(str(regex_text))
            except re.error as exc:
                raise OptionError(f"ldap.roleregex is not a regular expression: {exc}") from None
            if roleregex.groups < 1:
                raise OptionError(
                    "ldap.roleregex needs a group (in parentheses): its first group is the role"
                )
        bind_dn = _text(options, "ldap.bind-dn") or None
        bind_password = options.get("ldap.password")
        if bind_password and not bind_dn:
            raise OptionError("ldap.password is set but ldap.bind-dn is not")
        if bind_dn and not bind_password:
            raise OptionError("ldap.bind-dn is set but ldap.password is not")
        prefix = options.get("ldap.directbindprefix")
        direct_prefix = None if prefix is None or str(prefix) == "" else str(prefix)
        direct_username = bool(options.get("ldap.directusername"))
        if direct_prefix is not None and direct_username:
            raise OptionError("set ldap.directbindprefix or ldap.directusername, not both")
        if bind_dn and (direct_prefix is not None or direct_username):
            raise OptionError(
                "ldap.bind-dn (search, then bind as the entry found) and a direct bind "
                "(ldap.directbindprefix, ldap.directusername) exclude each other"
            )
        starttls = bool(options.get("ldap.starttls"))
        if starttls and scheme == "ldaps":
            raise OptionError("ldap.starttls is for ldap:// URIs; ldaps:// is TLS already")
        ca_file = _text(options, "ldap.ca-file") or None
        if ca_file and not Path(ca_file).is_file():
            raise OptionError(f"ldap.ca-file {ca_file!r} is not a readable file")
        use_ssl = scheme == "ldaps"
        return cls(
            uri=f"{scheme}://{parts.netloc}",
            host=parts.hostname,
            port=port or (636 if use_ssl else 389),
            use_ssl=use_ssl,
            starttls=starttls,
            ca_file=ca_file,
            base=base,
            users_base=users_base,
            uentry=uentry,
            bind_dn=bind_dn,
            bind_password=str(bind_password) if bind_password else None,
            direct_prefix=direct_prefix,
            direct_username=direct_username,
            roleattr=roleattr,
            roleregex=roleregex,
            timeout=int(options.get("ldap.timeout")),
        )
