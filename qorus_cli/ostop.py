"""``ostop [opts] ID... | NAME [VERSION]``, ``ostop -a``: stop workflow execution instances on
the running server (``PUT exec?action=stopMany`` / ``stopAll``) and print what was stopped
(``N workflow execution instances have been stopped``). Exit codes: 0 done, 1 bad arguments
or a REST error, 2 server unreachable."""

from __future__ import annotations

from typing import Any

import click

from qorus_cli.common import fail
from qorus_cli.wfclient import call, client_options

TOOL = "ostop"


def targets(words: tuple[str, ...]) -> list[Any]:
    """Execution ids, or one workflow ``NAME[:VERSION]`` (a separate VERSION is joined)."""
    if all(w.isdigit() for w in words):
        return [int(w) for w in words]
    if len(words) > 2:
        raise click.UsageError(f"excess arguments on the command line: {' '.join(words[2:])}")
    if len(words) == 2:
        return [f"{words[0]}:{words[1]}"]
    return [words[0]]


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-a",
    "--all",
    "stop_all",
    is_flag=True,
    envvar="OSTOP_ALL",
    show_envvar=True,
    help="Stop every execution instance.",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    envvar="OSTOP_VERBOSE",
    show_envvar=True,
    help="Also print the instances stopped per workflow.",
)
@client_options
@click.argument("words", nargs=-1, metavar="ID... | NAME [VERSION]")
def main(words: tuple[str, ...], stop_all: bool, verbose: bool, **conn: Any) -> None:
    """Stop workflow execution instances, e.g. ostop 3, ostop ORDER-FULFILMENT 1.0, ostop -a."""
    if stop_all and words:
        fail(TOOL, f"excess arguments on the command line, aborting: {' '.join(words)}", 1)
    if not stop_all and not words and not conn.get("show_url"):
        fail(TOOL, "give an execution ID or a workflow NAME [VERSION], or -a", 1)
    if stop_all:
        res = call(TOOL, conn, "exec?action=stopAll", {})
    else:
        try:
            args = targets(words) if words else []
        except click.UsageError as exc:
            fail(TOOL, exc.message, 1)
        res = call(TOOL, conn, "exec?action=stopMany", {"args": args})
    click.echo(res["msg"])
    if verbose:
        for wf, ids in (res.get("workflows") or {}).items():
            click.echo(f"{wf}: {', '.join(map(str, ids))}")


if __name__ == "__main__":
    main()
