"""Hostile user names against a real server whose logins go to a real OpenLDAP directory
(``rbac-external: QorusLdapAuth``): LDAP filter and DN metacharacters, escapes, NUL, very long
names and passwords are escaped or refused with the same 401 as a wrong password, log in no one,
crash nothing, and no password reaches any log file. Both ways of finding the user: a bound DN
(``uid=NAME,ou=people,...``) and a search (``(uid=NAME)``) by a bind account."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import tool

from tests.helpers.slapd import BASE, ROLES, SEARCH_DN, SEARCH_PW, Slapd, running_slapd

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

ADMIN = ("admin", "Adm1n-Secret")
ANN_PW = "Ann-Secret1"

HOSTILE_NAMES = [
    "*",
    "a*",
    "*nn",
    "*)(uid=*",
    "ann)(|(uid=*",
    "ann)(objectClass=*",
    "*)(|(objectClass=*",
    "ann\\",
    "\\2a",
    "\\00",
    "\\ann",
    "ann*)(userPassword=*",
    f"ann,ou=people,{BASE}",
    f"uid=ann,ou=people,{BASE}",
    "ann+cn=Ann Operator",
    "ann,",
    "#ann",
    " ann",
    "ann ",
    "ANN",
    '"ann"',
    "ann;x",
    "ann<>",
    "Zoë",
    "ann\r\n2026-01-01 00:00:00.000 T1 [INFO]: forged line",  # no line of its own in the log
    "*)(" * 53,  # 159 characters: the longest a name may be reaches the directory
]


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    yield from running_slapd(tmp_path_factory.mktemp("slapd"))


def _basic(raw: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@pytest.mark.parametrize("mode", ["dn", "search"])
def test_hostile_names_reach_no_one(
    omq_dir: Path, start_qorus: Any, slapd: Slapd, mode: str
) -> None:
    res = tool("user_tool", "--qorus-dir", str(omq_dir), "-A", f"{ADMIN[0]},{ADMIN[1]},superuser")
    assert res.returncode == 0, res.stderr
    lines = [
        "qorus.rbac-security = true",
        "qorus.rbac-external = QorusLdapAuth",
        # no locks here: each name must be answered by the directory, not by the throttle
        "qorus.rbac-login-max-failures = 0",
        "qorus.rbac-login-user-max-failures = 0",
        f"ldap.uri = {slapd.uri}",
        f"ldap.base = {BASE}",
        "ldap.roleattr = employeeType",
        f"ldap.roleregex = ^cn=qorus-([^,]+),{ROLES}$",
    ]
    if mode == "search":
        lines += [f"ldap.bind-dn = {SEARCH_DN}", f"ldap.password = {SEARCH_PW}"]
    with (omq_dir / "etc" / "options").open("a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    q = start_qorus(omq_dir, ready=False)
    q.wait_ready(auth=ADMIN)
    api = f"{q.url}/api/latest"
    login = f"{q.url}/api/public/login"

    for name in HOSTILE_NAMES:
        assert len(name) <= 160
        # with ann's real password: a name that reached ann's entry would log in
        r = httpx.get(f"{api}/system/ping", auth=(name, ANN_PW), timeout=30)
        assert r.status_code == 401, (name, r.text)
        assert r.json() == {
            "err": "AUTHENTICATION-ERROR",
            "desc": r.json()["desc"],
        } and r.json()["desc"].endswith(": wrong user name or password"), (name, r.text)
        assert "LDAP" not in r.text and "uid=" not in r.text.replace(name, "")
        r = httpx.post(login, json={"user": name, "pass": ANN_PW}, timeout=30)
        assert r.status_code == 401, (name, r.text)
        assert "token" not in r.json()

    # wildcards and escapes in the password are just a wrong password
    for pw in ("*", "\\2a", "*)(uid=*", "p" * 4096):
        r = httpx.get(f"{api}/system/ping", auth=("ann", pw), timeout=30)
        assert r.status_code == 401, (pw[:10], r.text)
    # an empty password is never sent (an LDAP bind without one would be anonymous)
    r = httpx.get(f"{api}/system/ping", auth=("ann", ""), timeout=30)
    assert r.status_code == 401

    # refused before any directory is asked: NUL, a 10 kB name, a name past 160 characters
    for raw in (b"ann\x00:" + ANN_PW.encode(), b"a" * 10240 + b":x", b"*" * 161 + b":x"):
        r = httpx.get(f"{api}/system/ping", headers=_basic(raw), timeout=30)
        assert r.status_code == 401 and r.json()["err"] == "AUTHENTICATION-ERROR"
        assert "a" * 100 not in r.text and "*" * 100 not in r.text
    r = httpx.post(login, json={"user": "a" * 10240, "pass": "x"}, timeout=30)
    assert r.status_code in (400, 413)
    r = httpx.post(login, json={"user": "ann\u0000", "pass": ANN_PW}, timeout=30)
    assert r.status_code == 400

    # nothing broke: the directory user and the local admin log in as before
    assert httpx.get(f"{api}/system/ping", auth=("ann", ANN_PW), timeout=30).json() == "OK"
    assert httpx.get(f"{api}/system/ping", auth=ADMIN, timeout=30).json() == "OK"
    assert q.proc.poll() is None

    text = "".join(p.read_text(errors="replace") for p in sorted((omq_dir / "log").iterdir()))
    assert "login failed (basic): user '*)(uid=*' from 127.0.0.1: " in text
    if mode == "search":  # the filter as sent: escaped
        assert "LDAP: no entry '(uid=\\\\2a\\\\29\\\\28uid=\\\\2a)' below" in text
    else:  # the DN as bound: escaped
        assert "LDAP: the directory refused the bind as 'uid=*)(uid\\\\=*,ou=people" in text
    assert "Traceback" not in text and "INTERNAL-ERROR" not in text
    for secret in (ANN_PW, ADMIN[1], SEARCH_PW):
        assert secret not in text, secret
    # the hostile names were logged escaped: no raw control character, no forged line
    assert "\x00" not in text
    assert not any(line.startswith("2026-01-01") for line in text.splitlines())
