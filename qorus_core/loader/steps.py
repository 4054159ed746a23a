"""A workflow's ``steps`` list -> step dependencies and segments.

The top list runs in series; a nested list is a set of parallel branches, and a branch that is
itself a list runs in series (and may again hold parallel sets). A new segment starts after every
ASYNC, EVENT or SUBWORKFLOW step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qorus_core.loader.yamlload import Key

SEGMENT_BREAKERS = frozenset({"ASYNC", "EVENT", "SUBWORKFLOW"})


class StepListError(Exception):
    def __init__(self, message: str, key: Key) -> None:
        super().__init__(message)
        self.message = message
        self.key = key


@dataclass
class StepGraph:
    """Steps in list order; ``deps[step]`` its direct predecessors (empty for a first step)."""

    order: list[str] = field(default_factory=list)
    deps: dict[str, list[str]] = field(default_factory=dict)
    keys: dict[str, Key] = field(default_factory=dict)  # where each step is written


def parse_steps(steps: Any, key: Key = ("steps",)) -> StepGraph:
    """Walk the list as written; raise StepListError on a malformed list or a repeated step."""
    g = StepGraph()
    if not isinstance(steps, list) or not steps:
        raise StepListError("steps must be a non-empty list", key)

    def add(ref: Any, preds: list[str], k: Key) -> list[str]:
        if not isinstance(ref, str) or not ref.strip():
            raise StepListError(
                f"a step must be written as 'name' or 'name:version', not {ref!r}", k
            )
        ref = ref.strip()
        if ref in g.deps:
            raise StepListError(f"step {ref!r} appears more than once in the workflow", k)
        g.order.append(ref)
        g.deps[ref] = list(preds)
        g.keys[ref] = k
        return [ref]

    def series(items: list[Any], preds: list[str], k: Key) -> list[str]:
        if not items:
            raise StepListError("empty step list", k)
        for i, item in enumerate(items):
            ik = (*k, i)
            preds = parallel(item, preds, ik) if isinstance(item, list) else add(item, preds, ik)
        return preds

    def parallel(branches: list[Any], preds: list[str], k: Key) -> list[str]:
        if not branches:
            raise StepListError("empty parallel step list", k)
        ends: list[str] = []
        for i, br in enumerate(branches):
            bk = (*k, i)
            ends += series(br, preds, bk) if isinstance(br, list) else add(br, preds, bk)
        return ends

    series(steps, [], key)
    return g


@dataclass
class Segments:
    of_step: dict[str, int]
    deps: dict[int, list[int]]  # segment -> the segments it depends on (none for segment 0)


def segments(g: StepGraph, steptype: Callable[[str], str]) -> Segments:
    """Assign segments in list (topological) order.

    A step whose predecessors all sit in one segment and none of which breaks a segment joins
    that segment; otherwise it goes to the segment for its set of sources (shared by every step
    with the same set), which depends on the segments of those sources.
    """
    of_step: dict[str, int] = {}
    deps: dict[int, list[int]] = {}
    by_sources: dict[tuple[frozenset[int], frozenset[str]], int] = {}
    nxt = 1
    for step in g.order:
        preds = g.deps[step]
        if not preds:
            of_step[step] = 0
            continue
        within = frozenset(of_step[p] for p in preds if steptype(p) not in SEGMENT_BREAKERS)
        after = frozenset(p for p in preds if steptype(p) in SEGMENT_BREAKERS)
        if not after and len(within) == 1:
            of_step[step] = next(iter(within))
            continue
        sources = (within, after)
        if sources not in by_sources:
            by_sources[sources] = nxt
            deps[nxt] = sorted(within | {of_step[p] for p in after})
            nxt += 1
        of_step[step] = by_sources[sources]
    return Segments(of_step, deps)
