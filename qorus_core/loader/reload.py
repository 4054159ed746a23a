"""``oload -R``: ask the running server to reset what was just loaded (PUT ?action=reset).

A server that is not running is not an error: the definitions are in the schema and the server
reads them when it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import httpx

PATHS = {"workflow": "workflows", "service": "services", "job": "jobs"}


@dataclass
class ReloadReport:
    reset: list[str]
    failed: list[str]
    unreachable: str | None = None


def reset_interfaces(
    url: str, objects: list[tuple[str, str]], timeout: float = 10.0
) -> ReloadReport:
    """PUT {url}/api/latest/{workflows|services|jobs}/{name}?action=reset for each (kind, name)."""
    report = ReloadReport([], [])
    base = url.rstrip("/")
    seen: set[tuple[str, str]] = set()
    with httpx.Client(timeout=timeout) as client:
        for kind, name in objects:
            if (kind, name) in seen or kind not in PATHS:
                continue
            seen.add((kind, name))
            target = f"{base}/api/latest/{PATHS[kind]}/{quote(name, safe='')}"
            try:
                resp = client.put(target, params={"action": "reset"})
            except httpx.TransportError as exc:
                report.unreachable = (
                    f"the server at {base} is not reachable ({exc.__class__.__name__})"
                )
                return report
            if resp.is_success:
                report.reset.append(f"{kind} {name}")
            else:
                report.failed.append(f"{kind} {name}: HTTP {resp.status_code} {_reason(resp)}")
    return report


def _reason(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text.strip()[:200]
    if isinstance(body, dict):
        return str(body.get("desc") or body.get("err") or body)[:200]
    return str(body)[:200]
