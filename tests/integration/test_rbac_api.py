"""RBAC over the system API through the registry (the operations REST and every RPC protocol
call): users, roles and permissions created, read, changed and deleted with ``user-tool``'s
rules, their refusals with the right status and nothing changed, passwords never answered
nor audited, tokens ended by a new password or new roles, the permissions each change needs."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core import rbac
from qorus_core.db import tables as t
from qorus_core.model.errors import QorusError
from qorus_server.api import REGISTRY, CallContext
from tests.helpers.engine import TestServer, make_server
from tests.integration.rbac_helpers import snapshot

pytestmark = pytest.mark.integration

PW = "Str0ng-Passw0rd"


@pytest.fixture
def server(engine: Engine) -> TestServer:
    return make_server(engine, audit=["api", "groups"], **{"rbac-security": True})


def principal(engine: Engine, name: str) -> rbac.Principal:
    with engine.connect() as conn:
        return rbac.load_principal(conn, name)


@pytest.fixture
def admin(engine: Engine) -> rbac.Principal:
    with engine.begin() as conn:
        rbac.add_user(conn, "admin", PW, ["superuser"], "Admin", policy=rbac.PasswordPolicy())
        rbac.add_user(conn, "viewer", PW, ["read-only"], "Viewer", policy=rbac.PasswordPolicy())
    return principal(engine, "admin")


def call(server: TestServer, op: str, user: Any, /, **args: Any) -> Any:
    ctx = CallContext(server=server, user=user, transport="rest", source="127.0.0.1:5000")
    return REGISTRY.call(op, ctx, args)


def refused(server: TestServer, op: str, user: Any, /, **args: Any) -> QorusError:
    before = snapshot(server.engine)
    with pytest.raises(QorusError) as info:
        call(server, op, user, **args)
    assert snapshot(server.engine) == before, f"{op} changed RBAC rows although refused"
    return info.value


def api_rows(engine: Engine) -> list[str]:
    """The API-CALL rows: their arguments and operation."""
    ae = t.audit_events
    with engine.connect() as conn:
        rows = conn.execute(select(ae.c.info1, ae.c.info2).where(ae.c.audit_event_code == 15))
        return [f"{r[0]} {r[1]}" for r in rows]


def test_users_crud_with_the_model_rules(server: TestServer, admin: rbac.Principal) -> None:
    made = call(
        server, "users.add", admin, username="bob", name="Bob", roles="operator", **{"pass": PW}
    )
    assert made["username"] == "bob" and made["roles"] == ["operator"] and made["has_default"]
    assert "pass" not in made and "password" not in made
    listed = call(server, "users.list", admin)
    assert [u["username"] for u in listed] == ["admin", "bob", "viewer"]
    assert call(server, "users.list", admin, list=True) == ["admin", "bob", "viewer"]
    info = call(server, "users.info", admin, username="bob")
    assert "WORKFLOW-CONTROL" in info["permissions"] and "START-WORKFLOW" in info["permissions"]
    assert info["groups"] == ["DEFAULT"] and info["all_interfaces"]
    assert not any("Passw0rd" in repr(v) for v in (made, listed, info))

    # relative and replacing role edits, description, password: the same syntax as user-tool
    out = call(server, "users.update", admin, username="bob", roles="+read-only")
    assert out["roles"] == ["operator", "read-only"]
    out = call(server, "users.update", admin, username="bob", roles=["-operator"])
    assert out["roles"] == ["read-only"]
    out = call(server, "users.update", admin, username="bob", name="Robert", roles="remote")
    assert out["name"] == "Robert" and out["roles"] == ["remote"]
    call(server, "users.update", admin, username="bob", **{"pass": "An0ther-Secret"})
    with server.engine.connect() as conn:
        assert rbac.authenticate(conn, "bob", "An0ther-Secret").username == "bob"

    assert call(server, "users.delete", admin, username="bob")["info"] == "user 'bob' deleted"
    assert [u["username"] for u in call(server, "users.list", admin)] == ["admin", "viewer"]
    # every change audited (API-CALL), never with the password
    rows = api_rows(server.engine)
    assert len(rows) >= 6 and not any("Passw0rd" in r or "An0ther" in r for r in rows)
    assert any("********" in r for r in rows)


def test_user_refusals_answer_their_status_and_change_nothing(
    server: TestServer, admin: rbac.Principal
) -> None:
    add = {"username": "carl", "roles": "read-only", "pass": PW}
    call(server, "users.add", admin, **add)
    # duplicate 409, unknown role 404, weak password and bad names 400
    assert refused(server, "users.add", admin, **add).http_status == 409
    e = refused(server, "users.add", admin, **{**add, "username": "dan", "roles": "nope"})
    assert e.http_status == 404 and "nope" in e.desc
    e = refused(server, "users.add", admin, **{**add, "username": "dan", "pass": "short"})
    assert e.http_status == 400 and e.code == "PASSWORD-POLICY-ERROR" and "short" not in e.desc
    e = refused(server, "users.add", admin, **{**add, "username": "bad:name"})
    assert e.http_status == 400
    assert refused(server, "users.add", admin, username="dan", roles="read-only").http_status == 400
    e = refused(server, "users.add", admin, **{**add, "username": "dan", "roles": []})
    assert e.http_status == 400 and "role" in e.desc
    e = refused(server, "users.add", admin, **{**add, "username": "dan", "colour": "blue"})
    assert e.http_status == 400 and "colour" in e.desc
    e = refused(server, "users.add", admin, **{**add, "username": "dan", "password": PW})
    assert e.http_status == 400  # the password twice
    # unknown users 404; no change given 400; mixed relative edits 400; no role left 400
    assert refused(server, "users.update", admin, username="zed", name="x").http_status == 404
    assert refused(server, "users.delete", admin, username="zed").http_status == 404
    assert refused(server, "users.info", admin, username="zed").http_status == 404
    assert refused(server, "users.update", admin, username="carl").http_status == 400
    e = refused(server, "users.update", admin, username="carl", roles="+operator,remote")
    assert e.http_status == 400 and "mix" in e.desc
    assert (
        refused(server, "users.update", admin, username="carl", roles="-read-only").http_status
        == 400
    )
    # a caller cannot delete itself
    e = refused(server, "users.delete", admin, username="admin")
    assert e.http_status == 409 and "itself" in e.desc
    # lacking the permission: 403 AUTHORIZATION-ERROR, whoever the target
    viewer = principal(server.engine, "viewer")
    for op, args in (
        ("users.add", {**add, "username": "eve"}),
        ("users.update", {"username": "admin", "pass": "Hijack3d-Pass"}),
        ("users.update", {"username": "viewer", "roles": "superuser"}),
        ("users.delete", {"username": "admin"}),
        ("roles.add", {"role": "r", "desc": "r"}),
        ("perms.add", {"name": "P", "desc": "p"}),
        ("system.reloadRbac", {}),
    ):
        e = refused(server, op, viewer, **args)
        assert e.code == "AUTHORIZATION-ERROR" and e.http_status == 403, op


def test_current_user_with_and_without_rbac(server: TestServer, admin: rbac.Principal) -> None:
    viewer = principal(server.engine, "viewer")
    me = call(server, "users.current", viewer)
    assert me["username"] == "viewer" and me["roles"] == ["read-only"]
    assert me["provider"] == "db" and me["rbac-security"] is True
    assert "LOGIN" in me["permissions"] and "SHUTDOWN" not in me["permissions"]
    # RBAC off: the anonymous caller holds every permission
    anon = call(make_server(server.engine), "users.current", None)
    assert anon["username"] == "-" and anon["rbac-security"] is False
    with server.engine.connect() as conn:
        every = set(conn.execute(select(t.permissions.c.name)).scalars())
    assert set(anon["permissions"]) == every


def test_roles_and_permissions(server: TestServer, admin: rbac.Principal) -> None:
    perm = call(server, "perms.add", admin, name="MY-PERM", desc="mine")
    assert perm == {
        "name": "MY-PERM",
        "permission_type": "USER",
        "desc": "mine",
        "includes": [],
        "roles": [],
    }
    role = call(
        server,
        "roles.add",
        admin,
        role="auditor",
        desc="reads",
        permissions=["LOGIN", "MY-PERM"],
        groups="DEFAULT",
    )
    assert role["permissions"] == ["LOGIN", "MY-PERM"] and role["groups"] == ["DEFAULT"]
    out = call(server, "roles.update", admin, role="auditor", permissions="+WORKFLOW-CONTROL")
    assert out["permissions"] == ["LOGIN", "MY-PERM", "WORKFLOW-CONTROL"]
    assert call(server, "roles.info", admin, role="auditor")["desc"] == "reads"
    assert "auditor" in call(server, "roles.list", admin, list="true")
    assert call(server, "perms.update", admin, name="MY-PERM", desc="ours")["desc"] == "ours"
    assert call(server, "perms.info", admin, name="MY-PERM")["roles"] == ["auditor"]
    system = call(server, "perms.info", admin, name="WORKFLOW-CONTROL")
    assert system["permission_type"] == "SYSTEM" and "WORKFLOW-EXEC-CONTROL" in system["includes"]

    # system permissions cannot change; a held permission or role needs cascade
    assert refused(server, "perms.update", admin, name="LOGIN", desc="x").http_status == 409
    assert refused(server, "perms.delete", admin, name="LOGIN").http_status == 409
    assert refused(server, "perms.add", admin, name="login", desc="x").http_status == 409
    assert refused(server, "perms.delete", admin, name="MY-PERM").http_status == 409
    assert refused(server, "perms.info", admin, name="NOPE").http_status == 404
    assert refused(server, "roles.add", admin, role="auditor", desc="x").http_status == 409
    e = refused(server, "roles.add", admin, role="x", desc="x", permissions="NOPE")
    assert e.http_status == 404
    e = refused(server, "roles.add", admin, role="x", desc="x", groups="NOGROUP")
    assert e.http_status == 404
    assert refused(server, "roles.update", admin, role="auditor").http_status == 400
    assert refused(server, "roles.update", admin, role="nope", desc="x").http_status == 404
    call(server, "users.add", admin, username="ann", roles="auditor", **{"pass": PW})
    assert refused(server, "roles.delete", admin, role="auditor").http_status == 409
    e = refused(server, "roles.add", admin, role="y", desc="d" * 241)
    assert e.http_status == 400 and "desc" in e.desc

    call(server, "perms.delete", admin, name="MY-PERM", cascade=True)
    assert call(server, "roles.info", admin, role="auditor")["permissions"] == [
        "LOGIN",
        "WORKFLOW-CONTROL",
    ]
    out = call(server, "roles.delete", admin, role="auditor", cascade="yes")
    assert out["users"] == 1


def test_a_new_password_or_new_roles_end_the_users_tokens(
    server: TestServer, admin: rbac.Principal
) -> None:
    logins = server.logins
    call(server, "users.add", admin, username="tom", roles="read-only", **{"pass": PW})
    tom = logins.password_login("tom", PW, "127.0.0.1", "test")
    first, second = logins.issue_token(tom), logins.issue_token(tom)
    other = logins.issue_token(logins.password_login("viewer", PW, "127.0.0.1", "test"))
    assert logins.token_login(first).username == "tom"
    # a description change keeps them
    out = call(server, "users.update", admin, username="tom", name="Tom")
    assert "tokens_ended" not in out and logins.token_login(first).username == "tom"
    out = call(server, "users.update", admin, username="tom", roles="remote")
    assert out["tokens_ended"] == 2
    for token in (first, second):
        with pytest.raises(QorusError) as info:
            logins.token_login(token)
        assert info.value.http_status == 401
    assert logins.token_login(other).username == "viewer"  # another user's token lives on
    third = logins.issue_token(logins.password_login("tom", PW, "127.0.0.1", "test"))
    out = call(server, "users.update", admin, username="tom", **{"pass": "N3w-Passw0rd!"})
    assert out["tokens_ended"] == 1
    with pytest.raises(QorusError):
        logins.token_login(third)
    with pytest.raises(QorusError):  # the old password no longer logs in
        logins.password_login("tom", PW, "127.0.0.1", "test")
    fourth = logins.issue_token(logins.password_login("tom", "N3w-Passw0rd!", "127.0.0.1", "t"))
    assert call(server, "users.delete", admin, username="tom")["tokens_ended"] == 1
    with pytest.raises(QorusError):
        logins.token_login(fourth)


def test_rpc_positional_forms(server: TestServer, admin: rbac.Principal) -> None:
    """omq.system.add-user(username, password, name, roles) and update-user(name, {hash})."""
    from qorus_server.api.rpc import resolve

    rpc = resolve(REGISTRY, "omq.system.add-user", ["uma", PW, "Uma", ["read-only"]])
    assert rpc.op.name == "users.add"
    ctx = CallContext(server=server, user=admin, transport="xml-rpc")
    assert REGISTRY.call(rpc.op, ctx, rpc.args)["username"] == "uma"
    rpc = resolve(REGISTRY, "omq.system.update-user", ["uma", {"roles": "+remote"}])
    assert REGISTRY.call(rpc.op, ctx, rpc.args)["roles"] == ["read-only", "remote"]
    rpc = resolve(REGISTRY, "omq.system.get-all-users", [])
    assert "uma" in [u["username"] for u in REGISTRY.call(rpc.op, ctx, rpc.args)]
    rpc = resolve(REGISTRY, "omq.system.add-role", ["rr", "a role", ["LOGIN"], ["DEFAULT"]])
    assert REGISTRY.call(rpc.op, ctx, rpc.args)["role"] == "rr"
    rpc = resolve(REGISTRY, "omq.system.delete-user", ["uma"])
    REGISTRY.call(rpc.op, ctx, rpc.args)
