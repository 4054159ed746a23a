"""``oload -R``: ask the running server to reset what was just loaded (PUT ?action=reset).

A server that is not running is not an error: the definitions are in the schema and the server
reads them when it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from qorus_core.client import QorusClient, QorusRestError, ServerUnreachable
from qorus_core.options import Options

PATHS = {"workflow": "workflows", "service": "services", "job": "jobs"}


@dataclass
class ReloadReport:
    reset: list[str]
    failed: list[str]
    unreachable: str | None = None


def reset_interfaces(
    url: str | None, objects: list[tuple[str, str]], options: Options | None = None
) -> ReloadReport:
    """PUT {workflows|services|jobs}/{name}?action=reset for each (kind, name), through the one
    REST client (URL, credentials and proxy as for ``qrest``)."""
    report = ReloadReport([], [])
    seen: set[tuple[str, str]] = set()
    with QorusClient.from_env(options=options, url=url) as client:
        for kind, name in objects:
            if (kind, name) in seen or kind not in PATHS:
                continue
            seen.add((kind, name))
            try:
                client.put(f"{PATHS[kind]}/{quote(name, safe='')}", action="reset")
            except ServerUnreachable as exc:
                report.unreachable = exc.desc
                return report
            except QorusRestError as exc:
                report.failed.append(f"{kind} {name}: HTTP {exc.status} {exc.err}: {exc.desc}")
            else:
                report.reset.append(f"{kind} {name}")
    return report
