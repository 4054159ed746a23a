"""The RBAC model on a real schema: umbrella expansion, group visibility, authentication."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core import rbac
from qorus_core.db import tables as t
from qorus_core.model.errors import AuthenticationError
from tests.integration.rbac_helpers import add_interface

pytestmark = pytest.mark.integration

POLICY = rbac.PasswordPolicy()


def test_effective_permissions_expand_umbrellas_transitively(engine: Engine) -> None:
    with engine.begin() as conn:
        rbac.add_permission(conn, "MY-PERM", "mine")
        rbac.add_role(conn, "wf", "workflows", ["WORKFLOW-CONTROL"], ["DEFAULT"])
        rbac.add_role(conn, "mine", "user permission", ["MY-PERM", "LOGIN"], [])
        rbac.add_user(conn, "ann", "pass-word-1", ["wf", "mine"], "Ann", policy=POLICY)
        p = rbac.load_principal(conn, "ann")
    assert p.roles == {"wf", "mine"}
    # WORKFLOW-CONTROL -> WORKFLOW-EXEC-CONTROL -> START-WORKFLOW (two levels)
    for perm in ("WORKFLOW-CONTROL", "WORKFLOW-EXEC-CONTROL", "START-WORKFLOW", "SKIP-STEP"):
        assert p.has(perm), perm
    assert p.has("MY-PERM") and p.has("LOGIN")
    assert not p.has("SERVICE-CONTROL") and not p.has("LOAD-SERVICE")
    assert isinstance(p.permissions, frozenset)


def test_superuser_role_has_every_system_permission(engine: Engine) -> None:
    with engine.begin() as conn:
        rbac.add_user(conn, "root", "pass-word-1", ["superuser"], policy=POLICY)
        p = rbac.load_principal(conn, "root")
        every = set(conn.execute(select(t.permissions.c.name)).scalars())
    assert p.permissions == every
    assert p.all_interfaces


def test_group_visibility(engine: Engine) -> None:
    wf1 = add_interface(engine, "workflow", "WF-ONE", "1.0")
    wf2 = add_interface(engine, "workflow", "WF-TWO", "1.0")
    svc = add_interface(engine, "service", "svc-one", "1.0")
    job = add_interface(engine, "job", "job-one", "1.0")
    with engine.begin() as conn:
        rbac.add_group(conn, "G1", "one", workflows=["WF-ONE"], services=["svc-one"])
        rbac.add_group(conn, "G2", "two", workflows=["WF-TWO"], jobs=["job-one"], enabled=False)
        rbac.add_role(conn, "r1", "sees G1", ["LOGIN"], ["G1"])
        rbac.add_role(conn, "r2", "sees G2 (disabled)", ["LOGIN"], ["G2"])
        rbac.add_role(conn, "all", "sees all", ["LOGIN"], ["DEFAULT", "G1"])
        rbac.add_user(conn, "u1", "pass-word-1", ["r1", "r2"], policy=POLICY)
        rbac.add_user(conn, "u2", "pass-word-1", ["r1", "all"], policy=POLICY)
        p1 = rbac.load_principal(conn, "u1")
        p2 = rbac.load_principal(conn, "u2")
    assert not p1.all_interfaces
    assert p1.sees_workflow(wf1) and p1.sees_service(svc)
    # G2 is disabled: its members are not visible through it
    assert not p1.sees_workflow(wf2) and not p1.sees_job(job)
    assert p1.workflow_ids == {wf1}
    g1 = _gid(engine, "G1")
    assert p1.group_ids == {g1}
    assert p2.all_interfaces
    assert p2.sees_workflow(wf2) and p2.sees_job(job)

    with engine.begin() as conn:
        rbac.set_group_enabled(conn, "G2", True)
        p1 = rbac.load_principal(conn, "u1")
    assert p1.sees_workflow(wf2) and p1.sees_job(job)


def _gid(engine: Engine, name: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(t.groups.c.groupid).where(t.groups.c.name == name)).one()[0])


def test_member_without_version_is_the_latest_version(engine: Engine) -> None:
    add_interface(engine, "workflow", "WF", "1.9")
    newest = add_interface(engine, "workflow", "WF", "1.10")
    old = add_interface(engine, "workflow", "WF", "1.2")
    with engine.begin() as conn:
        assert rbac.resolve_member(conn, "workflow", "WF").id == newest
        assert rbac.resolve_member(conn, "workflow", "WF:1.2").id == old
        with pytest.raises(rbac.RbacError, match="'NOPE'"):
            rbac.resolve_member(conn, "workflow", "NOPE")
        with pytest.raises(rbac.RbacError, match=r"'WF:3\.0'"):
            rbac.resolve_member(conn, "workflow", "WF:3.0")


def test_system_services_cannot_be_members(engine: Engine) -> None:
    add_interface(engine, "service", "info", "1.0", service_type="SYSTEM")
    with engine.begin() as conn, pytest.raises(rbac.RbacError, match="user service 'info'"):
        rbac.add_group(conn, "G", "d", services=["info"])


def test_authenticate(engine: Engine) -> None:
    with engine.begin() as conn:
        rbac.add_user(conn, "bob", "Corr3ct-horse", ["operator"], "Bob", policy=POLICY)
        stored = conn.execute(select(t.users.c.password)).scalar_one()
    assert stored.startswith("$argon2id$") and "Corr3ct-horse" not in stored
    p = rbac.authenticate(engine, "bob", "Corr3ct-horse")
    assert p.username == "bob" and p.description == "Bob"
    assert p.has("START-WORKFLOW") and p.all_interfaces
    with engine.connect() as conn:
        assert rbac.authenticate(conn, "bob", "Corr3ct-horse").roles == {"operator"}
    for user, pw in (("bob", "wrong-password"), ("nobody", "Corr3ct-horse"), ("bob", "")):
        with pytest.raises(AuthenticationError) as exc:
            rbac.authenticate(engine, user, pw)
        assert exc.value.code == "AUTHENTICATION-ERROR"
        assert exc.value.http_status == 401
        assert pw not in str(exc.value) or pw == ""


def test_load_principal_unknown_user(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(AuthenticationError):
        rbac.load_principal(conn, "ghost")


def test_user_permission_names_never_shadow_system_ones(engine: Engine) -> None:
    with engine.begin() as conn:
        with pytest.raises(rbac.RbacError, match="system permission 'LOGIN'"):
            rbac.add_permission(conn, "login", "x")
        rbac.add_permission(conn, "MINE", "x")
        with pytest.raises(rbac.RbacError, match="already exists"):
            rbac.add_permission(conn, "mine", "y")
