"""Shared by the RBAC tests: interface rows to put in groups, and a snapshot of every RBAC row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.refdata import now

RBAC_TABLES = (
    t.users,
    t.user_roles,
    t.roles,
    t.role_permissions,
    t.permissions,
    t.permission_includes,
    t.groups,
    t.role_groups,
    t.group_workflows,
    t.group_services,
    t.group_jobs,
)


def add_interface(engine: Engine, kind: str, name: str, version: str, **extra: Any) -> int:
    """Insert a workflow, service or job row (the tests need members, not a loaded interface)."""
    table = {"workflow": t.workflows, "service": t.services, "job": t.jobs}[kind]
    values: dict[str, Any] = {"name": name, "version": version, "created": now()}
    if kind == "service":
        values["service_type"] = extra.pop("service_type", "USER")
    values.update(extra)
    with engine.begin() as conn:
        res = conn.execute(insert(table).values(**values))
        pk = res.inserted_primary_key
        assert pk is not None
        return int(pk[0])


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in RBAC_TABLES:
            rows = conn.execute(select(table)).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out
