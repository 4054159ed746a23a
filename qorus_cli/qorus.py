"""``qorus``: the server command (the only module that imports :mod:`qorus_server`).

Exit codes follow the real product: 0 OK, 1 no instance key, 2 bad db-max-threads, 3 system
datasource, 4 log files, 5 RBAC, 6 events, 7 application session, 8 command line, 9 options,
10 version shown, 99 other.
"""

from __future__ import annotations

import logging
import shutil
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import NoReturn

import click
from rich.console import Console
from rich.table import Table

from qorus_cli.common import usage_exit_command
from qorus_core.model.errors import OptionError
from qorus_core.omqdir import OmqDir, resolve_omq_dir
from qorus_core.options import OPTIONS, Options, default_text, format_value, load_options
from qorus_core.secrets import mask_option

EXIT_OK = 0
EXIT_COMMAND_LINE = 8
EXIT_OPTIONS = 9
EXIT_VERSION = 10
EXIT_OTHER = 99


def version() -> str:
    try:
        return metadata.version("qorus-py")
    except metadata.PackageNotFoundError:
        return "0.1.0"


_QorusCommand = usage_exit_command(EXIT_COMMAND_LINE)


def _shown(options: Options, name: str) -> str:
    spec = OPTIONS[name]
    value = mask_option(spec, options.get(name))
    text = value if isinstance(value, str) else format_value(spec, value)
    return text if text else "-"


def print_option_list(options: Options) -> None:
    """Print every option with its default, the value in force and where it came from."""
    out = sys.stdout
    width = None if out.isatty() else max(shutil.get_terminal_size((200, 24)).columns, 200)
    console = Console(file=out, width=width, highlight=False)
    title = f"options ({options.path})" if options.path else "options (no options file)"
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("option", no_wrap=True, style="bold")
    table.add_column("default", overflow="fold")
    table.add_column("value", overflow="fold")
    table.add_column("description", overflow="fold")
    for name, spec in OPTIONS.items():
        value = _shown(options, name)
        source = options.source(name)
        if source != "default":
            value = f"{value} ({source})"
        table.add_row(name, default_text(spec), value, spec.desc)
    console.print(table)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"qorus: {message}", err=True)
    sys.exit(code)


_LEVELS = {
    "FATAL": logging.CRITICAL,
    "CRITICAL": logging.CRITICAL,
    "ERROR": logging.ERROR,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "INFO": logging.INFO,
    "DEBUG": logging.DEBUG,
    "ALL": logging.DEBUG,
}


def _log_level(text: str | None) -> int:
    if text is None:
        return logging.INFO
    level = _LEVELS.get(text.strip().upper())
    if level is None:
        if text.strip().isdigit():
            return int(text)
        _fail(f"bad log level {text!r} (one of {', '.join(_LEVELS)})", EXIT_COMMAND_LINE)
    return level


def _start_server(omq: OmqDir, options: Options, foreground: bool, log_level: int) -> int:
    from qorus_server.server import run

    return run(omq, options, foreground=foreground, version=version(), log_level=log_level)


@click.command(
    cls=_QorusCommand,
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "QORUS"},
)
@click.option(
    "-d",
    "--qorus-dir",
    envvar="OMQ_DIR",
    show_envvar=True,
    type=click.Path(file_okay=False),
    help="The $OMQ_DIR to use (default ~/.qorus).",
)
@click.option(
    "-l",
    "--option-list",
    is_flag=True,
    envvar="QORUS_OPTION_LIST",
    show_envvar=True,
    help="Print every option with its default and the value in force, then exit.",
)
@click.option(
    "-V",
    "--version",
    "show_version",
    is_flag=True,
    envvar="QORUS_SHOW_VERSION",
    show_envvar=True,
    help="Print the version and exit (exit code 10).",
)
@click.option(
    "-f",
    "--foreground",
    is_flag=True,
    envvar="QORUS_FOREGROUND",
    show_envvar=True,
    help="Stay in the foreground (overrides daemon-mode).",
)
@click.option(
    "-L",
    "--log-level",
    envvar="QORUS_LOG_LEVEL",
    show_envvar=True,
    help="Level of the system log: FATAL, ERROR, WARN, INFO (default), DEBUG, ALL.",
)
@click.option(
    "-D",
    "--define",
    "defines",
    multiple=True,
    envvar="QORUS_DEFINE",
    show_envvar=True,
    metavar="NAME=VALUE",
    help="Add a named value to the defines option (repeatable).",
)
@click.argument("overrides", nargs=-1, metavar="[NAME=VALUE]...")
def main(
    qorus_dir: str | None,
    option_list: bool,
    show_version: bool,
    foreground: bool,
    log_level: str | None,
    defines: Sequence[str],
    overrides: Sequence[str],
) -> None:
    """Start the Qorus server, or inspect its options.

    NAME=VALUE arguments override the options file ($OMQ_DIR/etc/options); NAME may leave
    out the "qorus." domain, e.g. max-retries=3.
    """
    if show_version:
        click.echo(f"qorus {version()}")
        sys.exit(EXIT_VERSION)
    omq = resolve_omq_dir(qorus_dir)
    try:
        options = load_options(omq, overrides)
    except OptionError as exc:
        _fail(exc.desc, EXIT_OPTIONS)
    if option_list:
        print_option_list(options)
        sys.exit(EXIT_OK)
    if defines:
        values = dict(options.get("defines"))
        for item in defines:
            name, eq, value = item.partition("=")
            if not eq or not name.strip():
                _fail(f"-D {item!r}: expected NAME=VALUE", EXIT_COMMAND_LINE)
            values[name.strip()] = value
        try:
            options.set("defines", values)
        except OptionError as exc:
            _fail(exc.desc, EXIT_OPTIONS)
    level = _log_level(log_level)
    foreground = foreground or not options.get("daemon-mode")
    sys.exit(_start_server(omq, options, foreground, level))


if __name__ == "__main__":
    main()
