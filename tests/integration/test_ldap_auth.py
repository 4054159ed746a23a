"""QorusLdapAuth against a real OpenLDAP server (``tests/helpers/slapd.py``) and a real system
schema, in process: the three ways of binding, ldaps and StartTLS, roles through the regex,
the users table first, a directory that is down, and what is remembered."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from qorus_core import rbac
from qorus_core.db.engine import READONLY
from qorus_core.model.errors import AuthenticationError, OptionError
from qorus_core.options import Options
from qorus_server.ldap_auth import DirectoryUnavailableError, LdapAuthenticator
from qorus_server.security import (
    ChainAuthenticator,
    DatabaseAuthenticator,
    LoginRefused,
    UnknownUser,
    build_authenticator,
)
from tests.helpers.slapd import (
    BASE,
    ROLES,
    SEARCH_DN,
    SEARCH_PW,
    Slapd,
    free_port,
    require_slapd,
    running_slapd,
)

pytestmark = pytest.mark.integration

REGEX = rf"^cn=qorus-([^,]+),{ROLES}$"
ANN = ("ann", "Ann-Secret1")
VIC = ("vic", "V1c-Secret")
NORA = ("nora", "N0ra-Secret")
LEE = ("lee, jr+x", "L33-Secret")


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    yield from running_slapd(tmp_path_factory.mktemp("slapd"))


def options(server: Slapd, **extra: Any) -> Options:
    values: dict[str, Any] = {
        "rbac-external": ["QorusLdapAuth"],
        "ldap.uri": server.uri,
        "ldap.base": BASE,
        "ldap.roleattr": "employeeType",
        "ldap.roleregex": REGEX,
        "ldap.timeout": 2,
    }
    values.update(extra)
    return Options(values)


def verify(engine: Engine, auth: Any, user: str, password: str) -> tuple[rbac.Principal, Any]:
    with engine.connect().execution_options(**{READONLY: True}) as conn:
        return auth.verify(conn, user, password)  # type: ignore[no-any-return]


def test_dn_binds_roles_through_the_regex(
    engine: Engine, slapd: Slapd, caplog: pytest.LogCaptureFixture
) -> None:
    log = logging.getLogger("test.ldap")
    auth = LdapAuthenticator(options(slapd), log)
    with caplog.at_level(logging.INFO, "test.ldap"):
        p, fp = verify(engine, auth, *ANN)
    assert p.username == "ann" and p.description == "Ann Operator"
    assert p.roles == {"operator"}
    # umbrella expansion as for a database user: WORKFLOW-CONTROL -> RESET-WORKFLOW
    assert p.has("LOGIN") and p.has("WORKFLOW-CONTROL") and p.has("RESET-WORKFLOW")
    assert not p.has("SHUTDOWN") and p.all_interfaces
    assert fp and "Ann-Secret1" not in fp
    assert "LDAP login: user 'ann'" in caplog.text and "roles operator" in caplog.text

    # values the regex does not take, and roles not defined here, are ignored
    p, _ = verify(engine, auth, *VIC)
    assert p.roles == {"read-only"} and not p.has("ROTATE-LOG-FILES")
    p, _ = verify(engine, auth, *NORA)
    assert p.roles == set() and not p.has("LOGIN")

    # a name with DN metacharacters is bound through its escaped DN
    p, _ = verify(engine, auth, *LEE)
    assert p.username == "lee, jr+x" and p.roles == {"read-only"}

    # remembered: the fingerprint and the principal without a password
    with engine.connect() as conn:
        assert auth.fingerprint(conn, "ann") == fp
        again = auth.principal(conn, "ann", fp)
        assert again is not None and again.permissions == verify(engine, auth, *ANN)[0].permissions
        assert auth.principal(conn, "ann", "ldap:other") is None
        assert auth.principal(conn, "nobody", fp) is None
        # a token follows the user's latest login, whatever its fingerprint
        assert auth.token_principal(conn, "ann", "other") is not None
        assert auth.token_principal(conn, "nobody", fp) is None
    auth.reload()
    with engine.connect() as conn:
        assert auth.fingerprint(conn, "ann") is None and auth.principal(conn, "ann", fp) is None
        assert auth.token_principal(conn, "ann", fp) is None


def test_wrong_password_unknown_user_and_other_case_are_refused_alike(
    engine: Engine, slapd: Slapd
) -> None:
    auth = LdapAuthenticator(options(slapd), logging.getLogger("test.ldap"))
    answers = []
    for user, pw in (("ann", "wrong"), ("nobody", "Ann-Secret1"), ("ANN", "Ann-Secret1")):
        with pytest.raises(LoginRefused) as info:
            verify(engine, auth, user, pw)
        assert info.value.desc == rbac.refused_desc(user)
        assert pw not in info.value.detail
        answers.append(info.value.detail)
    assert "invalidCredentials" in answers[0] and "invalidCredentials" in answers[1]
    assert "not this name" in answers[2]  # uid matching is case-blind; names are not
    with pytest.raises(LoginRefused, match="wrong user name or password") as info:
        verify(engine, auth, "ann", "")
    assert "empty password" in info.value.detail


def test_search_mode_with_a_bind_account(engine: Engine, slapd: Slapd) -> None:
    opts = options(slapd, **{"ldap.bind-dn": SEARCH_DN, "ldap.password": SEARCH_PW})
    auth = LdapAuthenticator(opts, logging.getLogger("test.ldap"))
    p, _ = verify(engine, auth, *ANN)
    assert p.roles == {"operator"}
    p, _ = verify(engine, auth, *LEE)
    assert p.roles == {"read-only"}
    with pytest.raises(UnknownUser) as info:
        verify(engine, auth, "nobody", "x")
    assert "no entry '(uid=nobody)'" in info.value.detail
    with pytest.raises(LoginRefused) as refused:
        verify(engine, auth, "ann", "wrong")
    assert not isinstance(refused.value, UnknownUser)
    # filter metacharacters match themselves only: no wildcard, no injected clause
    for hostile in ("*", "a*", "*)(uid=*", "ann)(|(uid=*", "\\2a", "ann\x00"):
        with pytest.raises(UnknownUser):
            verify(engine, auth, hostile, "Ann-Secret1")

    # a wrong bind account is the configuration's fault: 503, not 401
    bad = options(slapd, **{"ldap.bind-dn": SEARCH_DN, "ldap.password": "nope"})
    with pytest.raises(DirectoryUnavailableError):
        verify(engine, LdapAuthenticator(bad, logging.getLogger("test.ldap")), *ANN)


@pytest.mark.parametrize("how", ["ldaps", "starttls"])
def test_tls(engine: Engine, slapd: Slapd, how: str) -> None:
    assert slapd.ca_file is not None
    if how == "ldaps":
        opts = options(slapd, **{"ldap.uri": slapd.ldaps_uri, "ldap.ca-file": str(slapd.ca_file)})
    else:
        opts = options(slapd, **{"ldap.starttls": True, "ldap.ca-file": str(slapd.ca_file)})
    p, _ = verify(engine, LdapAuthenticator(opts, logging.getLogger("test.ldap")), *ANN)
    assert p.roles == {"operator"}
    # a certificate not signed by a trusted CA is refused: 503, never a login
    untrusted = Path(slapd.folder, "cert.pem")  # the server's own certificate is no CA
    opts = options(
        slapd,
        **(
            {"ldap.uri": slapd.ldaps_uri, "ldap.ca-file": str(untrusted)}
            if how == "ldaps"
            else {"ldap.starttls": True, "ldap.ca-file": str(untrusted)}
        ),
    )
    with pytest.raises(DirectoryUnavailableError):
        verify(engine, LdapAuthenticator(opts, logging.getLogger("test.ldap")), *ANN)


def test_down_answers_503_at_once_then_recovers(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    own = Slapd(tmp_path / "slapd", require_slapd())
    own.setup()
    opts = options(own, **{"ldap.timeout": 1})
    auth = LdapAuthenticator(opts, logging.getLogger("test.ldap"))
    with (
        caplog.at_level(logging.WARNING, "test.ldap"),
        pytest.raises(DirectoryUnavailableError) as info,
    ):
        verify(engine, auth, *ANN)
    assert info.value.http_status == 503 and info.value.code == "LOGIN-UNAVAILABLE"
    assert info.value.retry_after == 1
    assert "cannot be reached" in caplog.text and "Ann-Secret1" not in caplog.text
    own.start()
    try:
        with pytest.raises(DirectoryUnavailableError):  # within ldap.timeout: not tried again
            verify(engine, auth, *ANN)
        time.sleep(1.1)
        assert verify(engine, auth, *ANN)[0].roles == {"operator"}
    finally:
        own.stop()


def test_the_users_table_comes_first(engine: Engine, slapd: Slapd) -> None:
    with engine.begin() as conn:
        rbac.add_user(conn, "ann", "Local-Secret1", ["read-only"], policy=rbac.PasswordPolicy())
    auth = build_authenticator(options(slapd), logging.getLogger("test.ldap"))
    assert isinstance(auth, ChainAuthenticator)
    # a local name is checked locally only: the directory's password for it is wrong here
    with pytest.raises(AuthenticationError):
        verify(engine, auth, *ANN)
    p, fp = verify(engine, auth, "ann", "Local-Secret1")
    assert p.roles == {"read-only"}
    # other names go to the directory
    p, vfp = verify(engine, auth, *VIC)
    assert p.roles == {"read-only"} and fp and fp.startswith("db:")
    assert vfp and vfp.startswith("QorusLdapAuth:")
    with engine.connect() as conn:
        assert auth.fingerprint(conn, "ann") == fp
        assert auth.principal(conn, "vic", vfp) is not None
    # unknown to both: the same refusal as a wrong password
    with pytest.raises(AuthenticationError) as info:
        verify(engine, auth, "nobody", "x")
    assert info.value.desc == rbac.refused_desc("nobody")
    # and a directory user that becomes a local one answers as the local one only
    with engine.begin() as conn:
        rbac.add_user(conn, "vic", "Local-Secret2", ["operator"], policy=rbac.PasswordPolicy())
    with engine.connect() as conn:
        assert auth.principal(conn, "vic", vfp) is None
        assert auth.token_principal(conn, "vic", vfp) is None
        assert (
            auth.fingerprint(
                conn,
                "vic",
            )
            != vfp
        )
        # and a fingerprint no one made answers for no one
        assert auth.principal(conn, "ann", "Nope:" + fp.partition(":")[2]) is None
        assert auth.token_principal(conn, "ann", "untagged") is None


def test_options_are_checked(slapd: Slapd, tmp_path: Path) -> None:
    log = logging.getLogger("test.ldap")
    assert isinstance(build_authenticator(Options(), log), DatabaseAuthenticator)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"ldap.uri": None}, "ldap.uri is not set"),
        ({"ldap.uri": "http://h"}, "must be ldap://HOST"),
        ({"ldap.uri": "ldap://u:p@h"}, "only a scheme, host and port"),
        ({"ldap.base": None}, "ldap.base is not set"),
        ({"ldap.roleattr": None}, "ldap.roleattr"),
        ({"ldap.roleregex": "("}, "not a regular expression"),
        ({"ldap.roleregex": "qorus-.*"}, "needs a group"),
        ({"ldap.bind-dn": SEARCH_DN}, "ldap.password is not"),
        ({"ldap.password": "x"}, "ldap.bind-dn is not"),
        ({"ldap.directusername": True, "ldap.directbindprefix": "X\\"}, "not both"),
        ({"ldap.starttls": True, "ldap.uri": "ldaps://h"}, "ldaps:// is TLS already"),
        ({"ldap.ca-file": str(tmp_path / "none.pem")}, "not a readable file"),
        ({"ldap.uentry": "uid)(x"}, "attribute name"),
    ]
    for extra, msg in cases:
        with pytest.raises(OptionError, match=msg):
            build_authenticator(options(slapd, **extra), log)
    with pytest.raises(OptionError, match="unknown authenticator 'Nope'"):
        build_authenticator(Options({"rbac-external": ["Nope"]}), log)


def test_options_changed_at_run_time_apply(engine: Engine, slapd: Slapd) -> None:
    opts = options(slapd, **{"ldap.uri": f"ldap://127.0.0.1:{free_port()}"})
    auth = LdapAuthenticator(opts, logging.getLogger("test.ldap"))
    with pytest.raises(DirectoryUnavailableError):
        verify(engine, auth, *ANN)
    opts.set("ldap.uri", slapd.uri)  # a new server: tried at once
    assert verify(engine, auth, *ANN)[0].roles == {"operator"}
    opts.set("ldap.roleregex", "(")
    with pytest.raises(DirectoryUnavailableError):
        verify(engine, auth, *ANN)
