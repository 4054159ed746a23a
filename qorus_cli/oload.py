"""``oload``: load interface definitions and releases into the system schema, list, delete."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from qorus_cli.common import (
    console,
    datasource_option,
    err_console,
    fail,
    guarded,
    load_env,
    qorus_dir_option,
)
from qorus_cli.oload_show import show_release
from qorus_core.db import schema
from qorus_core.db.audit import audit_codes
from qorus_core.db.engine import READONLY, check_connection
from qorus_core.db.refdata import get_schema_id
from qorus_core.loader import LoadError, LoadResult, check, load
from qorus_core.loader import delete_id as by_id
from qorus_core.loader.delete import delete_objects, parse_spec
from qorus_core.loader.listing import list_objects
from qorus_core.loader.reload import reset_interfaces
from qorus_core.model.errors import QorusError
from qorus_core.options import Options
from qorus_core.system import open_system_engine

TOOL = "oload"
#: show a progress bar from this many files on
PROGRESS_MIN_FILES = 20
_REFRESH = {"w": "workflow", "s": "service", "j": "job"}


class _Bar:
    """The Rich progress bar behind the loader's Progress protocol."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: Any = None

    def phase(self, description: str, total: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, visible=False)
        self.task = self.progress.add_task(description, total=total)

    def advance(self) -> None:
        self.progress.advance(self.task)


@click.command(
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "QORUS_OLOAD"}
)
@click.argument("files", nargs=-1, type=click.Path())
@qorus_dir_option()
@datasource_option()
@click.option(
    "-l",
    "--validate",
    is_flag=True,
    show_envvar=True,
    help="Parse and check the files only; write nothing.",
)
@click.option("-v", "--verbose", count=True, show_envvar=True, help="More output.")
@click.option("-q", "--quiet", is_flag=True, show_envvar=True, help="Print errors only.")
@click.option(
    "-A",
    "--allow-redef",
    is_flag=True,
    show_envvar=True,
    help="Allow changing the steps of a workflow that has orders (dangerous).",
)
@click.option(
    "-X",
    "--delete",
    "deletes",
    multiple=True,
    metavar="TYPE:NAME[:VERSION]",
    show_envvar=True,
    help="Delete an object: workflow, wfinstances, step, class, service, "
    "method (method:SVC:VER:METHOD), job, jobinstances, queue, event, group, errors.",
)
@click.option(
    "--delete-id",
    "delete_ids",
    multiple=True,
    metavar="TYPE:ID",
    envvar="QORUS_OLOAD_DELETE_ID",
    show_envvar=True,
    help=f"Delete an object by its id: {', '.join(by_id.types())} (checks as for -X).",
)
@click.option(
    "-L",
    "--list",
    "list_type",
    metavar="TYPE",
    show_envvar=True,
    help="List the objects of a type: workflow, step, service, job, class, queue, "
    "event, group, errors.",
)
@click.option(
    "-R",
    "--reload",
    is_flag=True,
    show_envvar=True,
    help="Ask the running server to reset the workflows, services and jobs loaded.",
)
@click.option(
    "-r",
    "--refresh",
    multiple=True,
    type=click.Choice(["w", "s", "j"]),
    show_envvar=True,
    help="With -R: reset only these types (w, s, j).",
)
@click.option(
    "-u", "--url", show_envvar=True, help="Server URL for -R (default: qorus-client.client-url)."
)
@click.option(
    "-s",
    "--show-release",
    "show",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[RELEASE]",
    envvar="QORUS_OLOAD_SHOW_RELEASE",
    show_envvar=True,
    help="List the releases loaded; with an id or a release file name, show what that "
    "release loaded (a .qrf file not loaded yet: what it would load).",
)
@click.option(
    "-f",
    "--force",
    is_flag=True,
    show_envvar=True,
    help="Delete even when orders, instances or users of the object exist.",
)
@guarded(TOOL, 2)
def main(
    files: tuple[str, ...],
    qorus_dir: str | None,
    datasource: str | None,
    validate: bool,
    verbose: int,
    quiet: bool,
    allow_redef: bool,
    deletes: tuple[str, ...],
    delete_ids: tuple[str, ...],
    list_type: str | None,
    reload: bool,
    refresh: tuple[str, ...],
    url: str | None,
    show: str | None,
    force: bool,
) -> None:
    """Load Qorus interface definitions (*.yaml with Python code) and releases (*.qrf)."""
    if not (files or deletes or delete_ids or list_type or show is not None):
        fail(
            TOOL,
            "nothing to do: give files to load, -X to delete, -L to list or -s to show releases "
            "(see -h)",
            1,
        )
    try:
        specs = [parse_spec(s) for s in deletes]
        ids = [by_id.parse_id_spec(s) for s in delete_ids]
    except QorusError as exc:
        fail(TOOL, escape(exc.desc), 1)
    omq, options = load_env(qorus_dir)
    engine = open_system_engine(omq, options, datasource)
    check_connection(engine)
    schema.check_current(engine)
    try:
        if list_type:
            _list(engine, list_type)
        if specs or ids:
            with engine.begin() as conn:
                try:
                    specs += [by_id.resolve(conn, kind, oid) for kind, oid in ids]
                    done = delete_objects(conn, specs, force)
                except QorusError as exc:
                    conn.rollback()
                    fail(TOOL, escape(f"{exc.desc}: nothing deleted"), 1)
            if not quiet:
                for line in done:
                    console.print(line, highlight=False)
        if files:
            result = _load(
                engine,
                list(files),
                validate,
                verbose,
                quiet,
                allow_redef,
                _audit_on(options.get("audit")),
            )
            if reload or result.refresh:
                kinds = {_REFRESH[r] for r in refresh} or result.refresh or set(_REFRESH.values())
                _reload(engine, url, options, result, kinds, quiet)
        if show is not None:
            show_release(engine, show)
    finally:
        engine.dispose()


def _audit_on(value: Any) -> bool:
    """Whether the ``audit`` option asks for SOURCE-FILE-LOADED rows (code ``oload``)."""
    return "oload" in audit_codes(value)


def _load(
    engine: Any,
    files: list[str],
    validate: bool,
    verbose: int,
    quiet: bool,
    allow_redef: bool,
    audit: bool,
) -> LoadResult:
    show_bar = not quiet and not verbose and sys.stderr.isatty()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console,
        transient=True,
        disable=not show_bar,
    )
    try:
        with bar:
            prog = _Bar(bar)
            if validate:
                result = check(engine, files, prog)
            else:
                result = load(engine, files, audit=audit, allow_redef=allow_redef, progress=prog)
    except LoadError as exc:
        for p in exc.problems:
            err_console.print(f"[bold red]error:[/] {p}", highlight=False, soft_wrap=True)
        fail(TOOL, exc.desc if not validate else exc.desc.replace(": nothing was loaded", ""), 1)
    for w in result.warnings:
        err_console.print(f"[yellow]warning:[/] {w}", highlight=False, soft_wrap=True)
    if quiet:
        return result
    if validate:
        console.print(f"{len(result.definitions)} definitions are valid", highlight=False)
        if verbose:
            for d in result.definitions:
                console.print(f"  ok  {d.label}  ({d.path})", highlight=False)
        return result
    if verbose or len(result.outcomes) <= PROGRESS_MIN_FILES:
        table = Table(title="oload")
        for col in ("type", "name", "version", "id", "result"):
            table.add_column(col)
        for o in result.outcomes:
            d = o.definition
            table.add_row(
                d.kind, d.name, d.version or "", "" if o.oid is None else str(o.oid), o.status
            )
        console.print(table)
    console.print(
        f"loaded {len(result.outcomes)} definitions: {result.count('new')} new, "
        f"{result.count('updated')} updated, {result.count('unchanged')} unchanged",
        highlight=False,
    )
    for act in result.actions:
        what = act.command if act.path is None else f"{act.command} {act.path.name}"
        console.print(f"ran {what} ({act.where})", highlight=False)
    if result.sql_statements:
        console.print(f"{result.sql_statements} SQL statements run", highlight=False)
    if result.errors_applied_to:
        console.print(
            f"error definitions re-applied to {len(result.errors_applied_to)} "
            "workflows of earlier loads",
            highlight=False,
        )
    return result


def _list(engine: Any, kind: str) -> None:
    with engine.connect().execution_options(**{READONLY: True}) as conn:
        try:
            titles, rows = list_objects(conn, kind)
        except QorusError as exc:
            fail(TOOL, exc.desc, 1)
    table = Table(title=f"{kind} ({len(rows)})")
    for c in titles:
        table.add_column(c)
    for r in rows:
        table.add_row(
            *(
                "" if v is None else f"{v:%Y-%m-%d %H:%M:%S}" if hasattr(v, "strftime") else str(v)
                for v in r
            )
        )
    console.print(table)


def _reload(
    engine: Any,
    url: str | None,
    options: Options,
    result: LoadResult,
    kinds: set[str],
    quiet: bool,
) -> None:
    objects = [
        (o.definition.kind, o.definition.name)
        for o in result.outcomes
        if o.definition.kind in kinds
    ]
    if not objects:
        return
    with engine.connect().execution_options(**{READONLY: True}) as conn:
        schema_id = get_schema_id(conn)
    report = reset_interfaces(url, objects, options, schema_id)
    if report.skipped:
        err_console.print(
            f"[yellow]warning:[/] {escape(report.skipped)}: not refreshing it; the definitions "
            "are loaded in this datasource",
            highlight=False,
        )
        return
    if report.unreachable:
        err_console.print(
            f"[yellow]warning:[/] {report.unreachable}; the definitions are loaded "
            "and the server reads them when it starts",
            highlight=False,
        )
        return
    for f in report.failed:
        err_console.print(f"[yellow]warning:[/] reset failed: {f}", highlight=False)
    if not quiet:
        for r in report.reset:
            console.print(f"reset {r}", highlight=False)


if __name__ == "__main__":
    main()
