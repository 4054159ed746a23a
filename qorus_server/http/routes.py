"""REST path resolution by the Qorus conventions, from the routes the registry declares.

``PUT path?action=X`` and ``PUT path/X`` are the same call. The answers when nothing fits:
an action that exists under another HTTP method -> 405; an action the resource lacks -> 501;
a resource that needs an action and got none -> 400; an unknown path -> 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qorus_core.model.errors import QorusError
from qorus_server.api.registry import Operation, Registry


class RestRouteError(QorusError):
    """A request that names no operation; ``http_status`` says why."""

    def __init__(self, status: int, code: str, desc: str) -> None:
        super().__init__(desc, code=code)
        self.http_status = status


@dataclass(frozen=True)
class _Entry:
    method: str
    segments: tuple[str, ...]
    action: str | None
    op: Operation

    @property
    def template(self) -> str:
        return "/".join(self.segments)


@dataclass(frozen=True)
class Match:
    op: Operation
    params: dict[str, str]
    action: str | None


def _match(tpl: tuple[str, ...], segs: Sequence[str]) -> dict[str, str] | None:
    if len(tpl) != len(segs):
        return None
    params: dict[str, str] = {}
    for t, s in zip(tpl, segs, strict=True):
        if t.startswith("{") and t.endswith("}"):
            params[t[1:-1]] = s
        elif t != s:
            return None
    return params


def _literal_score(entry: _Entry) -> int:
    return sum(1 for s in entry.segments if not s.startswith("{"))


class RestRouter:
    """Maps (method, path segments, action) to an operation of the registry."""

    def __init__(self, registry: Registry) -> None:
        self._entries: list[_Entry] = []
        for op in registry:
            for method, template, action in op.rest:
                segs = tuple(template.split("/")) if template else ()
                self._entries.append(_Entry(method, segs, action, op))
        # literal segments beat captures: system/options/set before system/options/{option}
        self._entries.sort(key=_literal_score, reverse=True)

    def resources(self) -> list[str]:
        """The top-level resources (``system``, ``public``, ...) for GET /api/latest."""
        return sorted({e.segments[0] for e in self._entries if e.segments})

    def _find(self, segs: Sequence[str], action: str | None) -> list[tuple[_Entry, dict[str, str]]]:
        out = []
        for e in self._entries:
            if e.action != action:
                continue
            params = _match(e.segments, segs)
            if params is not None:
                out.append((e, params))
        return out

    def _known(self, segs: Sequence[str]) -> list[_Entry]:
        return [e for e in self._entries if _match(e.segments, segs) is not None]

    @staticmethod
    def _pick(
        method: str, found: list[tuple[_Entry, dict[str, str]]]
    ) -> tuple[_Entry, dict[str, str]] | None:
        for e, params in found:
            if e.method == method:
                return e, params
        return None

    def resolve(self, method: str, segs: Sequence[str], action: str | None) -> Match:
        path = "/".join(segs)
        if action is not None:
            found = self._find(segs, action)
            hit = self._pick(method, found)
            if hit:
                return Match(hit[0].op, hit[1], action)
            if found:
                methods = sorted({e.method for e, _ in found})
                raise RestRouteError(
                    405,
                    "METHOD-NOT-ALLOWED",
                    f"action {action!r} of {path!r} needs HTTP {'/'.join(methods)}, not {method}",
                )
            if self._known(segs):
                raise RestRouteError(
                    501, "NOT-IMPLEMENTED", f"{path!r} has no action {action!r} ({method})"
                )
            raise RestRouteError(404, "NOT-FOUND", f"no REST resource {path!r}")
        direct = self._find(segs, None)
        hit = self._pick(method, direct)
        if hit:
            return Match(hit[0].op, hit[1], None)
        if segs:
            as_action = self._find(segs[:-1], segs[-1])
            hit = self._pick(method, as_action)
            if hit:
                return Match(hit[0].op, hit[1], segs[-1])
            if as_action:
                methods = sorted({e.method for e, _ in as_action})
                raise RestRouteError(
                    405,
                    "METHOD-NOT-ALLOWED",
                    f"action {segs[-1]!r} of {'/'.join(segs[:-1])!r} needs HTTP "
                    f"{'/'.join(methods)}, not {method}",
                )
        with_actions = sorted(
            {str(e.action) for e in self._known(segs) if e.method == method and e.action}
        )
        if with_actions:
            raise RestRouteError(
                400,
                "MISSING-ACTION",
                f"{method} {path!r} needs an action: {', '.join(with_actions)}",
            )
        if direct:
            methods = sorted({e.method for e, _ in direct})
            raise RestRouteError(
                405,
                "METHOD-NOT-ALLOWED",
                f"{path!r} answers HTTP {'/'.join(methods)}, not {method}",
            )
        if segs and method != "GET" and self._known(segs[:-1]):
            raise RestRouteError(
                501, "NOT-IMPLEMENTED", f"{'/'.join(segs[:-1])!r} has no action {segs[-1]!r}"
            )
        raise RestRouteError(404, "NOT-FOUND", f"no REST resource {path!r}")
