"""QorusLdapAuth without a directory: a user name escaped into a DN (RFC 4514) and a search
filter (RFC 4515), roles taken from the role attribute by the regex, and how the options
choose the way a user is bound."""

from __future__ import annotations

import re
import warnings
from typing import Any

import pytest

from qorus_core.options import Options
from qorus_server.ldap_settings import (
    LdapSettings,
    escape_dn_value,
    escape_filter_value,
    role_names,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from ldap3.utils.dn import parse_dn

BASE = "dc=example,dc=com"


@pytest.mark.parametrize(
    ("name", "escaped"),
    [
        ("ann", "ann"),
        ("lee, jr+x", "lee\\, jr\\+x"),
        ('a"b\\c<d>e;f=g', 'a\\"b\\\\c\\<d\\>e\\;f\\=g'),
        ("#ann", "\\#ann"),
        ("a#b", "a#b"),
        (" ann ", "\\ ann\\ "),
        ("a b", "a b"),
        ("a\x00b", "a\\00b"),
        ("ann,ou=admins,dc=example,dc=com", "ann\\,ou\\=admins\\,dc\\=example\\,dc\\=com"),
        ("*)(uid=*", "*)(uid\\=*"),
        ("Zoë 名前", "Zoë 名前"),
        ("", ""),
    ],
)
def test_dn_escaping(name: str, escaped: str) -> None:
    assert escape_dn_value(name) == escaped


@pytest.mark.parametrize(
    "name",
    ["ann", "lee, jr+x", "ann,ou=admins,dc=example,dc=com", "a+uid=root", "#x", " x ", 'q"\\'],
)
def test_an_escaped_name_is_one_rdn_value(name: str) -> None:
    """Whatever the name, the DN has exactly the user's RDN under the users' base: no name can
    add a component, an attribute (``+``) or move the entry elsewhere."""
    dn = f"uid={escape_dn_value(name)},ou=people,{BASE}"
    parts = parse_dn(dn, escape=False)
    assert len(parts) == 4
    attr, _value, sep = parts[0]
    assert attr == "uid" and sep == ","
    assert [p[0] for p in parts[1:]] == ["ou", "dc", "dc"]


@pytest.mark.parametrize(
    ("name", "escaped"),
    [
        ("ann", "ann"),
        ("*", "\\2a"),
        ("*)(uid=*", "\\2a\\29\\28uid=\\2a"),
        ("ann)(|(uid=*", "ann\\29\\28|\\28uid=\\2a"),
        ("a\\b", "a\\5cb"),
        ("\\2a", "\\5c2a"),
        ("\\00", "\\5c00"),
        ("a\x00b", "a\\00b"),
        ("lee, jr+x", "lee, jr+x"),
        ("Zoë", "Zoë"),
    ],
)
def test_filter_escaping(name: str, escaped: str) -> None:
    out = escape_filter_value(name)
    assert out == escaped
    # nothing that could end the assertion, start another or act as a wildcard is left
    assert not set(out) & {"(", ")", "*", "\x00"}
    assert re.fullmatch(r"(?:[^\\]|\\[0-9a-f]{2})*", out)


ROLES = "ou=roles,dc=example,dc=com"
REGEX = re.compile(rf"^cn=qorus-([^,]+),{ROLES}$")


def test_roles_through_the_regex() -> None:
    values = [
        f"cn=qorus-operator,{ROLES}",
        f"cn=wiki-admin,{ROLES}",  # not matched: skipped
        f"cn=qorus-read-only,{ROLES}",
        f"cn=qorus-operator,{ROLES}",  # a repeat
        f"cn=qorus-operator,ou=elsewhere,{BASE}",  # anchored: elsewhere is not taken
        "garbage",
    ]
    assert role_names(values, REGEX) == ["operator", "read-only"]
    # the first group is the role; later groups do not matter; search, not fullmatch
    assert role_names(["x group:ops y"], re.compile(r"group:(\w+)( y)?")) == ["ops"]
    # an optional group that did not take part gives no (empty) role
    assert role_names(["cn=x"], re.compile(r"cn=(qorus-)?x")) == []
    # no regex: the value itself
    assert role_names(["operator", " read-only ", "", "operator"], None) == [
        "operator",
        "read-only",
    ]
    assert role_names([], REGEX) == []


def test_roles_are_bounded() -> None:
    many = [f"cn=qorus-r{i},{ROLES}" for i in range(5000)]
    assert len(role_names(many, REGEX)) == 1000
    huge = "cn=qorus-" + "a" * 10000 + f",{ROLES}"
    assert role_names([huge, f"cn=qorus-ok,{ROLES}"], REGEX) == ["ok"]


def _settings(**extra: Any) -> LdapSettings:
    values: dict[str, Any] = {
        "ldap.uri": "ldap://ldap.example.com",
        "ldap.base": BASE,
        "ldap.roleattr": "memberOf",
    }
    values.update(extra)
    return LdapSettings.from_options(Options(values))


def test_how_a_user_is_bound() -> None:
    s = _settings()
    assert (s.host, s.port, s.use_ssl, s.mode) == ("ldap.example.com", 389, False, "dn")
    assert s.users_base == f"ou=people,{BASE}"
    assert s.user_dn("lee, jr") == f"uid=lee\\, jr,ou=people,{BASE}"
    s = _settings(**{"ldap.uri": "ldaps://[::1]:1636/", "ldap.ubase": "", "ldap.uentry": "cn"})
    assert (s.host, s.port, s.use_ssl) == ("::1", 1636, True)
    assert s.user_dn("ann") == f"cn=ann,{BASE}"
    # a full DN as ubase is taken as it is
    s = _settings(**{"ldap.ubase": f"OU=Staff,{BASE.upper()}"})
    assert s.users_base == f"OU=Staff,{BASE.upper()}"
    s = _settings(**{"ldap.directbindprefix": "EXAMPLE\\"})
    assert s.mode == "direct" and s.direct_name("ann") == "EXAMPLE\\ann"
    s = _settings(**{"ldap.directusername": True, "ldap.uentry": "userPrincipalName"})
    assert s.mode == "direct" and s.direct_name("ann@example.com") == "ann@example.com"
    s = _settings(**{"ldap.bind-dn": f"cn=search,{BASE}", "ldap.password": "x"})
    assert s.mode == "search"
    assert s.roleregex is None and s.timeout == 10 and s.ca_file is None
