"""REST path resolution by the Qorus conventions, from the routes the registry declares.

An action is reachable in two forms that mean the same call: ``METHOD path?action=X`` (the
form of the reference endpoint list) and ``METHOD path/X`` (the form ``qrest`` users type),
for each HTTP method the registry gives the action. The answers when nothing fits: an action
that exists under another HTTP method -> 405 (with the methods it takes); an action the
resource lacks -> 501 naming the action and the path; a resource that needs an action and got
none, an empty or malformed action, or a path and a query naming different actions -> 400; an
unknown path -> 404. Every message quotes the caller's text through a bounded excerpt.

Literal segments beat captures: when ``path/X`` is both a resource with a captured last
segment and the action ``X`` of ``path`` under the same method, the action wins
(``GET sync-events/events`` searches events; the event type named "events" is
``GET sync-events/events`` only by its id).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qorus_core.model.errors import QorusError
from qorus_core.model.excerpt import excerpt
from qorus_server.api.registry import Operation, Registry

ACTION_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
"""What an action name looks like (every action of the reference list is letters only)."""


class RestRouteError(QorusError):
    """A request that names no operation; ``http_status`` says why, ``allow`` the HTTP
    methods that would have worked (for a 405)."""

    def __init__(self, status: int, code: str, desc: str, allow: Sequence[str] = ()) -> None:
        super().__init__(desc, code=code)
        self.http_status = status
        self.allow = tuple(allow)


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


def _path(segs: Sequence[str]) -> str:
    return excerpt("/".join(segs))


def _not_allowed(what: str, methods: set[str], method: str) -> RestRouteError:
    allowed = sorted(methods)
    return RestRouteError(
        405,
        "METHOD-NOT-ALLOWED",
        f"{what} needs HTTP {'/'.join(allowed)}, not {method}",
        allow=allowed,
    )


def check_action(action: str, segs: Sequence[str]) -> None:
    """Refuse an action that cannot name one (empty, too long, odd characters) with 400."""
    if not action:
        raise RestRouteError(
            400, "INVALID-ARGUMENT", f"the action given for {_path(segs)} is empty"
        )
    if ACTION_RE.fullmatch(action) is None:
        raise RestRouteError(
            400,
            "INVALID-ARGUMENT",
            f"invalid action {excerpt(action)} for {_path(segs)}: an action is a name of "
            "letters, digits, '-' and '_' starting with a letter, at most 64 characters",
        )


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

    def _actions(self, segs: Sequence[str], method: str) -> list[str]:
        return sorted({str(e.action) for e in self._known(segs) if e.method == method and e.action})

    @staticmethod
    def _pick(
        method: str, found: list[tuple[_Entry, dict[str, str]]]
    ) -> tuple[_Entry, dict[str, str]] | None:
        for e, params in found:
            if e.method == method:
                return e, params
        return None

    def _no_action(self, method: str, segs: Sequence[str], action: str) -> RestRouteError:
        actions = self._actions(segs, method)
        known = f"; its {method} actions: {', '.join(actions)}" if actions else ""
        return RestRouteError(
            501,
            "NOT-IMPLEMENTED",
            f"{method} {_path(segs)} has no action {excerpt(action)}{known}",
        )

    def resolve(self, method: str, segs: Sequence[str], action: str | None) -> Match:
        """The operation ``method segs`` (``?action=`` ``action``) names, or a RestRouteError."""
        if action is not None:
            return self._resolve_action(method, segs, action)
        direct = self._find(segs, None)
        hit = self._pick(method, direct)
        as_action = self._find(segs[:-1], segs[-1]) if segs else []
        act = self._pick(method, as_action)
        # literal segments beat captures here too: ``GET sync-events/events`` is the action
        # ``events`` of ``sync-events``, not the event type named "events"
        if act and (hit is None or _literal_score(act[0]) + 1 > _literal_score(hit[0])):
            return Match(act[0].op, act[1], segs[-1])
        if hit:
            return Match(hit[0].op, hit[1], None)
        if as_action:
            raise _not_allowed(
                f"action {excerpt(segs[-1])} of {_path(segs[:-1])}",
                {e.method for e, _ in as_action},
                method,
            )
        with_actions = self._actions(segs, method)
        if with_actions:
            raise RestRouteError(
                400,
                "MISSING-ACTION",
                f"{method} {_path(segs)} needs an action: {', '.join(with_actions)}",
            )
        if direct:
            raise _not_allowed(_path(segs), {e.method for e, _ in direct}, method)
        if segs and method != "GET" and self._known(segs[:-1]):
            check_action(segs[-1], segs[:-1])
            raise self._no_action(method, segs[:-1], segs[-1])
        raise RestRouteError(404, "NOT-FOUND", f"no REST resource {_path(segs)}")

    def _resolve_action(self, method: str, segs: Sequence[str], action: str) -> Match:
        check_action(action, segs)
        found = self._find(segs, action)
        hit = self._pick(method, found)
        if hit:
            return Match(hit[0].op, hit[1], action)
        if found:
            raise _not_allowed(
                f"action {excerpt(action)} of {_path(segs)}", {e.method for e, _ in found}, method
            )
        if self._known(segs):
            raise self._no_action(method, segs, action)
        if segs and self._find(segs[:-1], segs[-1]):
            # ``path/X?action=Y``: the path already names action X
            if segs[-1] == action:
                return self.resolve(method, segs, None)
            raise RestRouteError(
                400,
                "INVALID-ARGUMENT",
                f"the path names action {excerpt(segs[-1])} of {_path(segs[:-1])} but the "
                f"query names action {excerpt(action)}: give one",
            )
        raise RestRouteError(404, "NOT-FOUND", f"no REST resource {_path(segs)}")
