"""Writes checked definitions into the system schema (the caller owns the transaction)."""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from qorus_core.db import audit
from qorus_core.db import tables as t
from qorus_core.db.refdata import DEFAULT_GROUP_ID, now
from qorus_core.db.versions import find_version
from qorus_core.loader import kinds
from qorus_core.loader.catalog import dumps
from qorus_core.loader.model import Definition
from qorus_core.loader.problems import Problems
from qorus_core.loader.upsert import UNCHANGED, UPDATED
from qorus_core.model.refs import split_ref


@dataclass
class Outcome:
    """What happened to one definition."""

    definition: Definition
    oid: int | None
    status: str  # new updated unchanged


def _author(d: Definition) -> str | None:
    a = d.data.get("author")
    return ", ".join(str(x) for x in a) if a else None


def json_value(v: Any) -> str | None:
    return dumps(v) if v not in (None, [], {}) else None


def code_columns(d: Definition) -> dict[str, Any]:
    return {
        "description": d.data.get("desc"),
        "author": _author(d),
        "language": "python",
        "class_name": d.class_name,
        "code": d.code,
        "classes": json_value(d.data.get("classes")),
        "config_items": json_value(d.data.get("config-items")),
        "source": str(d.path),
    }


class Store:
    def __init__(self, conn: Connection, problems: Problems) -> None:
        self.conn = conn
        self.problems = problems
        self.ids: dict[tuple[str, str], int] = {}  # (kind, ref) -> id of what this load stored
        self.changed_errors: set[str] = set()

    # ------------------------------------------------------------------ lookups

    def id_of(self, kind: str, ref: str) -> int:
        """Id of a workflow/step/service/job/class by 'name[:version]' (latest when no version)."""
        name, version = split_ref(ref)
        k = kinds.get(kind)
        assert k is not None and k.table is not None, f"{kind} has no table"
        found = find_version(self.conn, k.table, name, version)
        assert found is not None, f"{kind} {ref} was validated but is not stored"
        return found[0]

    def named_id(self, table: Any, idcol: str, name: str) -> int:
        return int(
            self.conn.execute(select(table.c[idcol]).where(table.c.name == name)).scalar_one()
        )

    # ------------------------------------------------------------------ objects

    def store(self, d: Definition) -> Outcome:
        kind = kinds.get(d.kind)
        assert kind is not None, f"{d.kind} was validated but has no kind"
        oid, status = kind.store(self, d)
        if oid is not None:
            self.ids[(d.kind, d.ref)] = oid
        return Outcome(d, oid, status)

    def workflow_errors(self, errors_name: str | None) -> list[dict[str, Any]]:
        if not errors_name:
            return []
        e = t.error_definitions
        cols = ["error", "description", "severity", "status", "business", "retry_delay", "level"]
        return [
            dict(zip(cols, r, strict=True))
            for r in self.conn.execute(
                select(*(e.c[c] for c in cols)).where(
                    e.c.name == errors_name, e.c.level != "GLOBAL"
                )
            )
        ]

    # ------------------------------------------------------------------ after all objects

    def memberships(self, outcomes: list[Outcome]) -> None:
        """``groups:`` of workflows, services and jobs: add each to the groups it names."""
        for o in outcomes:
            d = o.definition
            if d.kind not in ("workflow", "service", "job") or o.oid is None:
                continue
            table = {
                "workflow": t.group_workflows,
                "service": t.group_services,
                "job": t.group_jobs,
            }[d.kind]
            col = f"{d.kind}id"
            for g in d.data.get("groups") or []:
                gid = self.named_id(t.groups, "groupid", g)
                if gid == DEFAULT_GROUP_ID:
                    continue
                have = self.conn.execute(
                    select(table.c.groupid).where(table.c.groupid == gid, table.c[col] == o.oid)
                ).first()
                if have is None:
                    self.conn.execute(insert(table).values(groupid=gid, **{col: o.oid}))
                    if o.status == UNCHANGED:
                        o.status = UPDATED

    def refresh_workflow_errors(self, loaded: set[int]) -> list[int]:
        """Workflows of earlier loads that name a changed errors file get its new definitions."""
        if not self.changed_errors:
            return []
        w = t.workflows
        done = []
        for wid, ename in self.conn.execute(
            select(w.c.workflowid, w.c.errors_name).where(w.c.errors_name.in_(self.changed_errors))
        ):
            if wid in loaded:
                continue
            self.conn.execute(
                t.workflow_errors.delete().where(t.workflow_errors.c.workflowid == wid)
            )
            rows = self.workflow_errors(ename)
            if rows:
                ts = now()
                self.conn.execute(
                    insert(t.workflow_errors),
                    [{**r, "workflowid": wid, "created": ts} for r in rows],
                )
            done.append(int(wid))
        return done

    def audit(self, outcomes: list[Outcome]) -> None:
        """One SOURCE-FILE-LOADED row per file loaded, in the load's transaction: ``reason``
        ``oload pid N``, ``who`` the UNIX user, ``source`` ``host:file``, ``info1`` the kind,
        ``info2`` ``name vVERSION (id) status``; the row names the workflow, step, service or
        job it stored."""
        who = _user()
        host = socket.gethostname()
        rows = []
        for o in outcomes:
            d = o.definition
            ver = f"v{d.version} " if d.version is not None else ""
            rows.append(
                audit.row(
                    "SOURCE-FILE-LOADED",
                    reason=f"oload pid {os.getpid()}",
                    who=who,
                    source=f"{host}:{d.path}",
                    info1=d.kind,
                    info2=f"{d.name} {ver}({o.oid}) {o.status}",
                    workflowid=o.oid if d.kind == "workflow" else None,
                    stepid=o.oid if d.kind == "step" else None,
                    serviceid=o.oid if d.kind == "service" else None,
                    jobid=o.oid if d.kind == "job" else None,
                )
            )
        audit.write_many(self.conn, rows)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
