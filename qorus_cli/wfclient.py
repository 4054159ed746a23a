"""What ``ostart`` and ``ostop`` share: the client options of the real tools (``-u``, ``-p``,
``-W``, ``-t``, ``-k``, plus qrest's ``-U``), one REST call, and the exit codes (1 a REST
error, printed as ``ERR: desc``; 2 the server cannot be reached)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import click

from qorus_cli.common import err_console, fail
from qorus_core.client import QorusClient, QorusRestError, ServerUnreachable
from qorus_core.model.errors import QorusError
from qorus_core.omqdir import resolve_omq_dir

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS: list[Callable[[Any], Any]] = [
    click.option("-u", "--url", envvar="QORUS_URL", show_envvar=True, help="Server URL."),
    click.option(
        "-U",
        "--user",
        envvar="QORUS_USER_PASS",
        show_envvar=True,
        metavar="USER:PASS",
        help="Log in as USER with PASS (else QORUS_USER/QORUS_PASS, ~/.netrc, a token).",
    ),
    click.option(
        "-k", "--token", envvar="QORUS_TOKEN", show_envvar=True, help="Authenticate with a token."
    ),
    click.option(
        "-p", "--proxy-url", envvar="QORUS_PROXY_URL", show_envvar=True, help="HTTP proxy URL."
    ),
    click.option(
        "-t",
        "--timeout",
        type=int,
        envvar="QORUS_TIMEOUT",
        show_envvar=True,
        help="HTTP timeout in seconds.",
    ),
    click.option(
        "-W",
        "--show-url",
        is_flag=True,
        envvar="QORUS_SHOW_URL",
        show_envvar=True,
        help="Print the Qorus URL in use and exit.",
    ),
    click.option(
        "-l",
        "--literal",
        is_flag=True,
        envvar="QORUS_LITERAL",
        show_envvar=True,
        help="Print the REST call made (on stderr).",
    ),
    click.option(
        "--qorus-dir",
        envvar="OMQ_DIR",
        show_envvar=True,
        type=click.Path(file_okay=False),
        help="The Qorus directory whose client options apply ($OMQ_DIR).",
    ),
]


def client_options(fn: F) -> F:
    for opt in reversed(_OPTIONS):
        fn = opt(fn)
    return fn


def client(tool: str, conn: Mapping[str, Any]) -> QorusClient:
    """The REST client from the common options; ``-W`` prints its URL and exits 0."""
    kw: dict[str, Any] = {
        "url": conn.get("url"),
        "user": conn.get("user"),
        "token": conn.get("token"),
        "proxy": conn.get("proxy_url"),
    }
    if conn.get("timeout"):
        kw["timeout"] = float(conn["timeout"])
        kw["connect_timeout"] = float(conn["timeout"])
    try:
        c = QorusClient.from_env(resolve_omq_dir(conn.get("qorus_dir")), **kw)
    except QorusError as exc:
        fail(tool, exc.desc, 2)
    if conn.get("show_url"):
        click.echo(c.shown_url)
        c.close()
        raise SystemExit(0)
    return c


def call(tool: str, conn: Mapping[str, Any], path: str, args: dict[str, Any]) -> Any:
    """PUT ``path`` with ``args``; a REST error exits 1, an unreachable server 2."""
    with client(tool, conn) as c:
        if conn.get("literal"):
            err_console.print(f"PUT {c.shown_url}/api/latest/{path} {args}", highlight=False)
        try:
            return c.request("PUT", path, args)
        except QorusRestError as exc:
            fail(tool, f"{exc.err}: {exc.desc} (HTTP {exc.status})", 1)
        except ServerUnreachable as exc:
            fail(tool, exc.desc, 2)
        except QorusError as exc:
            fail(tool, exc.desc, 2)
