"""``oload -R``: ask the running server to reset what was just loaded (PUT ?action=reset).

A server that is not running is not an error: the definitions are in the schema and the server
reads them when it starts. A server that runs on another system schema (``GET system`` reports
another ``schema-id``) is left alone: resetting it would reload definitions it never received.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from qorus_core.client import QorusClient, QorusRestError, ServerUnreachable
from qorus_core.options import Options

PATHS = {"workflow": "workflows", "service": "services", "job": "jobs"}


@dataclass
class ReloadReport:
    reset: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unreachable: str | None = None
    #: why nothing was asked of the server (another schema, no identity to compare)
    skipped: str | None = None


def schema_mismatch(url: str, info: Any, schema_id: str | None) -> str | None:
    """Why the server answering ``GET system`` with ``info`` must not be refreshed, or None."""
    theirs = info.get("schema-id") if isinstance(info, dict) else None
    if schema_id is None:
        return "the system schema has no schema id (create it with this release's schema-tool)"
    if not isinstance(theirs, str) or not theirs:
        return f"the server at {url} does not report its system schema (no schema-id in GET system)"
    if theirs != schema_id:
        return (
            f"the server at {url} runs on another system schema (schema-id {theirs[:12]}, "
            f"this datasource has {schema_id[:12]})"
        )
    return None


def reset_interfaces(
    url: str | None,
    objects: list[tuple[str, str]],
    options: Options | None = None,
    schema_id: str | None = None,
) -> ReloadReport:
    """PUT {workflows|services|jobs}/{name}?action=reset for each (kind, name), through the one
    REST client (URL, credentials and proxy as for ``qrest``), once ``GET system`` shows that the
    server uses the schema whose id is ``schema_id``."""
    report = ReloadReport()
    seen: set[tuple[str, str]] = set()
    with QorusClient.from_env(options=options, url=url) as client:
        try:
            info = client.get("system")
        except ServerUnreachable as exc:
            report.unreachable = exc.desc
            return report
        except QorusRestError as exc:
            report.skipped = (
                f"the server at {client.url} did not show its system info: "
                f"HTTP {exc.status} {exc.err}: {exc.desc}"
            )
            return report
        report.skipped = schema_mismatch(client.url, info, schema_id)
        if report.skipped:
            return report
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
