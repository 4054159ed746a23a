"""``user-tool`` end to end on a real schema: every command, every refusal, one transaction per
command, passwords never in clear."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_cli import common
from qorus_cli.user_tool import main
from qorus_core import rbac
from qorus_core.db import tables as t
from qorus_core.model.errors import AuthenticationError
from tests.integration.rbac_helpers import add_interface, snapshot

pytestmark = pytest.mark.integration

PW = "Str0ng-Passw0rd!"


class Tool:
    """Runs user-tool against one $OMQ_DIR and keeps every output, to look for passwords."""

    def __init__(self, omq: Path) -> None:
        self.omq = omq
        self.outputs: list[str] = []

    def __call__(self, *args: str, input: str | None = None) -> tuple[int, str]:
        res = CliRunner().invoke(main, ["--qorus-dir", str(self.omq), *args], input=input)
        out = res.stdout + res.stderr
        self.outputs.append(out)
        if res.exception and not isinstance(res.exception, SystemExit):
            raise res.exception
        return res.exit_code, out


@pytest.fixture
def tool(omq_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Tool:
    # wide tables, so that names are not folded across lines
    monkeypatch.setattr(common.console, "_width", 250)
    return Tool(omq_dir)


def _users(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(t.users))]


def _roles_of(engine: Engine, user: str) -> set[str]:
    with engine.connect() as conn:
        q = select(t.user_roles.c.role).where(t.user_roles.c.username == user)
        return set(conn.execute(q).scalars())


def test_users_add_update_list_delete(tool: Tool, engine: Engine) -> None:
    rc, out = tool("-A", f'ann,{PW},operator,read-only,"Ann Admin"')
    assert rc == 0 and "USER 'ann' created" in out
    assert _roles_of(engine, "ann") == {"operator", "read-only"}
    assert rbac.authenticate(engine, "ann", PW).has("START-WORKFLOW")

    rc, out = tool("-l")
    assert rc == 0 and "ann" in out and "Ann Admin" in out
    rc, out = tool("-ll")
    assert "operator" in out and "all (DEFAULT)" in out
    rc, out = tool("-i", "ann")
    assert rc == 0 and "START-WORKFLOW" in out

    new_pw = "N3w-Passw0rd!"
    assert tool("-d", f"ann:pass={new_pw}", "-d", "ann:name=Ann B")[0] == 0
    assert rbac.authenticate(engine, "ann", new_pw).description == "Ann B"
    with pytest.raises(AuthenticationError):
        rbac.authenticate(engine, "ann", PW)
    assert tool("-d", "ann:roles=-read-only,+maintenance")[0] == 0
    assert _roles_of(engine, "ann") == {"operator", "maintenance"}
    assert tool("-d", "ann:roles=remote")[0] == 0
    assert _roles_of(engine, "ann") == {"remote"}
    assert tool("-m", "ann:operator,read-only", "-O", "ann:remote")[0] == 0
    assert _roles_of(engine, "ann") == {"operator", "read-only"}
    rc, out = tool("-w", "read-only")
    assert rc == 0 and "ann" in out

    rc, out = tool("-X", "user:ann")
    assert rc == 0 and "USER 'ann' deleted" in out
    assert _users(engine) == []
    _no_clear_password(tool, engine, PW, new_pw)


def _no_clear_password(tool: Tool, engine: Engine, *passwords: str) -> None:
    for row in _users(engine):
        for pw in passwords:
            assert all(pw not in str(v) for v in row)
    for out in tool.outputs:
        for pw in passwords:
            assert pw not in out


def test_password_prompt_when_missing(tool: Tool, engine: Engine) -> None:
    rc, out = tool("-A", "bob,,operator,Bob", input=f"{PW}\n{PW}\n")
    assert rc == 0, out
    assert rbac.authenticate(engine, "bob", PW).username == "bob"
    rc, out = tool("-d", "bob:pass=", input="Other-Passw0rd\nOther-Passw0rd\n")
    assert rc == 0, out
    assert rbac.authenticate(engine, "bob", "Other-Passw0rd").username == "bob"
    _no_clear_password(tool, engine, PW, "Other-Passw0rd")


def test_permissions_roles_and_groups(tool: Tool, engine: Engine) -> None:
    wf = add_interface(engine, "workflow", "ORDERS", "1.0")
    wf2 = add_interface(engine, "workflow", "ORDERS", "2.0")
    other = add_interface(engine, "workflow", "BILLING", "1.0")
    svc = add_interface(engine, "service", "billing-svc", "1.0")
    job = add_interface(engine, "job", "nightly", "1.0")

    assert tool("-P", "REPORTS:may read reports")[0] == 0
    assert tool("-E", "REPORTS:reads reports")[0] == 0
    rc, out = tool("-p")
    assert rc == 0 and "REPORTS" in out and "USER" in out and "START-WORKFLOW" in out

    rc, out = tool("-g", "SALES:desc=sales,workflows=ORDERS:1.0,services=billing-svc,jobs=nightly")
    assert rc == 0, out
    rc, out = tool("-R", "sales:sales team:REPORTS,WORKFLOW-EXEC-CONTROL:SALES")
    assert rc == 0, out
    assert tool("-A", f"sam,{PW},sales,Sam")[0] == 0
    p = rbac.authenticate(engine, "sam", PW)
    assert p.has("START-WORKFLOW") and p.has("REPORTS") and not p.has("SKIP-STEP")
    assert not p.all_interfaces
    assert p.workflow_ids == {wf} and p.service_ids == {svc} and p.job_ids == {job}

    # members: relative edits, latest version by default, the add/del shortcuts
    assert tool("-t", "SALES:workflows=+ORDERS,-ORDERS:1.0,desc=Sales dept")[0] == 0
    assert rbac.authenticate(engine, "sam", PW).workflow_ids == {wf2}
    assert tool("-b", "SALES:BILLING", "--del-group-job", "SALES:nightly")[0] == 0
    p = rbac.authenticate(engine, "sam", PW)
    assert p.workflow_ids == {wf2, other} and p.job_ids == set()
    assert tool("-z", "SALES:BILLING", "-x", "SALES:billing-svc")[0] == 0
    assert rbac.authenticate(engine, "sam", PW).service_ids == set()

    assert tool("--disable-group", "SALES")[0] == 0
    assert rbac.authenticate(engine, "sam", PW).workflow_ids == set()
    assert tool("--enable-group", "SALES")[0] == 0
    assert tool("-t", "SALES:enabled=false")[0] == 0
    assert rbac.authenticate(engine, "sam", PW).group_ids == set()
    assert tool("-t", "SALES:enabled=true")[0] == 0

    rc, out = tool("-S")
    assert rc == 0 and "SALES" in out and "DEFAULT" in out
    rc, out = tool("-SS")
    assert "workflow ORDERS:2.0" in out and "sales" in out
    rc, out = tool("-n", "SALES")
    assert rc == 0 and "workflow ORDERS:2.0" in out

    # roles: update, relative edits, add/del shortcuts, lists
    assert tool("-U", "sales:perms=+SKIP-STEP,-REPORTS,desc=Sales")[0] == 0
    p = rbac.authenticate(engine, "sam", PW)
    assert p.has("SKIP-STEP") and not p.has("REPORTS")
    assert tool("-G", "sales:DEFAULT", "-F", "sales:REPORTS", "-I", "sales:SKIP-STEP")[0] == 0
    p = rbac.authenticate(engine, "sam", PW)
    assert p.all_interfaces and p.has("REPORTS") and not p.has("SKIP-STEP")
    assert tool("-o", "sales:DEFAULT", "-U", "sales:groups=SALES")[0] == 0
    assert not rbac.authenticate(engine, "sam", PW).all_interfaces
    rc, out = tool("-r")
    assert rc == 0 and "sales" in out and "superuser" in out
    rc, out = tool("-rr")
    assert "REPORTS" in out and "SALES" in out
    rc, out = tool("-f", "sales")
    assert rc == 0 and "WORKFLOW-EXEC-CONTROL" in out and "START-WORKFLOW" in out
    rc, out = tool("--roles-with-perm", "REPORTS")
    assert rc == 0 and "sales" in out

    # deletes in use need -c
    before = snapshot(engine)
    in_use = (("perm:REPORTS", "sales"), ("group:SALES", "sales"), ("role:sales", "sam"))
    for target, holder in in_use:
        rc, out = tool("-X", target)
        assert rc == 1 and holder in out and "-c" in out, out
    assert snapshot(engine) == before
    assert tool("-c", "-X", "perm:REPORTS", "-X", "group:SALES")[0] == 0
    assert tool("-X", "role:sales", "-c")[0] == 0
    assert _roles_of(engine, "sam") == set()
    with engine.connect() as conn:
        assert conn.execute(select(t.groups.c.name)).scalars().all() == ["DEFAULT"]
        assert not conn.execute(select(t.group_workflows)).all()


@pytest.mark.parametrize(
    ("overrides", "password", "rule"),
    [
        ((), "Sh0rt!", "password-policy-min-length"),
        (("password-policy-mixed-case=true",), "lower-case-only-1", "password-policy-mixed-case"),
        (("password-policy-numbers=true",), "No-Digits-Here", "password-policy-numbers"),
        (("password-policy-symbols=true",), "NoSymbols123", "password-policy-symbols"),
    ],
)
def test_weak_passwords_are_refused(
    tool: Tool, engine: Engine, overrides: tuple[str, ...], password: str, rule: str
) -> None:
    before = snapshot(engine)
    rc, out = tool("-A", f"weak,{password},operator", *overrides)
    assert rc == 1 and rule in out and "PASSWORD-POLICY-ERROR" in out
    assert password not in out
    assert snapshot(engine) == before
    assert tool("-A", f"weak,{PW}x,operator")[0] == 0
    before = snapshot(engine)
    rc, out = tool("-d", f"weak:pass={password}", *overrides)
    assert rc == 1 and rule in out
    assert snapshot(engine) == before


def test_password_policy_from_options_file(tool: Tool, engine: Engine, omq_dir: Path) -> None:
    with (omq_dir / "etc" / "options").open("a") as f:
        f.write("qorus.password-policy-min-length = 20\n")
    rc, out = tool("-A", f"ann,{PW},operator")
    assert rc == 1 and "at least 20 characters" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-A", f"x,{PW},no-such-role"), "unknown role: no-such-role"),
        (("-R", "r:d:NO-SUCH-PERM"), "unknown permission: NO-SUCH-PERM"),
        (("-R", "r:d:LOGIN:NO-GROUP"), "unknown group: NO-GROUP"),
        (("-R", "operator:d:LOGIN"), "role 'operator' already exists"),
        (("-P", "LOGIN:mine"), "system permission 'LOGIN'"),
        (("-E", "LOGIN:changed"), "'LOGIN' is a system permission"),
        (("-X", "perm:LOGIN"), "'LOGIN' is a system permission"),
        (("-t", "DEFAULT:desc=mine"), "'DEFAULT'"),
        (("-b", "DEFAULT:WF"), "'DEFAULT'"),
        (("--disable-group", "DEFAULT"), "'DEFAULT'"),
        (("-X", "group:DEFAULT", "-c"), "'DEFAULT'"),
        (("-g", "G:desc=d,workflows=WF,NO-SUCH-WF"), "workflow 'NO-SUCH-WF' does not exist"),
        (("-g", "G:desc=d,services=nosvc"), "user service 'nosvc' does not exist"),
        (("-g", "G:desc=d,jobs=nojob"), "job 'nojob' does not exist"),
        (("-g", "G:workflows=WF"), "desc key is required"),
        (("-g", "G:desc=d,colour=red"), "unknown key 'colour'"),
        (("-t", "NOGROUP:desc=x"), "group 'NOGROUP' does not exist"),
        (("-d", "ghost:name=x"), "user 'ghost' does not exist"),
        (("-X", "user:ghost"), "user 'ghost' does not exist"),
        (("-X", "thing:x"), "expecting user:NAME"),
        (("-d", "x:roles=+a,b"), "cannot mix"),
        (("--bogus",), "No such option"),
        ((), "nothing to do"),
    ],
)
def test_refusals_exit_1_and_change_nothing(
    tool: Tool, engine: Engine, args: tuple[str, ...], message: str
) -> None:
    add_interface(engine, "workflow", "WF", "1.0")
    before = snapshot(engine)
    rc, out = tool(*args)
    assert rc == 1, out
    assert message in out
    assert snapshot(engine) == before


def test_duplicate_user_refused(tool: Tool, engine: Engine) -> None:
    assert tool("-A", f"ann,{PW},operator")[0] == 0
    before = snapshot(engine)
    rc, out = tool("-A", f"ann,{PW},read-only")
    assert rc == 1 and "user 'ann' already exists" in out
    assert snapshot(engine) == before


def test_a_failed_command_changes_nothing(tool: Tool, engine: Engine) -> None:
    before = snapshot(engine)
    rc, out = tool(
        "-P", "NEWPERM:x", "-g", "NEWGROUP:desc=x", "-A", f"ann,{PW},operator", "-X", "user:ghost"
    )
    assert rc == 1 and "ghost" in out
    assert snapshot(engine) == before
    assert "created" not in out


def test_schema_must_be_current(tool: Tool, omq_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    rc, out = tool("-D", f"sqlite:///{empty}", "-l")
    assert rc == 2 and "schema-tool -V" in out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_synchronize_without_server(tool: Tool, engine: Engine) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    rc, out = tool("-P", "SYNCED:x", "-s", "-u", url)
    assert rc == 0
    assert "cannot reach the server" in out
    with engine.connect() as conn:
        assert conn.execute(select(t.permissions).where(t.permissions.c.name == "SYNCED")).first()


@pytest.fixture
def fake_server() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server that records the requests it gets and answers 200."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            # public/info of a server without RBAC: user-tool -s needs no login
            seen.append(f"GET {self.path}")
            self._answer(b'{"noauth": true}')

        def do_PUT(self) -> None:
            seen.append(f"PUT {self.path}")
            self._answer(b'"OK"')

        def _answer(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", seen
    srv.shutdown()
    srv.server_close()


def test_synchronize_calls_reload_rbac(
    tool: Tool, omq_dir: Path, fake_server: tuple[str, list[str]]
) -> None:
    url, seen = fake_server
    with (omq_dir / "etc" / "options").open("a") as f:
        f.write(f"qorus-client.client-url = {url}\n")
    rc, out = tool("-s")
    assert rc == 0 and "RBAC reloaded" in out
    assert seen == ["GET /api/latest/public/info", "PUT /api/latest/system/reloadRbac"]
    rc, out = tool("-W")
    assert out.strip() == url


def test_real_process(omq_dir: Path, engine: Engine) -> None:
    env = {**os.environ, "OMQ_DIR": str(omq_dir)}
    repo = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = str(repo)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "qorus_cli.user_tool", *args]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)

    ok = run("-A", f"proc,{PW},operator,Proc")
    assert ok.returncode == 0, ok.stderr
    listed = run("-ll")
    assert listed.returncode == 0 and "proc" in listed.stdout
    bad = run("-A", f"proc,{PW},operator")
    assert bad.returncode == 1 and "already exists" in bad.stderr
    for p in (ok, listed, bad):
        assert PW not in p.stdout + p.stderr
    assert rbac.authenticate(engine, "proc", PW).username == "proc"
