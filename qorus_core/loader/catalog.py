"""What the system schema already holds, so a load can refer to objects of earlier loads."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.loader import pycode
from qorus_core.loader.errorsref import ErrorsFile
from qorus_core.model.versions import latest_by


@dataclass
class StoredStep:
    stepid: int
    steptype: str


@dataclass
class Catalog:
    """Names and versions in the schema (empty when validating without a database)."""

    steps: dict[tuple[str, str], StoredStep] = field(default_factory=dict)
    classes: dict[tuple[str, str], tuple[str | None, str | None]] = field(default_factory=dict)
    workflows: set[tuple[str, str]] = field(default_factory=set)
    services: set[tuple[str, str]] = field(default_factory=set)
    jobs: set[tuple[str, str]] = field(default_factory=set)
    error_files: list[ErrorsFile] = field(default_factory=list)
    queues: set[str] = field(default_factory=set)
    events: set[str] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, conn: Connection) -> Catalog:
        cat = cls()
        for name, version, stepid, steptype in conn.execute(
            select(t.steps.c.name, t.steps.c.version, t.steps.c.stepid, t.steps.c.steptype)
        ):
            cat.steps[(name, version)] = StoredStep(int(stepid), steptype)
        for name, version, class_name, code in conn.execute(
            select(t.classes.c.name, t.classes.c.version, t.classes.c.class_name, t.classes.c.code)
        ):
            cat.classes[(name, version)] = (class_name, code)
        cat.workflows = {
            tuple(r) for r in conn.execute(select(t.workflows.c.name, t.workflows.c.version))
        }
        cat.services = {
            tuple(r) for r in conn.execute(select(t.services.c.name, t.services.c.version))
        }
        cat.jobs = {tuple(r) for r in conn.execute(select(t.jobs.c.name, t.jobs.c.version))}
        ef = t.error_files
        cat.error_files = [
            ErrorsFile(name, source or "")
            for name, source in conn.execute(select(ef.c.name, ef.c.source).order_by(ef.c.name))
        ]
        cat.queues = set(conn.execute(select(t.queues.c.name)).scalars())
        cat.events = set(conn.execute(select(t.workflow_event_types.c.name)).scalars())
        cat.groups = set(conn.execute(select(t.groups.c.name)).scalars())
        return cat

    def library_top_classes(self, name: str) -> dict[str, list[str]] | None:
        """Top classes of the latest stored library class called ``name`` (definition or
        class name) that has code."""
        found = self.library_code(name)
        return None if found is None else found[0]

    def library_code(self, name: str) -> pycode.CodeInfo | None:
        """Top classes of the latest stored library class called ``name`` (definition or
        class name) that has code, and the names they define."""
        found = [
            (v, code)
            for (n, v), (class_name, code) in self.classes.items()
            if name in (n, class_name) and code
        ]
        newest = latest_by(found, lambda c: c[0])
        if newest is None:
            return None
        try:
            tree = ast.parse(newest[1])
        except SyntaxError:
            return None
        return pycode.top_classes(tree), pycode.top_methods(tree)


def dumps(value: object) -> str:
    """JSON as stored in the schema: stable key order, so stored content can be compared."""
    return json.dumps(value, sort_keys=True, default=str)
