"""RBAC on every gateway of a real server, with real clients (httpx, Python's xmlrpc.client):

* without credentials REST, JSON-RPC, XML-RPC and YAML-RPC answer 401 with WWW-Authenticate;
* the permission matrix: each built-in role (superuser, operator, read-only, remote,
  maintenance) against a representative operation of every area, over REST and over XML-RPC;
  what is expected is derived from the roles' permissions as the server lists them (umbrellas
  expanded), a refusal is 403 AUTHORIZATION-ERROR or the XML-RPC fault of that family;
* ``rbac-force-user``: requests without credentials from a matching address act as the user
  it names (REST and XML-RPC alike), others still need a login, and the option changes at
  run time;
* with RBAC off every caller may do everything.
"""

from __future__ import annotations

import http.client
import shutil
import xmlrpc.client
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import Qorus, tool

from qorus_core.rbac import expand

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

DATA = Path(__file__).resolve().parent / "data" / "wf"
ADMIN = ("admin", "Adm1n-Secret")
ROLES = ("superuser", "operator", "read-only", "remote", "maintenance")
PW = "R0le-Secret!"
AUTHZ_FAULT = -32003


def user_of(role: str) -> tuple[str, str]:
    return (f"{role}-user", PW)


@dataclass(frozen=True)
class Case:
    """One operation of an area: what it needs, its REST request, its XML-RPC call."""

    area: str
    needs: tuple[str, ...]  # one of these permissions (LOGIN for a read)
    method: str
    path: str
    body: dict[str, Any] | None
    rpc: str | None
    params: tuple[Any, ...] = ()


def cases(order: int, tag: str) -> list[Case]:
    """The operations; ``tag`` keeps what one call creates apart from the others'."""
    return [
        Case("system-read", ("LOGIN",), "GET", "system/ping", None, "omq.system.ping"),
        Case(
            "system",
            ("ROTATE-LOG-FILES",),
            "PUT",
            "system?action=rotateLogFiles",
            None,
            "omq.system.rotate-log-files",
        ),
        Case(
            "workflows",
            ("RESET-WORKFLOW",),
            "PUT",
            "workflows/ACC-SIMPLE?action=reset",
            None,
            "omq.system.reset-workflow",
            ("ACC-SIMPLE",),
        ),
        Case(
            "orders-create",
            ("SUBMIT-ORDER",),
            "POST",
            "workflows/ACC-SIMPLE?action=createOrder",
            {"staticdata": {"ref": tag}, "status": "BLOCKED"},
            "omq.system.create-order",
            ("ACC-SIMPLE", {"staticdata": {"ref": tag}, "status": "BLOCKED"}),
        ),
        Case(
            "orders",
            ("BLOCK-WORKFLOW-ORDER",),
            "PUT",
            f"orders/{order}?action=block",
            None,
            "omq.system.block-workflow-instance",
            (order,),
        ),
        Case(
            "exec",
            ("STOP-WORKFLOW",),
            "PUT",
            "exec?action=stopAll",
            None,
            "omq.system.stop-all-workflows",
        ),
        Case(
            "services",
            ("CALL-SYSTEM-SERVICES-RO", "CALL-SYSTEM-SERVICES-RW"),
            "PUT",
            "services/info/getSystemInfo?action=call",
            None,
            "omq.system.service.info.getSystemInfo",
        ),
        Case(
            "jobs",
            ("RESET-JOB",),
            "PUT",
            "jobs/MATJOB?action=reset",
            None,
            "omq.system.job.reset",
            ("MATJOB",),
        ),
        Case(
            "async-queues",
            ("SUBMIT-ORDER",),
            "POST",
            "async-queues/MATQ?action=update",
            {"key": "no-such-key", "data": {"a": 1}},
            "omq.system.update-async-queue",
            ("MATQ", "no-such-key", {"a": 1}),
        ),
        Case(
            "sync-events",
            ("POST-WORKFLOW-EVENT",),
            "PUT",
            f"sync-events/MATEV?action=post&eventkey={tag}",
            None,
            "omq.system.post-event",
            ("MATEV", tag),
        ),
        Case(
            "sensitive-data",
            ("READ-SENSITIVE-DATA",),
            "GET",
            f"orders/{order}?action=sensitiveData",
            None,
            None,  # no RPC method reads sensitive data
        ),
        Case(
            "users",
            ("ADD-USER",),
            "POST",
            "users",
            {"username": f"u-{tag}", "pass": PW, "roles": "read-only"},
            "omq.system.add-user",
            (f"u-{tag}", PW, "made over XML-RPC", ["read-only"]),
        ),
        Case(
            "rbac",
            ("RELOAD-RBAC",),
            "PUT",
            "system?action=reloadRbac",
            None,
            "omq.system.reload-rbac",
        ),
        Case(
            "groups",
            ("ADD-GROUP",),
            "POST",
            "groups",
            {"group": f"G-{tag}", "desc": "matrix"},
            "omq.system.group.create",
            (f"G-{tag}", "matrix"),
        ),
    ]


def _prepare(base: Path, root: Path) -> None:
    """The acceptance workflows, a job, a queue and an event type; an admin and one user per
    built-in role."""
    data = base / "data"
    shutil.copytree(DATA, data)
    (data / "MATQ.qqueue.yaml").write_text("type: queue\nname: MATQ\ndesc: matrix\n")
    (data / "MATEV.qevent.yaml").write_text("type: event\nname: MATEV\ndesc: matrix\n")
    (data / "MATJOB-1.0.qjob.yaml").write_text(
        "type: job\nname: MATJOB\nversion: '1.0'\ndesc: matrix\nlang: python\n"
        "duration: 9999999\ncode: MATJOB-1.0.qjob.py\n"
    )
    (data / "MATJOB-1.0.qjob.py").write_text(
        "from job import QorusJob\n\n\nclass MATJOB(QorusJob):\n    def run(self):\n        pass\n"
    )
    d = ["--qorus-dir", str(root)]
    res = tool("oload", *d, str(data))
    assert res.returncode == 0, res.stderr + res.stdout
    res = tool("user_tool", *d, "-A", f"{ADMIN[0]},{ADMIN[1]},superuser,Admin")
    assert res.returncode == 0, res.stderr
    for role in ROLES:
        res = tool("user_tool", *d, "-A", f"{user_of(role)[0]},{PW},{role}")
        assert res.returncode == 0, res.stderr


@pytest.fixture
def rbac_on(omq_dir: Path, tmp_path: Path, start_qorus: Any) -> Iterator[Qorus]:
    _prepare(tmp_path, omq_dir)
    q = start_qorus(omq_dir, "rbac-security=true", ready=False)
    q.wait_ready(auth=ADMIN)
    yield q


def _held(api: str) -> dict[str, frozenset[str]]:
    """Each built-in role's effective permissions, from the server's own lists."""
    perms = httpx.get(f"{api}/perms", auth=ADMIN, timeout=30).json()
    includes = {p["name"]: set(p["includes"]) for p in perms}
    roles = httpx.get(f"{api}/roles", auth=ADMIN, timeout=30).json()
    return {r["role"]: expand(r["permissions"], includes) for r in roles if r["role"] in ROLES}


def _order(api: str) -> int:
    r = httpx.post(
        f"{api}/workflows/ACC-SIMPLE?action=createOrder",
        json={"staticdata": {"ref": "matrix"}, "status": "BLOCKED"},
        auth=ADMIN,
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return int(r.json()["workflow_instanceid"])


def _rest(api: str, case: Case, auth: Any) -> httpx.Response:
    with httpx.Client(auth=auth, timeout=60) as c:
        return c.request(case.method, f"{api}/{case.path}", json=case.body)


def _from(source: str, method: str, url: str, auth: Any = None) -> httpx.Response:
    """One request whose connection leaves from ``source`` (a loopback address)."""
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, auth=auth, timeout=30) as c:
        return c.request(method, url)


class _SourceTransport(xmlrpc.client.Transport):
    """An XML-RPC transport whose connections leave from ``source`` (a loopback address)."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        if self._connection and host == self._connection[0]:
            conn = self._connection[1]
            assert conn is not None
            return conn
        self.close()
        chost, self._extra_headers, _x509 = self.get_host_info(host)
        self._connection = (
            host,
            http.client.HTTPConnection(chost, timeout=60, source_address=(self.source, 0)),
        )
        return self._connection[1]


def _xmlrpc(q: Qorus, auth: tuple[str, str] | None, source: str | None = None) -> Any:
    cred = f"{auth[0]}:{auth[1]}@" if auth else ""
    url = f"http://{cred}127.0.0.1:{q.port}/RPC2"
    transport = _SourceTransport(source) if source else None
    return xmlrpc.client.ServerProxy(url, transport=transport, allow_none=True)


def _rpc_outcome(proxy: Any, case: Case) -> str:
    """``allowed`` or ``refused`` (the AUTHORIZATION-ERROR fault); anything else fails."""
    assert case.rpc is not None
    try:
        getattr(proxy, case.rpc)(*case.params)
    except xmlrpc.client.Fault as f:
        if f.faultString.startswith("AUTHORIZATION-ERROR"):
            assert f.faultCode == AUTHZ_FAULT, f
            return "refused"
        assert f.faultCode not in (-32001, AUTHZ_FAULT), f
    return "allowed"


def _rest_outcome(r: httpx.Response) -> str:
    assert r.status_code != 401, r.text
    if r.status_code == 403:
        assert r.json()["err"] == "AUTHORIZATION-ERROR", r.text
        return "refused"
    assert r.status_code < 500, r.text
    return "allowed"


def test_every_gateway_needs_a_login(rbac_on: Qorus) -> None:
    q = rbac_on
    assert httpx.get(f"{q.url}/api/public/info").status_code == 200
    r = httpx.get(f"{q.url}/api/latest/system/ping")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
    bodies = {
        "/JSON": b'{"jsonrpc": "2.0", "method": "omq.system.ping", "id": 1}',
        "/RPC2": xmlrpc.client.dumps((), "omq.system.ping").encode(),
        "/YAML": b"method: omq.system.ping\n",
    }
    for path, body in bodies.items():
        r = httpx.post(f"{q.url}{path}", content=body)
        assert r.status_code == 401, (path, r.text)
        assert r.headers["www-authenticate"].startswith("Basic"), path
        assert "AUTHENTICATION-ERROR" in r.text, path
        r = httpx.post(f"{q.url}{path}", content=body, auth=("admin", "wrong"))
        assert r.status_code == 401 and "www-authenticate" in r.headers, path
        r = httpx.post(f"{q.url}{path}", content=body, auth=ADMIN)
        assert r.status_code == 200 and "OK" in r.text, (path, r.text)
    with pytest.raises(xmlrpc.client.ProtocolError) as info, _xmlrpc(q, None) as proxy:
        proxy.omq.system.ping()
    assert info.value.errcode == 401


def test_permission_matrix_over_rest_and_xmlrpc(rbac_on: Qorus) -> None:
    q = rbac_on
    api = f"{q.url}/api/latest"
    held = _held(api)
    assert set(held) == set(ROLES)
    order = _order(api)
    failures: list[str] = []
    for role in ROLES:
        auth = user_of(role)
        with _xmlrpc(q, auth) as proxy:
            for transport in ("rest", "xml-rpc"):
                for case in cases(order, f"{role}-{transport}"):
                    want = "allowed" if held[role] & set(case.needs) else "refused"
                    if transport == "rest":
                        got = _rest_outcome(_rest(api, case, auth))
                    elif case.rpc is None:
                        continue
                    else:
                        got = _rpc_outcome(proxy, case)
                    if got != want:
                        failures.append(f"{role} {transport} {case.area}: {got}, expected {want}")
    assert not failures, "\n".join(failures)
    # the table is not trivial: each role is refused something and allowed something
    for role in ROLES[1:]:
        needs = [set(c.needs) for c in cases(order, "x")]
        assert any(held[role] & n for n in needs) and not all(held[role] & n for n in needs)
    # what a refused call would have made does not exist
    users = httpx.get(f"{api}/users?list=true", auth=ADMIN, timeout=30).json()
    made = sorted(u for u in users if u.startswith("u-"))
    assert made == ["u-superuser-rest", "u-superuser-xml-rpc"]
    groups = httpx.get(f"{api}/groups?list=true", auth=ADMIN, timeout=30).json()
    assert sorted(g for g in groups if g.startswith("G-")) == [
        "G-operator-rest",
        "G-operator-xml-rpc",
        "G-superuser-rest",
        "G-superuser-xml-rpc",
    ]


def test_rbac_force_user_maps_unauthenticated_requests(
    omq_dir: Path, tmp_path: Path, start_qorus: Any
) -> None:
    _prepare(tmp_path, omq_dir)
    viewer = user_of("read-only")[0]
    q = start_qorus(
        omq_dir,
        "rbac-security=true",
        f"rbac-force-user=127.0.0.2={viewer}, 127.0.0.4=nobody-here",
        ready=False,
    )
    q.wait_ready(auth=ADMIN)
    api = f"{q.url}/api/latest"
    me = _from("127.0.0.2", "GET", f"{api}/users?action=current").json()
    assert me["username"] == viewer and "LOGIN" in me["permissions"]
    r = _from("127.0.0.2", "PUT", f"{api}/system?action=rotateLogFiles")
    assert r.status_code == 403 and r.json()["err"] == "AUTHORIZATION-ERROR"
    # from an address no entry matches, a login is still needed
    assert httpx.get(f"{api}/system/ping", timeout=30).status_code == 401
    # credentials given are checked as ever, even from a mapped address
    r = _from("127.0.0.2", "GET", f"{api}/system/ping", auth=("admin", "wrong"))
    assert r.status_code == 401
    r = _from("127.0.0.2", "GET", f"{api}/users?action=current", auth=ADMIN)
    assert r.json()["username"] == "admin"
    # a mapped user that does not exist is refused
    assert _from("127.0.0.4", "GET", f"{api}/system/ping").status_code == 401
    # XML-RPC from the mapped address: the same user
    with _xmlrpc(q, None, source="127.0.0.2") as proxy:
        assert proxy.omq.system.ping() == "OK"
        with pytest.raises(xmlrpc.client.Fault) as info:
            getattr(proxy, "omq.system.add-user")("x", PW, "x", ["read-only"])
    assert info.value.faultCode == AUTHZ_FAULT
    # the option changes at run time: 127.0.0.3 now acts as the maintenance user
    maint = user_of("maintenance")[0]
    r = httpx.put(
        f"{api}/system/options?action=set",
        json={"rbac-force-user": [f"127.0.0.3={maint}"]},
        auth=ADMIN,
        timeout=30,
    )
    assert r.status_code == 200, r.text
    r = _from("127.0.0.3", "PUT", f"{api}/system?action=rotateLogFiles")
    assert r.status_code == 200, r.text
    assert _from("127.0.0.2", "GET", f"{api}/system/ping").status_code == 401


def test_without_rbac_every_caller_may_do_everything(
    omq_dir: Path, tmp_path: Path, start_qorus: Any
) -> None:
    _prepare(tmp_path, omq_dir)
    q = start_qorus(omq_dir)
    api = f"{q.url}/api/latest"
    order = _order(api)
    for case in cases(order, "anon"):
        assert _rest_outcome(_rest(api, case, None)) == "allowed", case.area
    with _xmlrpc(q, None) as proxy:
        for case in cases(order, "anon-rpc"):
            if case.rpc is not None:
                assert _rpc_outcome(proxy, case) == "allowed", case.area
    me = httpx.get(f"{api}/users?action=current", timeout=30).json()
    assert me["username"] == "-" and "SHUTDOWN" in me["permissions"]
