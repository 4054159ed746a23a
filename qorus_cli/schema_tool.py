"""``schema-tool``: create, upgrade, inspect, drop and recover the system schema, offline."""

from __future__ import annotations

import click
from rich.table import Table
from sqlalchemy.engine import Engine

from qorus_cli.common import (
    console,
    datasource_option,
    err_console,
    fail,
    guarded,
    load_env,
    qorus_dir_option,
)
from qorus_core.db import schema
from qorus_core.db import sessions as sess
from qorus_core.db.engine import check_connection, mask
from qorus_core.loader import LoadError
from qorus_core.loader.system_release import ensure_system_services
from qorus_core.system import open_system_engine

TOOL = "schema-tool"


@click.command(
    context_settings={
        "help_option_names": ["-h", "--help"],
        "auto_envvar_prefix": "QORUS_SCHEMA_TOOL",
    }
)
@qorus_dir_option()
@datasource_option()
@click.option(
    "-V",
    "-C",
    "-U",
    "--align-schema",
    "align",
    is_flag=True,
    show_envvar=True,
    help="Create or upgrade the system schema (a no-op when current).",
)
@click.option(
    "--drop-schema",
    "drop",
    is_flag=True,
    show_envvar=True,
    help="Drop every table of the system schema.",
)
@click.option("-f", "--force", is_flag=True, show_envvar=True, help="Do not ask for confirmation.")
@click.option(
    "-d",
    "--dry-run",
    "dry_run",
    is_flag=True,
    show_envvar=True,
    help="Print the DDL an align would run instead of running it.",
)
@click.option(
    "--sql",
    is_flag=True,
    show_envvar=True,
    help="Print the full DDL of the schema (offline with --dialect); with -V/-U, the DDL "
    "an upgrade would run, as -d.",
)
@click.option(
    "--dialect",
    type=click.Choice(schema.DIALECTS),
    show_envvar=True,
    help="Generate DDL for this database without connecting.",
)
@click.option(
    "-L", "--list-active", is_flag=True, show_envvar=True, help="List active application sessions."
)
@click.option(
    "-l",
    "--list-sessions",
    "list_sessions",
    is_flag=False,
    flag_value="0",
    default=None,
    metavar="[N]",
    show_envvar=True,
    help="List application sessions (the last N).",
)
@click.option(
    "--recover",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[INSTANCE]",
    show_envvar=True,
    help="Recover the crashed session of an instance key (default: qorus.instance-key).",
)
@click.option(
    "-v", "--verbose", count=True, show_envvar=True, help="Status: row counts of every table."
)
@guarded(TOOL, 2)
def main(
    qorus_dir: str | None,
    datasource: str | None,
    align: bool,
    drop: bool,
    force: bool,
    dry_run: bool,
    sql: bool,
    dialect: str | None,
    list_active: bool,
    list_sessions: str | None,
    recover: str | None,
    verbose: int,
) -> None:
    """Create, upgrade and inspect the Qorus system schema; with no option, print its status."""
    if dialect and not (sql or dry_run):
        fail(TOOL, "--dialect goes with --sql or --dry-run", 1)
    if (sql or dry_run) and dialect:
        click.echo(schema.offline_sql(dialect))
        return
    omq, options = load_env(qorus_dir)
    engine = open_system_engine(omq, options, datasource)
    check_connection(engine)
    if sql and not align:
        click.echo(schema.offline_sql(engine.dialect.name))
    elif drop:
        if not force and not click.confirm(
            f"Drop the system schema in {mask(engine.url)}? All data will be lost", default=False
        ):
            fail(TOOL, "not confirmed: nothing dropped (use -f to drop without asking)", 1)
        dropped = schema.drop(engine)
        console.print(f"dropped {len(dropped)} tables from {mask(engine.url)}")
    elif align:
        if dry_run or sql:
            out = schema.pending_sql(engine)
            click.echo(out if out else "-- the schema is current: nothing to do")
        elif schema.align(engine):
            console.print(f"system schema in {mask(engine.url)} is now current")
            _system_services(engine)
        else:
            console.print(f"system schema in {mask(engine.url)} is already current: nothing to do")
            _system_services(engine)
    elif dry_run:
        out = schema.pending_sql(engine)
        click.echo(out if out else "-- the schema is current: nothing to do")
    elif list_active or list_sessions is not None:
        with engine.connect() as conn:
            rows = sess.list_sessions(
                conn, active_only=list_active, limit=int(list_sessions or 0) or None
            )
        _print_sessions(rows)
    elif recover is not None:
        _recover(engine, recover or str(options.get("instance-key")), force)
    else:
        _print_status(schema.status(engine, all_tables=verbose > 0))
    engine.dispose()


def _system_services(engine: Engine) -> None:
    """Load the system services shipped with the product (``releases/system``); loading them
    again changes nothing unless they changed."""
    try:
        res = ensure_system_services(engine)
    except LoadError as exc:
        for p in exc.problems:
            err_console.print(f"{TOOL}: {p}", highlight=False, markup=False)
        fail(TOOL, "the system services could not be loaded", 1)
    if res is None:
        return
    if res.loaded:
        console.print(f"system services loaded: {', '.join(res.loaded)}")
    else:
        n = len(res.current)
        console.print(f"system services are current ({n} definition{'' if n == 1 else 's'})")


def _print_status(st: schema.SchemaStatus) -> None:
    table = Table(title="system schema", show_header=False)
    table.add_row("datasource", st.datasource)
    if not st.exists:
        table.add_row("schema", "[yellow]none[/] (create it with 'schema-tool -V')")
    else:
        table.add_row("schema version", str(st.version))
        table.add_row("revision", f"{st.revision} (this release: {st.head})")
        if st.newer:
            due = "[red]the schema is from a newer release[/]"
        else:
            due = "[yellow]yes: run 'schema-tool -V'[/]" if st.upgrade_due else "no"
        table.add_row("upgrade due", due)
        for name, count in st.counts.items():
            table.add_row(f"rows in {name}", str(count))
    console.print(table)


def _print_sessions(rows: list[sess.Session]) -> None:
    table = Table(title="application sessions")
    for col in ("id", "instance", "node", "host", "pid", "status", "started", "heartbeat", "ended"):
        table.add_column(col)
    for s in rows:
        table.add_row(
            str(s.sessionid),
            s.instancekey,
            s.node,
            s.hostname,
            str(s.pid),
            s.sessionstatus,
            f"{s.started:%Y-%m-%d %H:%M:%S}",
            f"{s.heartbeat:%Y-%m-%d %H:%M:%S}" if s.heartbeat else "",
            f"{s.ended:%Y-%m-%d %H:%M:%S}" if s.ended else "",
        )
    console.print(table if rows else "no sessions")


def _recover(engine: Engine, instancekey: str, force: bool) -> None:
    """Recover the crashed sessions of an instance; live ones (other nodes of a cluster) are
    left alone, and only refuse when nothing could be recovered."""
    with engine.begin() as conn:
        sess.lock_sessions(conn)
        active = sess.active_sessions(conn, instancekey)
        if not active:
            console.print(f"no open session for instance {instancekey!r}: nothing to recover")
            return
        dead, refused = [], []
        for s in active:
            alive = s.process_alive()
            where = f"session {s.sessionid} of {instancekey!r} (node {s.node})"
            if alive:
                refused.append(f"{where} is alive: pid {s.pid} on {s.hostname}")
            elif alive is None and not force and not s.heartbeat_stale(60):
                refused.append(
                    f"{where} runs on {s.hostname} (pid {s.pid}) and its heartbeat is recent; "
                    "use -f to recover it anyway"
                )
            else:
                dead.append(s)
        if not dead:
            fail(TOOL, "; ".join(refused), 1)
        for line in refused:
            err_console.print(f"{TOOL}: left alone: {line}", highlight=False)
        for s in dead:
            res = sess.recover_session(conn, s.sessionid)
            console.print(
                f"recovered session {s.sessionid}: {res.orders} orders, {res.segments} segments, "
                f"{res.steps} steps set to RETRY; {res.jobs} job instances set to CRASH"
            )


if __name__ == "__main__":
    main()
