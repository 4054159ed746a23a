"""Errors definitions: a file of workflow errors (name, severity, status, retry delay), named
by workflows' ``errors:``; GLOBAL ones also update the global error table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import insert, select, update

from qorus_core.db import tables as t
from qorus_core.db.refdata import now
from qorus_core.loader import listing
from qorus_core.loader.delete import Deleter, DeleteSpec
from qorus_core.loader.kinds.registry import Kind
from qorus_core.loader.model import Definition
from qorus_core.loader.problems import Problems
from qorus_core.loader.store import Store
from qorus_core.loader.upsert import NEW, UNCHANGED, UPDATED
from qorus_core.model.errors import NotFoundError, ValidationError


def check(d: Definition, problems: Problems) -> None:
    seen: set[str] = set()
    for i, e in enumerate(d.data["errors"]):
        if e["name"] in seen:
            problems.add(d.path, f"error {e['name']!r} is defined twice", d.doc.mark("errors", i))
        seen.add(e["name"])
        if e.get("retry-delay") is not None:
            if e.get("status", "ERROR") != "RETRY":
                problems.add(
                    d.path,
                    "retry-delay is only allowed with status: RETRY",
                    d.doc.mark("errors", i, "retry-delay"),
                )
            elif e["retry-delay"] <= 0:
                problems.add(
                    d.path,
                    "retry-delay must be positive",
                    d.doc.mark("errors", i, "retry-delay"),
                )


def store(s: Store, d: Definition) -> tuple[int | None, str]:
    file_status = _errors_file(s, d)
    rows = [_error_row(e) for e in d.data["errors"]]
    cols = ["error", *(c for c in rows[0] if c != "error")] if rows else ["error"]
    stored = s.conn.execute(
        select(*(t.error_definitions.c[c] for c in cols)).where(
            t.error_definitions.c.name == d.name
        )
    ).all()
    new_set = sorted(
        tuple(int(v) if isinstance(v, bool) else v for v in (r[c] for c in cols)) for r in rows
    )
    old_set = sorted(tuple(int(v) if isinstance(v, bool) else v for v in row) for row in stored)
    status = file_status
    if new_set != old_set:
        ts = now()
        s.conn.execute(t.error_definitions.delete().where(t.error_definitions.c.name == d.name))
        if rows:
            s.conn.execute(
                insert(t.error_definitions),
                [{**r, "name": d.name, "source": str(d.path), "created": ts} for r in rows],
            )
        s.changed_errors.add(d.name)
        if status == UNCHANGED:
            status = UPDATED
    for r in rows:
        if r["level"] == "GLOBAL":
            _global_error(s, d, r)
    return None, status


def _errors_file(s: Store, d: Definition) -> str:
    """The error_files row of an errors definition (kept even when it lists no error, so
    that workflows can name its file); new, updated or unchanged."""
    ef = t.error_files
    row = {
        "file_name": d.path.name,
        "description": d.data.get("desc"),
        "source": str(d.path),
    }
    found = s.conn.execute(select(*(ef.c[c] for c in row)).where(ef.c.name == d.name)).first()
    if found is None:
        s.conn.execute(insert(ef).values(name=d.name, created=now(), **row))
        return NEW
    if tuple(found) == tuple(row.values()):
        return UNCHANGED
    s.conn.execute(update(ef).where(ef.c.name == d.name).values(modified=now(), **row))
    return UPDATED


def _global_error(s: Store, d: Definition, r: dict[str, Any]) -> None:
    g = t.global_workflow_errors
    found = s.conn.execute(
        select(
            g.c.builtin,
            g.c.description,
            g.c.severity,
            g.c.status,
            g.c.business,
            g.c.retry_delay,
        ).where(g.c.error == r["error"])
    ).first()
    values = {k: v for k, v in r.items() if k != "error"}
    if found is None:
        s.conn.execute(insert(g).values(**r, builtin=False, created=now()))
        return
    if tuple(found[1:]) == tuple(
        values[k] for k in ("description", "severity", "status", "business", "retry_delay")
    ):
        return
    s.conn.execute(update(g).where(g.c.error == r["error"]).values(**values, modified=now()))
    if found.builtin:
        s.problems.warn(d.path, f"built-in global error {r['error']} updated by this definition")


def _error_row(e: dict[str, Any]) -> dict[str, Any]:
    return {
        "error": e["name"],
        "description": e.get("desc"),
        "severity": e.get("severity", "MAJOR"),
        "status": e.get("status", "ERROR"),
        "business": bool(e.get("business", False)),
        "retry_delay": e.get("retry-delay"),
        "level": e.get("level", "AUTO"),
    }


def delete(dl: Deleter, spec: DeleteSpec) -> None:
    e, ef = t.error_definitions, t.error_files
    if not dl.count(ef, ef.c.name == spec.name):
        raise NotFoundError(f"errors {spec.name} does not exist")
    users = dl.conn.execute(
        select(t.workflows.c.name, t.workflows.c.version).where(
            t.workflows.c.errors_name == spec.name
        )
    ).all()
    if users and not dl.force:
        wfs = ", ".join(f"{n}:{v}" for n, v in users)
        raise ValidationError(f"errors {spec.name} is named by workflow {wfs}; use -f")
    dl.conn.execute(sql_delete(e).where(e.c.name == spec.name))
    dl.conn.execute(sql_delete(ef).where(ef.c.name == spec.name))
    dl.done.append(f"deleted errors {spec.name}")


KIND = Kind(
    "errors",
    store,
    delete,
    listing.errors,
    check=check,
    stage=3,
)
