"""``qrest``: one REST call to the running server, the answer pretty-printed.

``qrest [opts] [get|put|post|delete] PATH|URL [ARGS...]``; GET by default, ``/api/latest``
added to a bare path. ARGS are ``key=value`` pairs (values read as YAML, so ``args='[1, 2]'``
is a list) or one YAML/JSON body. Exit codes: 0 OK, 1 REST error (``err: desc`` printed),
2 anything else (server down, bad arguments).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import click
import yaml
from rich.syntax import Syntax

from qorus_cli.common import console, err_console
from qorus_core.client import QorusClient, QorusRestError, ServerUnreachable
from qorus_core.model.errors import QorusError
from qorus_core.omqdir import resolve_omq_dir

TOOL = "qrest"
METHODS = ("get", "put", "post", "delete")


def _fail(message: str, code: int) -> None:
    err_console.print(f"[bold red]{TOOL}:[/] {message}", highlight=False, soft_wrap=True)
    sys.exit(code)


def _yaml_value(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_args(method: str, items: Sequence[str]) -> tuple[dict[str, Any] | None, Any]:
    """(key=value arguments, body). GET keeps values as text for the query string."""
    if not items:
        return None, None
    if len(items) == 1 and "=" not in items[0].split(":", 1)[0].split("{", 1)[0]:
        body = _yaml_value(items[0])
        if method == "GET":
            if not isinstance(body, dict):
                raise click.UsageError("a GET body must be a hash of arguments")
            return {str(k): v for k, v in body.items()}, None
        return None, body
    args: dict[str, Any] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise click.UsageError(f"argument {item!r} is not key=value")
        args[key] = value if method == "GET" else _yaml_value(value)
    return args, None


def _render(value: Any, as_json: bool) -> None:
    if as_json:
        text = json.dumps(value, indent=2, default=str)
        lexer = "json"
    elif isinstance(value, (dict, list)):
        text = yaml.safe_dump(value, default_flow_style=False, sort_keys=False).rstrip()
        lexer = "yaml"
    else:
        text = "" if value is None else str(value)
        lexer = ""
    if console.is_terminal and lexer:
        console.print(Syntax(text, lexer, background_color="default", word_wrap=True))
    else:
        click.echo(text)


@click.command(
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "QREST"}
)
@click.option("-u", "--url", envvar="QORUS_URL", show_envvar=True, help="Server URL.")
@click.option(
    "-U",
    "--user",
    envvar="QORUS_USER_PASS",
    show_envvar=True,
    metavar="USER:PASS",
    help="Log in as USER with PASS (else QORUS_USER/QORUS_PASS, ~/.netrc, a token).",
)
@click.option(
    "-k", "--token", envvar="QORUS_TOKEN", show_envvar=True, help="Authenticate with a token."
)
@click.option(
    "-p", "--proxy-url", envvar="QORUS_PROXY_URL", show_envvar=True, help="HTTP proxy URL."
)
@click.option(
    "-H",
    "--header",
    "headers",
    multiple=True,
    envvar="QREST_HEADER",
    show_envvar=True,
    metavar="NAME:VALUE",
    help="Add a request header (repeatable).",
)
@click.option(
    "-t",
    "--timeout",
    type=float,
    envvar="QORUS_TIMEOUT",
    show_envvar=True,
    help="Seconds to wait for the answer.",
)
@click.option(
    "-J",
    "--json",
    "as_json",
    is_flag=True,
    envvar="QREST_JSON",
    show_envvar=True,
    help="Print the answer as JSON.",
)
@click.option(
    "-W",
    "--show-url",
    is_flag=True,
    envvar="QREST_SHOW_URL",
    show_envvar=True,
    help="Print the URL called on stderr.",
)
@click.option(
    "--insecure",
    is_flag=True,
    envvar="QREST_INSECURE",
    show_envvar=True,
    help="Do not verify the server's TLS certificate.",
)
@click.option(
    "--qorus-dir",
    envvar="OMQ_DIR",
    show_envvar=True,
    type=click.Path(file_okay=False),
    help="The Qorus directory whose client options apply ($OMQ_DIR).",
)
@click.argument("words", nargs=-1, required=True, metavar="[get|put|post|delete] PATH [ARGS]...")
def main(
    url: str | None,
    user: str | None,
    token: str | None,
    proxy_url: str | None,
    headers: Sequence[str],
    timeout: float | None,
    as_json: bool,
    show_url: bool,
    insecure: bool,
    qorus_dir: str | None,
    words: Sequence[str],
) -> None:
    """Call the Qorus REST API, e.g. qrest system/ping or qrest put system/options/set a=1."""
    items = list(words)
    method = "GET"
    if items and items[0].lower() in METHODS:
        method = items.pop(0).upper()
    if not items:
        _fail("no PATH given", 2)
    path = items.pop(0)
    if path.startswith(("http://", "https://")):
        parts = urlsplit(path)
        url = f"{parts.scheme}://{parts.netloc}"
        path = parts.path + (f"?{parts.query}" if parts.query else "")
    hdrs: dict[str, str] = {}
    for h in headers:
        name, sep, value = h.partition(":")
        if not sep:
            _fail(f"header {h!r} is not NAME:VALUE", 2)
        hdrs[name.strip()] = value.strip()
    try:
        args, body = parse_args(method, items)
        kw: dict[str, Any] = {"url": url, "user": user, "token": token, "proxy": proxy_url}
        kw.update(headers=hdrs, verify=not insecure)
        if timeout:
            kw["timeout"] = timeout
        with QorusClient.from_env(resolve_omq_dir(qorus_dir), **kw) as client:
            if show_url:
                err_console.print(f"{method} {client.shown_url}{path}", highlight=False)
            answer = client.request(method, path, args, body)
    except click.UsageError as exc:
        _fail(exc.message, 2)
    except QorusRestError as exc:
        _fail(f"{exc.err}: {exc.desc} (HTTP {exc.status})", 1)
    except ServerUnreachable as exc:
        _fail(exc.desc, 2)
    except QorusError as exc:
        _fail(exc.desc, 2)
    _render(answer, as_json)


if __name__ == "__main__":
    main()
