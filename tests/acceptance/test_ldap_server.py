"""Logins of directory users against a real server (``rbac-security``, ``rbac-external:
QorusLdapAuth``) and a real OpenLDAP server (``tests/helpers/slapd.py``): HTTP Basic and
``public/login``, a wrong password and an unknown user answered alike, roles from the regex
giving their permissions, ldaps, a directory that is down (503), throttling as for local users,
and no password in any log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import Qorus, run_qorus, tool

from tests.helpers.slapd import BASE, ROLES, Slapd, require_slapd, running_slapd

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

ADMIN = ("admin", "Adm1n-Secret")
ANN = ("ann", "Ann-Secret1")  # operator
VIC = ("vic", "V1c-Secret")  # read-only
SUE = ("sue", "Su3-Secret")  # superuser
NORA = ("nora", "N0ra-Secret")  # no role defined here
PASSWORDS = (ADMIN[1], ANN[1], VIC[1], SUE[1], NORA[1], "Wrong-Secret9")


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    yield from running_slapd(tmp_path_factory.mktemp("slapd"))


def ldap_options(omq: Path, uri: str, **extra: object) -> None:
    """Add the LDAP options to ``$OMQ_DIR/etc/options`` (``extra``: more, or other values)
    and the local admin."""
    res = tool("user_tool", "--qorus-dir", str(omq), "-A", f"{ADMIN[0]},{ADMIN[1]},superuser")
    assert res.returncode == 0, res.stderr
    options: dict[str, object] = {
        "qorus.rbac-security": "true",
        "qorus.rbac-external": "QorusLdapAuth",
        "ldap.uri": uri,
        "ldap.base": BASE,
        "ldap.roleattr": "employeeType",
        "ldap.roleregex": f"^cn=qorus-([^,]+),{ROLES}$",
    }
    options.update(extra)
    with (omq / "etc" / "options").open("a", encoding="utf-8") as f:
        f.writelines(f"{k} = {v}\n" for k, v in options.items())


def start(omq: Path, start_qorus: Any, *overrides: str) -> tuple[Qorus, str]:
    q: Qorus = start_qorus(omq, *overrides, ready=False)
    q.wait_ready(auth=ADMIN)
    return q, f"{q.url}/api/latest"


def get(api: str, path: str, auth: Any = None, token: str | None = None) -> httpx.Response:
    headers = {"Qorus-Token": token} if token else {}
    return httpx.get(f"{api}/{path}", auth=auth, headers=headers, timeout=30)


def put(api: str, path: str, auth: Any = None, token: str | None = None) -> httpx.Response:
    headers = {"Qorus-Token": token} if token else {}
    return httpx.put(f"{api}/{path}", auth=auth, headers=headers, timeout=30)


def login(q: Qorus, who: tuple[str, str]) -> httpx.Response:
    return httpx.post(
        f"{q.url}/api/public/login", json={"user": who[0], "pass": who[1]}, timeout=30
    )


def logs(omq: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in sorted((omq / "log").iterdir()))


def test_directory_logins(omq_dir: Path, start_qorus: Any, slapd: Slapd) -> None:
    ldap_options(omq_dir, slapd.uri)
    q, api = start(omq_dir, start_qorus)

    # HTTP Basic and public/login
    assert get(api, "system/ping", ANN).json() == "OK"
    r = login(q, ANN)
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    assert get(api, "system/ping", token=token).json() == "OK"

    # a wrong password and an unknown user get the same answer (but the name they gave)
    wrong = get(api, "system/ping", ("ann", "Wrong-Secret9"))
    unknown = get(api, "system/ping", ("nobody", ANN[1]))
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == {"err": "AUTHENTICATION-ERROR", "desc": wrong.json()["desc"]}
    assert wrong.json()["desc"].replace("'ann'", "'X'") == unknown.json()["desc"].replace(
        "'nobody'", "'X'"
    )
    assert wrong.headers.get("www-authenticate") == unknown.headers.get("www-authenticate")
    for who in (("ann", "Wrong-Secret9"), ("nobody", ANN[1])):
        r = login(q, who)
        assert r.status_code == 401 and "wrong user name or password" in r.json()["desc"]
        assert "LDAP" not in r.text and "invalidCredentials" not in r.text

    # roles from the regex: operator may rotate logs and reset workflows (an umbrella's
    # permission), read-only may not; a user whose roles are none here may not log in
    assert put(api, "system/rotateLogFiles", ANN).status_code == 200
    assert put(api, "workflows?action=resetAll", token=token).status_code == 200
    r = put(api, "system/rotateLogFiles", VIC)
    assert r.status_code == 403 and r.json()["err"] == "AUTHORIZATION-ERROR"
    assert put(api, "workflows?action=resetAll", VIC).status_code == 403
    assert get(api, "system/ping", VIC).json() == "OK"
    r = get(api, "system/ping", NORA)
    assert r.status_code == 403 and "LOGIN" in r.json()["desc"]

    # the local admin logs in as before
    assert get(api, "system/ping", ADMIN).json() == "OK"

    # reloadRbac (by a directory superuser) ends directory users' tokens: log in again
    assert put(api, "system/reloadRbac", SUE).status_code == 200
    assert get(api, "system/ping", token=token).status_code == 401
    assert get(api, "system/ping", ANN).json() == "OK"

    # failed directory logins are throttled like local ones: four above, the fifth from one
    # address locks it, even for the right password
    assert get(api, "system/ping", ("vic", "Wrong-Secret9")).status_code == 401
    r = get(api, "system/ping", VIC)
    assert r.status_code == 429 and r.json()["err"] == "LOGIN-THROTTLED"

    text = logs(omq_dir)
    assert "LDAP login: user 'ann' ('uid=ann,ou=people,dc=example,dc=com'): roles operator" in text
    assert "login failed (basic): user 'ann' from 127.0.0.1: LDAP:" in text
    assert "invalidCredentials" in text
    for pw in PASSWORDS:
        assert pw not in text, pw


def test_ldaps(omq_dir: Path, start_qorus: Any, slapd: Slapd) -> None:
    ldap_options(omq_dir, slapd.ldaps_uri, **{"ldap.ca-file": slapd.ca_file})
    _q, api = start(omq_dir, start_qorus)
    assert get(api, "system/ping", ANN).json() == "OK"
    assert put(api, "system/rotateLogFiles", ANN).status_code == 200
    assert get(api, "system/ping", ("ann", "Wrong-Secret9")).status_code == 401
    assert "ldaps://127.0.0.1" in logs(omq_dir)


def test_directory_down(omq_dir: Path, start_qorus: Any, tmp_path: Path) -> None:
    own = Slapd(tmp_path / "slapd", require_slapd())
    own.setup()
    own.start()
    try:
        ldap_options(omq_dir, own.uri, **{"ldap.timeout": 1})
        q, api = start(omq_dir, start_qorus)
        assert get(api, "system/ping", ANN).json() == "OK"
        token = login(q, ANN).json()["token"]

        own.stop()
        for _ in range(7):  # more than rbac-login-max-failures: not counted as failures
            r = get(api, "system/ping", VIC)
            assert r.status_code == 503, r.text
            assert r.json()["err"] == "LOGIN-UNAVAILABLE"
            assert int(r.headers["retry-after"]) >= 1
            assert "127.0.0.1" not in r.text and "refused" not in r.text.lower()
        r = login(q, VIC)
        assert r.status_code == 503 and r.json()["err"] == "LOGIN-UNAVAILABLE"
        # a login verified a moment ago, a token and local users are not held up
        assert get(api, "system/ping", ANN).json() == "OK"
        assert get(api, "system/ping", token=token).json() == "OK"
        assert get(api, "system/ping", ADMIN).json() == "OK"

        own.start()
        time.sleep(1.2)  # ldap.timeout: directory logins are not tried again before
        assert get(api, "system/ping", VIC).json() == "OK"
        text = logs(omq_dir)
        assert f"LDAP server {own.uri} cannot be reached" in text
        for pw in PASSWORDS:
            assert pw not in text, pw
    finally:
        own.stop()


def test_bad_ldap_options_stop_the_start(omq_dir: Path, slapd: Slapd) -> None:
    ldap_options(omq_dir, slapd.uri, **{"ldap.roleregex": "qorus-.*"})
    res = run_qorus(omq_dir)
    assert res.returncode == 5, res.stderr
    assert "ldap.roleregex needs a group" in res.stderr
