"""No secret leaves the server: datasource passwords, TLS key passwords, proxy and LDAP
credentials are masked in every answer, listing, log line, event and audit row.

The real server runs on the database of ``--db``; on PostgreSQL its system datasource is a
role with a password (the local server trusts any password, so the secret is only carried).
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import env, free_port
from sqlalchemy import select, text
from sqlalchemy.engine import URL, Engine
from test_tls import make_cert

from qorus_core.db import tables as t
from qorus_core.db.engine import create_system_engine
from qorus_core.omqdir import OmqDir
from qorus_core.options import Options, load_options
from qorus_core.secrets import MASK
from qorus_server.events import EventBus
from qorus_server.server import QorusServer
from qorus_server.userapi.context import Runtime, bind_runtime, unbind_runtime
from qorus_server.userapi.userapi import UserApi

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

PG_PW = "Pg-S3cret-pw-7Q"
KEY_PW_INLINE = "Tls-Inl1ne-pw-4R"
KEY_PW_OPTION = "Tls-0ption-pw-8S"
PROXY_PW = "Prx-S3cret-pw-2T"
LDAP_PW = "Ldap-S3cret-pw-5U"
URI_PW = "Uri-S3cret-pw-6V"
RUNTIME_PW = "Runt1me-S3cret-pw-3W"
RUNTIME_PROXY_PW = "Runt1me-Prx-pw-9X"
BAD_VALUE = "987654321"
SECRETS = (
    PG_PW,
    KEY_PW_INLINE,
    KEY_PW_OPTION,
    PROXY_PW,
    LDAP_PW,
    URI_PW,
    RUNTIME_PW,
    RUNTIME_PROXY_PW,
    BAD_VALUE,
)


def assert_clean(where: str, text_: str) -> None:
    leaked = [s for s in SECRETS if s in text_]
    assert not leaked, f"{where} shows {leaked}: {text_[:2000]}"


@pytest.fixture
def systemdb(db_url: URL, db_kind: str) -> Iterator[str]:
    """The systemdb option: on PostgreSQL a role with a password, in Qore form."""
    if db_kind != "postgresql":
        yield db_url.render_as_string(hide_password=False)
        return
    role = f"qsecret_{os.getpid()}"
    admin = create_system_engine(
        db_url.set(database="postgres"), 1, 1, isolation_level="AUTOCOMMIT"
    )
    db = create_system_engine(db_url, 1, 1, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{PG_PW}'"))
    try:
        with db.connect() as c:
            c.execute(text(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}"))
            c.execute(text(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}"))
        yield f"pgsql:{role}/{PG_PW}@{db_url.database}%{db_url.host}:{db_url.port}"
    finally:
        with db.connect() as c:
            c.execute(text(f"DROP OWNED BY {role}"))
        db.dispose()
        with admin.connect() as c:
            c.execute(text(f"DROP ROLE {role}"))
        admin.dispose()


def _write_options(omq: Path, tmp: Path, systemdb: str, tls1: int, tls2: int) -> dict[str, Path]:
    (tmp / "inline").mkdir()
    (tmp / "global").mkdir()
    cert1, key1 = make_cert(tmp / "inline", KEY_PW_INLINE.encode())
    cert2, key2 = make_cert(tmp / "global", KEY_PW_OPTION.encode())
    (omq / "etc" / "options").write_text(
        f"qorus.systemdb = {systemdb}\n"
        f"qorus.http-secure-server = 127.0.0.1:{tls1}{{cert={cert1};key={key1};"
        f"password={KEY_PW_INLINE}}}, 127.0.0.1:{tls2}\n"
        f"qorus.http-secure-certificate = {cert2}\n"
        f"qorus.http-secure-private-key = {key2}\n"
        f"qorus.http-secure-private-key-password = {KEY_PW_OPTION}\n"
        "qorus.audit = *\n"
        f"qorus-client.proxy-url = http://proxyuser:{PROXY_PW}@proxy.invalid:3128\n"
        f"ldap.uri = ldap://binduser:{URI_PW}@ldap.invalid:389\n"
        f"ldap.password = {LDAP_PW}\n"
    )
    return {"cert1": cert1, "cert2": cert2}


def _answers(base: str, **kw: Any) -> dict[str, httpx.Response]:
    paths = [
        "system",
        "system/options",
        "system/options/systemdb",
        "system/options/qorus.systemdb",
        "system/options/http-secure-server",
        "system/options/http-secure-private-key-password",
        "system/options/ldap.password",
        "system/options/ldap.uri",
        "system/options/qorus-client.proxy-url",
        "system/listeners",
        "system/health",
        "system/sessions",
    ]
    return {p: httpx.get(f"{base}/api/latest/{p}", timeout=30, **kw) for p in paths}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args),
        env={**env(), "COLUMNS": "250"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_no_secret_in_any_answer_listing_log_or_audit_row(
    omq_dir: Path, tmp_path: Path, systemdb: str, db_url: URL, db_kind: str, start_qorus: Any
) -> None:
    plain, tls1, tls2 = free_port(), free_port(), free_port()
    certs = _write_options(omq_dir, tmp_path, systemdb, tls1, tls2)
    q = start_qorus(omq_dir, port=plain)
    base = q.url

    # the secrets work: both TLS listeners opened their encrypted keys
    for port, cert in ((tls1, certs["cert1"]), (tls2, certs["cert2"])):
        ctx = ssl.create_default_context(cafile=str(cert))
        r = httpx.get(f"https://127.0.0.1:{port}/api/latest/system/ping", verify=ctx)
        assert r.status_code == 200 and r.json() == "OK"

    answers = _answers(base)
    for path, r in answers.items():
        assert r.status_code == 200, (path, r.text)
        assert_clean(f"GET {path}", r.text)
    by_name = {o["name"]: o for o in answers["system/options"].json()}
    assert by_name["ldap.password"]["value"] == MASK
    assert by_name["qorus.http-secure-private-key-password"]["value"] == MASK
    assert f"proxyuser:{MASK}@proxy.invalid" in by_name["qorus-client.proxy-url"]["value"]
    assert f"binduser:{MASK}@ldap.invalid" in by_name["ldap.uri"]["value"]
    [inline] = [v for v in by_name["qorus.http-secure-server"]["value"] if "{" in v]
    assert inline.endswith(f"password={MASK}}}")
    names = [lst["name"] for lst in answers["system/listeners"].json()]
    assert any(n.endswith(f"password={MASK}}}") for n in names), names
    systemdb_shown = answers["system/options/systemdb"].json()["value"]
    if db_kind == "postgresql":
        assert systemdb_shown == systemdb.replace(PG_PW, MASK)
        assert answers["system/health"].json()["health"] == "GREEN"

    # set secrets at run time: in the query string (the HTTP log sees it) and in a body
    r = httpx.put(f"{base}/api/latest/system/options/set?ldap.password={RUNTIME_PW}")
    assert r.status_code == 200, r.text
    assert r.json() == {"ldap.password": MASK}
    proxy = f"http://u:{RUNTIME_PROXY_PW}@proxy2.invalid:8080"
    r = httpx.put(f"{base}/api/latest/system/options/set", json={"qorus-client.proxy-url": proxy})
    assert r.status_code == 200, r.text
    assert r.json() == {"qorus-client.proxy-url": f"http://u:{MASK}@proxy2.invalid:8080"}
    # a wrong value for a secret option: 400 naming the option, not the value
    r = httpx.put(f"{base}/api/latest/system/options/set", json={"ldap.password": int(BAD_VALUE)})
    assert r.status_code == 400 and "ldap.password" in r.json()["desc"]
    assert_clean("a refused secret", r.text)
    assert httpx.get(f"{base}/api/latest/system/options/ldap.password").json()["value"] == MASK
    for path, r in _answers(f"https://127.0.0.1:{tls1}", verify=False).items():
        assert r.status_code == 200, (path, r.text)
        assert_clean(f"GET {path} (TLS)", r.text)

    # listings: qorus -l, schema-tool status
    res = _run(sys.executable, "-m", "qorus_cli.qorus", "-d", str(omq_dir), "-l")
    assert res.returncode == 0, res.stderr
    assert_clean("qorus -l", res.stdout + res.stderr)
    assert "ldap.password" in res.stdout and MASK in res.stdout
    res = _run("schema-tool", "--qorus-dir", str(omq_dir))
    assert res.returncode == 0, res.stderr
    assert_clean("schema-tool status", res.stdout + res.stderr)

    code, err = q.terminate()
    assert code == 0, err
    assert_clean("qorus stderr", err)

    # log files
    logs = sorted((omq_dir / "log").iterdir())
    assert logs
    http_log = ""
    for f in logs:
        content = f.read_text()
        assert_clean(str(f), content)
        if "-HTTP" in f.name:
            http_log += content
    assert f"ldap.password={MASK}" in http_log  # the request was logged, masked

    # the audit table (audit = *)
    eng = create_system_engine(db_url, 1, 1)
    with eng.connect() as c:
        rows = c.execute(select(t.audit_events)).all()
    eng.dispose()
    assert any(r.info2 == "system.options.set" for r in rows)
    for row in rows:
        assert_clean(f"audit row {row.audit_eventid}", repr(tuple(row)))


def test_no_secret_in_events(omq_dir: Path, tmp_path: Path, systemdb: str) -> None:
    """The event stream (in-process: every event the server posted, and a user's)."""
    certs_dir = tmp_path / "certs"
    certs_dir.mkdir()
    _write_options(omq_dir, certs_dir, systemdb, free_port(), free_port())
    omq = OmqDir(omq_dir)
    server = QorusServer(
        omq, load_options(omq, ["http-server=127.0.0.1:0"]), version="test", components=[]
    )
    server.step1_options()
    server.step2_logs()
    server.start()
    try:
        server.call("system.options.set", **{"ldap.password": RUNTIME_PW})
        server.events.post(
            "USER_EVENT",
            {"password": LDAP_PW, "db": systemdb, "proxy": f"http://a:{PROXY_PW}@p:1"},
            caller="user",
        )
        events = [e.as_dict() for e in server.events.last(1000)]
        assert [e["eventstr"] for e in events] == ["SYSTEM_STARTUP", "USER_EVENT"]
        assert_clean("events", repr(events))
        assert events[-1]["info"]["password"] == MASK
    finally:
        server.request_shutdown("test over")
        server.shutdown_steps()
        server._close_sockets()
        server.logs.close()


def test_no_secret_in_user_events_or_user_audit_rows(engine: Engine) -> None:
    """What interface code posts or audits through the UserApi is masked too."""
    bus = EventBus()
    rt = Runtime(engine=engine, options=Options({"audit": ["*"]}), sessionid=0, events=bus)
    bind_runtime(rt)
    try:
        UserApi.postUserEvent("info", {"login": "u", "pass": LDAP_PW})
        UserApi.postUserEvent("info", f"connect to http://u:{PROXY_PW}@h:1")
        eid = UserApi.auditUserEvent("MY-EVENT", f"pgsql:u/{PG_PW}@db", f"password={URI_PW}")
    finally:
        unbind_runtime(rt)
    events = [e.as_dict() for e in bus.last(10)]
    assert len(events) == 2 and events[0]["info"] == {"login": "u", "pass": MASK}
    assert_clean("user events", repr(events))
    with engine.connect() as c:
        row = c.execute(select(t.audit_events).where(t.audit_events.c.audit_eventid == eid)).one()
    assert row.info1 == f"pgsql:u/{MASK}@db" and row.info2 == f"password={MASK}"
