"""``QorusLdapAuth``: password logins checked against an LDAP directory (``rbac-external``).

An :class:`~qorus_server.security.Authenticator` like the users table's, plugged in by
:func:`qorus_server.security.build_authenticator`; nothing else in the server knows of LDAP.
It is asked only about names the users table does not hold (see
:class:`~qorus_server.security.ChainAuthenticator`).

How a user is bound (``ldap.*`` options, see docs/operator-guide.md, LDAP):

* ``bind-dn`` set: that account searches ``(uentry=NAME)`` below ``ubase,base``; exactly one
  entry must match, and the user is bound by its DN;
* ``directbindprefix`` or ``directusername``: the user is bound as ``PREFIX + NAME`` or as
  ``NAME`` itself (Active Directory's ``DOMAIN\\user`` or ``user@domain``), then reads its
  entry by ``(uentry=NAME)`` below ``ubase,base``;
* otherwise: the user is bound as ``uentry=NAME,ubase,base`` and reads its own entry.

The entry's ``uentry`` attribute must hold NAME exactly (so ``ANN`` is not ``ann``). Its roles
are the values of ``roleattr``, each taken through ``roleregex`` (its first group is the role
name); names that are no role of the system schema are ignored. The user's permissions and
groups are those roles' (umbrellas expanded), computed again on every use, so ``reloadRbac``
applies to them at once.

The user name goes into the DN escaped by RFC 4514 and into the filter escaped by RFC 4515;
an empty password is refused before any bind (an LDAP simple bind without one is anonymous);
referrals are not followed. A directory that cannot be reached answers 503 LOGIN-UNAVAILABLE
and, for ``ldap.timeout`` seconds after, so do the next directory logins without trying (the
login threads are not held up by a directory that does not answer).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import secrets
import ssl
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection as DbConnection

from qorus_core import rbac
from qorus_core.model.errors import OptionError, UnavailableError
from qorus_core.options import Options
from qorus_core.rbac import Principal
from qorus_server.security import LoginRefused, UnknownUser

# ldap3 2.9.1 imports names that pyasn1 0.6 has deprecated: a warning at import, nothing more
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from ldap3 import BASE, NONE, SIMPLE, SUBTREE, Connection, Server, Tls
    from ldap3.core.exceptions import LDAPException
from qorus_server.ldap_settings import (
    LdapSettings,
    escape_filter_value,
    role_names,
)

NAME = "QorusLdapAuth"
#: directory users remembered at a time (their tokens end when they are forgotten)
_REMEMBERED_MAX = 10000
#: LDAP result codes that mean the directory cannot answer now (RFC 4511): operationsError,
#: protocolError, timeLimitExceeded, adminLimitExceeded, busy, unavailable, other
_DOWN_RESULTS = frozenset({1, 2, 3, 11, 51, 52, 80})


class DirectoryUnavailableError(UnavailableError):
    """The directory that checks this login cannot be reached (HTTP 503, ``Retry-After``)."""

    code = "LOGIN-UNAVAILABLE"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "the directory server that checks this login cannot be reached; try again later"
        )
        self.retry_after = retry_after


# ---------------------------------------------------------------------------- the directory


@dataclass(frozen=True)
class _Entry:
    dn: str
    attributes: dict[str, list[str]]

    def values(self, name: str) -> list[str]:
        return self.attributes.get(name.lower(), [])


@dataclass(frozen=True)
class _Known:
    """A directory user as of its last verified login."""

    dn: str
    description: str
    roles: frozenset[str]
    fingerprint: str


class _Refused(Exception):
    """Internal: the directory refused (``unknown``: no such user at all)."""

    def __init__(self, detail: str, unknown: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.unknown = unknown


class _Down(Exception):
    """Internal: the directory cannot answer now."""


#: the options :class:`LdapSettings` is made of (read again when one of them changes)
_OPTION_NAMES = (
    "ldap.uri",
    "ldap.base",
    "ldap.bind-dn",
    "ldap.password",
    "ldap.directbindprefix",
    "ldap.directusername",
    "ldap.ubase",
    "ldap.uentry",
    "ldap.roleattr",
    "ldap.roleregex",
    "ldap.timeout",
    "ldap.starttls",
    "ldap.ca-file",
)


class LdapAuthenticator:
    """Logins of directory users (``rbac-external: QorusLdapAuth``).

    The ``ldap.*`` options are checked when the server starts (a mistake stops it) and read
    again when one is changed at run time (a mistake then answers directory logins 503 and is
    logged)."""

    def __init__(self, options: Options, log: logging.Logger) -> None:
        self.options = options
        self.log = log
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._known: OrderedDict[str, _Known] = OrderedDict()
        self._down_until = 0.0
        self._values = self._option_values()
        self._directory = _Directory(LdapSettings.from_options(options), log)
        self._directory.describe()

    # ------------------------------------------------------------------ Authenticator

    def verify(
        self, conn: DbConnection, username: str, password: str
    ) -> tuple[Principal, str | None]:
        if not password:
            # an LDAP simple bind with a name and no password is an anonymous one (RFC 4513)
            raise LoginRefused(username, "LDAP: empty password (not sent to the directory)")
        directory = self._current()
        self._check_up()
        try:
            entry = directory.authenticate(username, password)
        except _Refused as exc:
            cls = UnknownUser if exc.unknown else LoginRefused
            raise cls(username, f"LDAP: {exc.detail}") from None
        except (_Down, LDAPException, OSError) as exc:
            raise self._went_down(directory.settings, exc, password) from None
        s = directory.settings
        wanted = role_names(entry.values(s.roleattr), s.roleregex)
        description = next(iter(entry.values("displayName") + entry.values("cn")), "")
        principal, ignored = rbac.external_principal(conn, username, description, wanted)
        known = self._remember(username, entry.dn, description, frozenset(wanted), password)
        self.log.info(
            "LDAP login: user %r (%r): roles %s%s",
            username,
            entry.dn,
            ", ".join(sorted(principal.roles)) or "none",
            f"; ignored (no such role here): {', '.join(sorted(ignored))}" if ignored else "",
        )
        return principal, known.fingerprint

    def fingerprint(self, conn: DbConnection, username: str) -> str | None:
        with self._lock:
            known = self._known.get(username)
        return known.fingerprint if known else None

    def principal(self, conn: DbConnection, username: str, fingerprint: str) -> Principal | None:
        with self._lock:
            known = self._known.get(username)
        if known is None or not hmac.compare_digest(known.fingerprint, fingerprint):
            return None
        return rbac.external_principal(conn, username, known.description, known.roles)[0]

    def token_principal(
        self, conn: DbConnection, username: str, fingerprint: str
    ) -> Principal | None:
        """A token's user while remembered, with the roles of its latest login."""
        with self._lock:
            known = self._known.get(username)
        if known is None:
            return None
        return rbac.external_principal(conn, username, known.description, known.roles)[0]

    def reload(self) -> None:
        """Forget every directory user: their tokens end, their next login reads the
        directory again (a user removed there, or with other roles, is seen at once)."""
        with self._lock:
            count = len(self._known)
            self._known.clear()
        if count:
            self.log.info("reloadRbac: %d directory user(s) must log in again", count)

    # ------------------------------------------------------------------ state

    def _option_values(self) -> tuple[Any, ...]:
        return tuple(repr(self.options.get(n)) for n in _OPTION_NAMES)

    def _current(self) -> _Directory:
        """The directory as the options say now."""
        values = self._option_values()
        with self._lock:
            if values == self._values:
                return self._directory
        try:
            settings = LdapSettings.from_options(self.options)
        except OptionError as exc:
            self.log.error("LDAP options changed at run time and are wrong: %s", exc.desc)
            raise DirectoryUnavailableError(self.options.get("ldap.timeout") or 10) from None
        directory = _Directory(settings, self.log)
        with self._lock:
            self._values, self._directory = values, directory
            self._down_until = 0.0
        directory.describe("changed at run time: ")
        return directory

    def _check_up(self) -> None:
        left = self._down_until - time.monotonic()
        if left > 0:
            raise DirectoryUnavailableError(max(1, int(left + 0.999)))

    def _went_down(
        self, s: LdapSettings, exc: BaseException, password: str
    ) -> DirectoryUnavailableError:
        self._down_until = time.monotonic() + s.timeout
        reason = str(exc) or type(exc).__name__
        if password and password in reason:
            reason = reason.replace(password, "********")
        self.log.warning(
            "LDAP server %s cannot be reached: %s; directory logins are answered 503 for %d s",
            s.uri,
            reason,
            s.timeout,
        )
        return DirectoryUnavailableError(s.timeout)

    def _remember(
        self, username: str, dn: str, description: str, roles: frozenset[str], password: str
    ) -> _Known:
        pw = hmac.new(self._key, password.encode("utf-8", "surrogatepass"), hashlib.sha256)
        parts = [username, dn, description, *sorted(roles), pw.hexdigest()]
        mac = hmac.new(self._key, "\x00".join(parts).encode("utf-8", "surrogatepass"), "sha256")
        known = _Known(dn, description, roles, mac.hexdigest())
        with self._lock:
            self._known.pop(username, None)
            self._known[username] = known
            while len(self._known) > _REMEMBERED_MAX:
                self._known.popitem(last=False)
        return known


class _Directory:
    """The directory as one set of settings reaches it: a connection per login."""

    def __init__(self, settings: LdapSettings, log: logging.Logger) -> None:
        self.settings = settings
        self.log = log

    def describe(self, prefix: str = "") -> None:
        s = self.settings
        self.log.info(
            "RBAC external authenticator %s: %s%s%s, users below %s by %s (%s binds), roles "
            "from %s%s",
            NAME,
            prefix,
            s.uri,
            " with StartTLS" if s.starttls else "",
            s.users_base,
            s.uentry,
            s.mode,
            s.roleattr,
            f" through {s.roleregex.pattern!r}" if s.roleregex else "",
        )

    def _server(self) -> Server:
        s = self.settings
        tls = _Tls(s.host, s.ca_file) if s.use_ssl or s.starttls else None
        return Server(
            s.host,
            port=s.port,
            use_ssl=s.use_ssl,
            tls=tls,
            get_info=NONE,
            connect_timeout=s.timeout,
        )

    def _open(self, server: Server, user: str, password: str) -> Connection:
        """An open (TLS when asked) connection, not bound yet."""
        conn = Connection(
            server,
            user=user,
            password=password,
            authentication=SIMPLE,
            auto_bind=False,
            read_only=True,
            receive_timeout=self.settings.timeout,
            auto_referrals=False,
            check_names=False,
            auto_escape=False,
            raise_exceptions=False,
            return_empty_attributes=False,
        )
        try:
            conn.open(read_server_info=False)
            if self.settings.starttls and not conn.start_tls(read_server_info=False):
                raise _Down("StartTLS was refused")
        except BaseException:
            _close(conn)
            raise
        return conn

    def _bind(self, conn: Connection, what: str) -> None:
        """Bind; _Refused with the directory's reason, or _Down when it cannot answer."""
        if conn.bind(read_server_info=False):
            return
        code, desc = _result(conn)
        if code in _DOWN_RESULTS:
            raise _Down(f"bind as {what}: {desc} ({code})")
        raise _Refused(f"the directory refused the bind as {what}: {desc} ({code})")

    def _search(
        self, conn: Connection, base: str, flt: str, scope: str
    ) -> tuple[list[_Entry], bool]:
        """The entries found (two at most) and whether there were more."""
        s = self.settings
        attrs = [s.uentry, s.roleattr, "cn", "displayName"]
        ok = conn.search(
            base,
            flt,
            search_scope=scope,
            attributes=attrs,
            size_limit=2,
            time_limit=s.timeout,
        )
        code, desc = _result(conn)
        if not ok and code not in (0, 4, 32):  # success, sizeLimitExceeded, noSuchObject
            # the directory (or its access rules for this account) cannot answer: not the
            # user's fault
            raise _Down(f"search below {base!r}: {desc} ({code})")
        entries = [_entry(r) for r in conn.response or () if r.get("type") == "searchResEntry"]
        return entries, code == 4

    def _find(self, conn: Connection, username: str) -> _Entry:
        """The one entry with ``uentry=username`` below the users' base."""
        s = self.settings
        flt = f"({s.uentry}={escape_filter_value(username)})"
        found, more = self._search(conn, s.users_base, flt, SUBTREE)
        if not found and not more:
            raise _Refused(f"no entry {flt!r} below {s.users_base!r}", unknown=True)
        if len(found) != 1 or more:
            raise _Refused(f"more than one entry {flt!r} below {s.users_base!r}")
        return found[0]

    def authenticate(self, username: str, password: str) -> _Entry:
        """Bind as the user and read its entry (see the module's docstring)."""
        s = self.settings
        server = self._server()
        mode = s.mode
        if mode == "search":
            service = self._open(server, s.bind_dn or "", s.bind_password or "")
            try:
                try:
                    self._bind(service, f"ldap.bind-dn {s.bind_dn!r}")
                except _Refused as exc:  # the configuration's fault, not the user's
                    self.log.error("LDAP: %s; check ldap.bind-dn and ldap.password", exc.detail)
                    raise _Down(exc.detail) from None
                entry = self._find(service, username)
            finally:
                _close(service)
            user = self._open(server, entry.dn, password)
            try:
                self._bind(user, repr(entry.dn))
            finally:
                _close(user)
        else:
            name = s.user_dn(username) if mode == "dn" else s.direct_name(username)
            user = self._open(server, name, password)
            try:
                self._bind(user, repr(name))
                if mode == "dn":
                    found, _more = self._search(user, name, "(objectClass=*)", BASE)
                    entry = found[0] if found else _Entry(name, {})
                else:
                    entry = self._find(user, username)
            finally:
                _close(user)
        names = entry.values(s.uentry)
        if username not in names:
            if not names:
                raise _Refused(f"the entry {entry.dn!r} cannot be read or has no {s.uentry}")
            raise _Refused(f"the entry {entry.dn!r} has {s.uentry} {names[0]!r}, not this name")
        return entry


class _Tls(Tls):  # type: ignore[misc]  # ldap3 has no type hints
    """TLS as Python's default client context does it: the certificate must be signed by a
    trusted CA (``ldap.ca-file``, else the system's) and name the host of ``ldap.uri``.

    (ldap3's own wrapping checks the name with the deprecated ``ssl.match_hostname``.)"""

    def __init__(self, host: str, ca_file: str | None) -> None:
        super().__init__(validate=ssl.CERT_REQUIRED, ca_certs_file=ca_file)
        self.context = ssl.create_default_context(cafile=ca_file)
        self.host = host

    def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
        connection.socket = self.context.wrap_socket(
            connection.socket,
            server_side=False,
            do_handshake_on_connect=do_handshake,
            server_hostname=self.host,
        )


def _close(conn: Connection) -> None:
    """Unbind and close, whatever state the connection is in (ldap3 leaves the socket of a
    connection that failed to open, or to start TLS, open)."""
    with contextlib.suppress(LDAPException, OSError):
        conn.unbind()
    sock = getattr(conn, "socket", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.close()


def _result(conn: Connection) -> tuple[int, str]:
    result: Any = conn.result or {}
    return int(result.get("result", 80)), str(result.get("description", "other"))


def _entry(response: dict[str, Any]) -> _Entry:
    raw: dict[str, Sequence[bytes]] = response.get("raw_attributes") or {}
    attrs: dict[str, list[str]] = {}
    for name, values in raw.items():
        # "name;binary" and other options: the plain attribute name
        key = str(name).split(";", 1)[0].lower()
        attrs.setdefault(key, []).extend(
            v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in values
        )
    return _Entry(str(response.get("dn", "")), attrs)
