"""What the Click entry points share: the $OMQ_DIR option, options loading, one-line errors."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from qorus_core.db import dberror
from qorus_core.model.errors import QorusError
from qorus_core.omqdir import OmqDir, resolve_omq_dir
from qorus_core.options import Options, load_options

F = TypeVar("F", bound=Callable[..., Any])

console = Console()
err_console = Console(stderr=True)


def qorus_dir_option(*names: str) -> Callable[[F], F]:
    """``--qorus-dir`` (and the tool's short name for it, when it has one), from ``OMQ_DIR``."""
    return click.option(
        *(names or ("--qorus-dir",)),
        "qorus_dir",
        envvar="OMQ_DIR",
        show_envvar=True,
        type=click.Path(file_okay=False),
        help="The Qorus directory ($OMQ_DIR); default ~/.qorus.",
    )


def datasource_option() -> Callable[[F], F]:
    """``-D/--datasource``: an offline tool's system datasource instead of ``qorus.systemdb``."""
    return click.option(
        "-D",
        "--datasource",
        envvar="QORUS_SYSTEMDB",
        show_envvar=True,
        help="System datasource to use instead of qorus.systemdb.",
    )


def usage_exit_command(exit_code: int) -> type[click.Command]:
    """A Click command class whose usage errors exit ``exit_code`` instead of Click's 2.

    Click's ``UsageError.exit_code`` is a class variable, so the error is re-raised as a
    subclass that carries the tool's code rather than mutated.
    """

    class _Usage(click.UsageError):
        pass

    _Usage.exit_code = exit_code

    class _Command(click.Command):
        def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
            try:
                return super().parse_args(ctx, args)
            except click.UsageError as exc:
                raise _Usage(exc.format_message(), exc.ctx) from exc

    return _Command


def fail(tool: str, message: str, code: int = 1) -> NoReturn:
    """One clear line on stderr, then exit with ``code``."""
    err_console.print(f"[bold red]{tool}:[/] {message}", highlight=False, soft_wrap=True)
    sys.exit(code)


def load_env(qorus_dir: str | None, overrides: Sequence[str] = ()) -> tuple[OmqDir, Options]:
    omq = resolve_omq_dir(qorus_dir)
    return omq, load_options(omq, overrides)


def guarded(tool: str, code: int = 1) -> Callable[[F], F]:
    """Turn a QorusError escaping a command into one line and exit ``code``."""

    def deco(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except QorusError as exc:
                fail(tool, exc.desc, code)
            except SQLAlchemyError as exc:
                fail(tool, dberror.message(exc), code)

        return wrapper  # type: ignore[return-value]

    return deco
