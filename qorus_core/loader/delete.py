"""``oload -X TYPE:NAME[:VERSION]``: delete definitions, refusing what would break other data."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table, delete, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from qorus_core.db import tables as t
from qorus_core.db import wfcache
from qorus_core.loader import kinds
from qorus_core.model.errors import NotFoundError, ValidationError
from qorus_core.model.versions import sorted_by

#: what ``-X`` deletes besides the kinds: parts of a workflow, job or service
PARTS = ("wfinstances", "jobinstances", "method")


def types() -> tuple[str, ...]:
    """Every ``-X`` type: the kinds in registration order, then the parts."""
    return (*kinds.names(), *PARTS)


def _versioned(kind: str) -> bool:
    if kind in ("wfinstances", "jobinstances"):
        return True
    k = kinds.get(kind)
    return k is not None and k.versioned


_ORDER_CHILDREN: tuple[Table, ...] = (
    t.order_instance,
    t.order_instance_keys,
    t.order_unique_keys,
    t.order_instance_notes,
    t.sensitive_order_data,
    t.segment_instance,
    t.step_instance,
    t.error_instance,
    t.queue_data,
    t.step_instance_events,
    t.subworkflow_instance,
    t.order_feedback,
)


@dataclass(frozen=True)
class DeleteSpec:
    kind: str
    name: str
    version: str | None = None
    method: str | None = None

    @property
    def label(self) -> str:
        ref = self.name if self.version is None else f"{self.name}:{self.version}"
        return f"{self.kind} {ref}" + (f" method {self.method}" if self.method else "")


def parse_spec(text: str) -> DeleteSpec:
    parts = text.split(":")
    kind = parts[0].strip().lower()
    if kind not in types():
        raise ValidationError(f"cannot delete {kind!r}: types are {', '.join(types())}")
    if kind == "method":
        if len(parts) != 4 or not all(parts[1:]):
            raise ValidationError("delete a service method with method:SERVICE:VERSION:METHOD")
        return DeleteSpec(kind, parts[1], parts[2], parts[3])
    if len(parts) < 2 or not parts[1]:
        raise ValidationError(
            f"{text!r}: expected {kind}:NAME" + ("[:VERSION]" if _versioned(kind) else "")
        )
    if not _versioned(kind) and len(parts) > 2:
        raise ValidationError(f"{text!r}: a {kind} has no version; use {kind}:NAME")
    if len(parts) > 3:
        raise ValidationError(f"{text!r}: expected {kind}:NAME[:VERSION]")
    return DeleteSpec(kind, parts[1], parts[2] if len(parts) == 3 and parts[2] else None)


class Deleter:
    """Runs delete specs on one connection (the caller's transaction); ``done`` says what went."""

    def __init__(self, conn: Connection, specs: list[DeleteSpec], force: bool) -> None:
        self.conn = conn
        self.specs = specs
        self.force = force
        self.done: list[str] = []

    def run(self) -> list[str]:
        # order instances first, so "-X wfinstances:W -X workflow:W" works in either order
        for spec in sorted(self.specs, key=lambda s: s.kind not in ("wfinstances", "jobinstances")):
            kind = kinds.get(spec.kind)
            if kind is not None:
                kind.delete(self, spec)
            else:
                getattr(self, f"_{spec.kind}")(spec)
        return self.done

    # -------------------------------------------------------------- helpers

    def ids_of(self, table: Table, idcol: str, spec: DeleteSpec) -> list[tuple[int, str, str]]:
        q = select(table.c[idcol], table.c.name, table.c.version).where(table.c.name == spec.name)
        if spec.version is not None:
            q = q.where(table.c.version == spec.version)
        rows = sorted_by(((int(r[0]), r[1], r[2]) for r in self.conn.execute(q)), lambda r: r[2])
        if not rows:
            kind = spec.kind.replace("instances", "").replace("wf", "workflow")
            raise NotFoundError(
                f"{kind} {spec.name}{':' + spec.version if spec.version else ''} does not exist"
            )
        return rows

    def count(self, table: Table, *where: ColumnElement[bool]) -> int:
        q = select(func.count()).select_from(table).where(*where)
        return int(self.conn.execute(q).scalar_one())

    def wants_orders_deleted(self, name: str, version: str) -> bool:
        return any(
            s.kind == "wfinstances" and s.name == name and s.version in (None, version)
            for s in self.specs
        )

    def delete_orders(self, workflowid: int) -> int:
        wi = t.workflow_instance
        ids = select(wi.c.workflow_instanceid).where(wi.c.workflowid == workflowid)
        n = self.count(wi, wi.c.workflowid == workflowid)
        for table in _ORDER_CHILDREN:
            self.conn.execute(delete(table).where(table.c.workflow_instanceid.in_(ids)))
        self.conn.execute(delete(wi).where(wi.c.workflowid == workflowid))
        return n

    # -------------------------------------------------------------- types

    def _wfinstances(self, spec: DeleteSpec) -> None:
        for wid, name, version in self.ids_of(t.workflows, "workflowid", spec):
            n = self.delete_orders(wid)
            self.done.append(f"deleted {n} orders of workflow {name}:{version}")

    def _method(self, spec: DeleteSpec) -> None:
        for sid, name, version in self.ids_of(t.services, "serviceid", spec):
            m = t.service_methods
            n = self.conn.execute(
                delete(m).where(m.c.serviceid == sid, m.c.name == spec.method)
            ).rowcount
            if not n:
                raise NotFoundError(f"service {name}:{version} has no method {spec.method!r}")
            self.done.append(f"deleted method {spec.method} of service {name}:{version}")

    def delete_job_instances(self, jid: int) -> int:
        ji = t.job_instance
        ids = select(ji.c.job_instanceid).where(ji.c.jobid == jid)
        n = self.count(ji, ji.c.jobid == jid)
        self.conn.execute(delete(t.job_errors).where(t.job_errors.c.job_instanceid.in_(ids)))
        self.conn.execute(delete(ji).where(ji.c.jobid == jid))
        return n

    def _jobinstances(self, spec: DeleteSpec) -> None:
        for jid, name, version in self.ids_of(t.jobs, "jobid", spec):
            n = self.delete_job_instances(jid)
            self.done.append(f"deleted {n} instances of job {name}:{version}")

    def id_by_name(self, table: Table, idcol: str, spec: DeleteSpec) -> int:
        oid = self.conn.execute(
            select(table.c[idcol]).where(table.c.name == spec.name)
        ).scalar_one_or_none()
        if oid is None:
            raise NotFoundError(f"{spec.kind} {spec.name} does not exist")
        return int(oid)


def delete_objects(conn: Connection, specs: list[DeleteSpec], force: bool) -> list[str]:
    done = Deleter(conn, specs, force).run()
    wfcache.bump_stamp(conn)  # servers' cached workflow briefs are stale now
    return done
