"""``ostart [opts] NAME [VERSION] [MODE] [option=value ...]``: start a workflow execution
instance on the running server (``PUT workflows/NAME[:VERSION]?action=start``) and print
``started NAME vVERSION with ID N``. MODE is NORMAL (default) or RECOVERY; a second word that
is a mode is the mode, not a version. ``option=value`` words are workflow options (values read
as YAML). Exit codes: 0 started, 1 bad arguments or a REST error, 2 server unreachable."""

from __future__ import annotations

from typing import Any

import click
import yaml

from qorus_cli.common import fail
from qorus_cli.wfclient import call, client_options

TOOL = "ostart"
MODES = ("NORMAL", "RECOVERY")


def parse_words(words: tuple[str, ...]) -> dict[str, Any]:
    """NAME [VERSION] [MODE] [option=value ...] as the real tool reads them."""
    out: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for word in words:
        name, eq, value = word.partition("=")
        if eq and name:
            try:
                options[name] = yaml.safe_load(value)
            except yaml.YAMLError:
                options[name] = value
        elif "name" not in out:
            out["name"] = word
        elif "version" not in out and "mode" not in out:
            if word.upper() in MODES:
                out["mode"] = word.upper()
            else:
                out["version"] = word
        elif "mode" not in out:
            out["mode"] = word.upper()
        else:
            raise click.UsageError(f"extra argument {word!r} after the mode")
    if "name" not in out:
        raise click.UsageError("no workflow NAME given")
    if options:
        out["options"] = options
    return out


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@client_options
@click.argument("words", nargs=-1, metavar="NAME [VERSION] [MODE] [option=value ...]")
def main(words: tuple[str, ...], **conn: Any) -> None:
    """Start a workflow execution instance, e.g. ostart ORDER-FULFILMENT 1.0."""
    if not words and not conn.get("show_url"):
        fail(TOOL, "no workflow NAME given (ostart NAME [VERSION] [MODE])", 1)
    try:
        req = parse_words(words) if words else {"name": ""}
    except click.UsageError as exc:
        fail(TOOL, exc.message, 1)
    ref = req["name"] + (f":{req['version']}" if req.get("version") else "")
    args: dict[str, Any] = {"mode": req.get("mode", "NORMAL")}
    if req.get("options"):
        args["options"] = req["options"]
    res = call(TOOL, conn, f"workflows/{ref}?action=start", args)
    click.echo(f"started {res['name']} v{res['version']} with ID {res['ids'][0]}")


if __name__ == "__main__":
    main()
