"""One oload run: collect the inputs, validate all of them, then store them in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from qorus_core.db import tables as t
from qorus_core.db import wfcache
from qorus_core.db.engine import READONLY
from qorus_core.loader import actions, kinds, release
from qorus_core.loader.catalog import Catalog, dumps
from qorus_core.loader.model import Definition, resolved_list
from qorus_core.loader.problems import LoadError, Problem, Problems
from qorus_core.loader.store import Outcome, Store
from qorus_core.loader.validate import validate


class Progress(Protocol):
    """Where a run reports its progress (the CLI shows a Rich progress bar)."""

    def phase(self, description: str, total: int) -> None: ...

    def advance(self) -> None: ...


class NoProgress:
    def phase(self, description: str, total: int) -> None:
        return None

    def advance(self) -> None:
        return None


@dataclass
class LoadResult:
    outcomes: list[Outcome] = field(default_factory=list)
    definitions: list[Definition] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    refresh: set[str] = field(default_factory=set)  # types the release asked to refresh
    errors_applied_to: list[int] = field(default_factory=list)  # workflows of earlier loads
    releases: list[int] = field(default_factory=list)  # ids of the releases recorded
    actions: list[release.Action] = field(default_factory=list)  # release lines run
    sql_statements: int = 0  # run by omquser-exec-sql lines

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def _check_other_files(inputs: release.Inputs, defs: list[Definition], problems: Problems) -> None:
    """Non-YAML files given (by a release, say) must be code files of definitions in the load."""
    code = {d.code_path for d in defs if d.code_path is not None}
    for path, origin in inputs.other_files:
        if path in code:
            continue
        problems.add(
            origin.rsplit(":", 1)[0] if ":" in origin else origin,
            f"{path.name}: not an interface definition (*.yaml), release (*.qrf) "
            "nor the code file of a definition in this load",
            release._line(origin),
        )


def prepare(
    conn: Connection, args: list[str], progress: Progress | None = None
) -> tuple[release.Inputs, list[Definition], Problems, actions.Parsed]:
    """Collect and validate; nothing is written."""
    problems = Problems()
    inputs = release.collect(args, problems)
    prog = progress or NoProgress()
    prog.phase("validating", len(inputs.yaml_files))
    defs = validate(inputs.yaml_files, Catalog.read(conn), problems, lambda _p: prog.advance())
    _check_other_files(inputs, defs, problems)
    parsed = actions.check(conn.dialect.name, inputs, problems)
    return inputs, defs, problems, parsed


def check(engine: Engine, args: list[str], progress: Progress | None = None) -> LoadResult:
    """``oload -l``: validate only."""
    with engine.connect().execution_options(**{READONLY: True}) as conn:
        inputs, defs, problems, _parsed = prepare(conn, args, progress)
        conn.rollback()
    if problems:
        raise LoadError(problems.items + problems.warnings)
    return LoadResult(
        definitions=defs, warnings=problems.warnings, refresh=inputs.refresh, actions=inputs.actions
    )


def load(
    engine: Engine,
    args: list[str],
    *,
    audit: bool = False,
    allow_redef: bool = False,
    progress: Progress | None = None,
) -> LoadResult:
    """Validate everything, then run the releases' SQL and checks and store everything in one
    transaction (or nothing)."""
    prog = progress or NoProgress()
    with engine.begin() as conn:
        inputs, defs, problems, parsed = prepare(conn, args, prog)
        if problems:
            raise LoadError(problems.items)
        if not defs and not inputs.actions:
            raise LoadError([Problem("oload", "nothing to load: no interface definition given")])
        if not allow_redef:
            _check_redefinitions(conn, defs, problems)
            if problems:
                raise LoadError(problems.items)
        actions.run(conn, inputs, parsed, problems)
        if problems:
            raise LoadError(problems.items)
        store = Store(conn, problems)
        ordered = sorted(defs, key=_stage)
        prog.phase("loading", len(ordered))
        outcomes = []
        for d in ordered:
            outcomes.append(store.store(d))
            prog.advance()
        store.memberships(outcomes)
        loaded_wf = {o.oid for o in outcomes if o.definition.kind == "workflow" and o.oid}
        applied = store.refresh_workflow_errors(loaded_wf)
        if audit:
            store.audit(outcomes)
        recorded = actions.record(conn, inputs, outcomes)
        wfcache.bump_stamp(conn)  # servers' cached workflow briefs are stale now
    by_def = {id(o.definition): o for o in outcomes}
    return LoadResult(
        outcomes=[by_def[id(d)] for d in defs],
        definitions=defs,
        warnings=problems.warnings,
        refresh=inputs.refresh,
        errors_applied_to=applied,
        releases=recorded,
        actions=inputs.actions,
        sql_statements=sum(len(v) for v in parsed.values()),
    )


def _stage(d: Definition) -> int:
    """Storage order: what a definition refers to is stored before it."""
    kind = kinds.get(d.kind)
    assert kind is not None, f"{d.kind} was validated but has no kind"
    return kind.stage


def _check_redefinitions(conn: Connection, defs: list[Definition], problems: Problems) -> None:
    """A workflow with orders keeps its step list unless --allow-redef: existing orders were
    created for those steps and segments."""
    w = t.workflows
    for d in defs:
        if d.kind != "workflow":
            continue
        found = conn.execute(
            select(w.c.workflowid, w.c.steps_def).where(
                w.c.name == d.name, w.c.version == d.version
            )
        ).first()
        if found is None:
            continue
        if found.steps_def == dumps(resolved_list(d.data["steps"], d.resolved)):
            continue
        orders = conn.execute(
            select(func.count())
            .select_from(t.workflow_instance)
            .where(t.workflow_instance.c.workflowid == found.workflowid)
        ).scalar_one()
        if orders:
            problems.add(
                d.path,
                f"{d.label} has {orders} orders and this changes its steps; use -A/--allow-redef "
                "to redefine it anyway, or load it with a new version",
                d.doc.mark("steps"),
            )
