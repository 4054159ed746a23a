"""``user-tool -s``: ask the running server to reload RBAC, checking first that it can.

The check comes before anything is written: a server that runs with ``rbac-security`` must
accept the login of ``user-tool`` (``QORUS_USER``/``QORUS_PASS``, ``QORUS_TOKEN`` or
``~/.netrc``), else the command is refused and the database left as it was. A user name and
password are traded for a login token first, so that a command changing that very user's
password can still ask for the reload afterwards (the reload then revokes the token).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from rich.markup import escape

from qorus_cli.common import console, fail
from qorus_core.client import QorusClient, QorusRestError, ServerUnreachable
from qorus_core.options import Options

TOOL = "user-tool"
_UNCHANGED = "; nothing was changed"


@dataclass
class Sync:
    """A client ready to ask for the reload; ``unreachable`` says why there is no server."""

    client: QorusClient
    unreachable: str | None = None
    logged_in: bool = False

    def abandon(self) -> None:
        """No reload after all (the change failed): end the token this tool logged in for."""
        with self.client:
            if self.logged_in:
                with contextlib.suppress(QorusRestError, ServerUnreachable):
                    self.client.post("logout")


def prepare(url: str | None, options: Options) -> Sync:
    """Reach the server and log in when it needs a login; refuse (exit 1 or 2) otherwise."""
    client = QorusClient.from_env(options=options, url=url)
    try:
        info = client.get("public/info")
    except ServerUnreachable as exc:
        return Sync(client, unreachable=exc.desc)
    except QorusRestError as exc:
        client.close()
        fail(
            TOOL,
            escape(
                f"the server at {client.shown_url} did not answer public/info "
                f"(HTTP {exc.status} {exc.err}: {exc.desc}){_UNCHANGED}"
            ),
            2,
        )
    if isinstance(info, dict) and info.get("noauth") is True:
        return Sync(client)
    try:
        if client.login_token():
            return Sync(client, logged_in=True)
        if client.has_token:
            client.get("system/ping")
            return Sync(client)
    except QorusRestError as exc:
        client.close()
        fail(
            TOOL,
            escape(
                f"the server at {client.shown_url} runs with rbac-security and refused the login "
                f"of -s: HTTP {exc.status} {exc.err}: {exc.desc}{_UNCHANGED}"
            ),
            1,
        )
    except ServerUnreachable as exc:
        client.close()
        fail(TOOL, escape(f"{exc.desc}{_UNCHANGED}"), 2)
    client.close()
    fail(
        TOOL,
        escape(
            f"the server at {client.shown_url} runs with rbac-security and -s has no credentials: "
            "set QORUS_USER and QORUS_PASS, or QORUS_TOKEN, or a ~/.netrc entry for its host"
            f"{_UNCHANGED}"
        ),
        1,
    )


def synchronize(sync: Sync, quiet: bool) -> None:
    """Ask for the reload; none listening is fine (the change is stored)."""
    client = sync.client
    with client:
        if sync.unreachable is not None:
            _stored(sync.unreachable)
            return
        try:
            client.put("system/reloadRbac")
        except ServerUnreachable as exc:
            _stored(exc.desc)
            return
        except QorusRestError as exc:
            fail(
                TOOL,
                escape(
                    f"the server at {client.shown_url} refused to reload RBAC: "
                    f"HTTP {exc.status} {exc.err}: {exc.desc}"
                ),
                2,
            )
        finally:
            if sync.logged_in:
                # the reload may have revoked the token already (a changed password)
                with contextlib.suppress(QorusRestError, ServerUnreachable):
                    client.post("logout")
    if not quiet:
        console.print(f"RBAC reloaded on {client.shown_url}", highlight=False, markup=False)


def _stored(reason: str) -> None:
    console.print(
        f"{reason}: the RBAC data in the database are up to date and take effect "
        "when the server starts",
        highlight=False,
        markup=False,
    )
