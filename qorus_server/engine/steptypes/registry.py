"""The step-type registry: the one place a kind of step is declared.

A step type says which API class its code must derive from (checked when the code is
compiled), how a step of it runs, and how it recovers when it may have run before (a RETRY
order after a crash or a retry). The engine looks types up here only: ``instance`` refuses a
workflow with a step of an unregistered type at start, ``codecache`` checks the base class and
``runner`` calls ``run`` / ``recover``. A new type (asynchronous, event, sub-workflow, array)
is one module that calls :func:`register`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qorus_core.db.wfdefs import StepDef
from qorus_server.userapi.context import OrderContext


@dataclass(frozen=True)
class StepCall:
    """What a step type's ``run`` and ``recover`` get besides the step object."""

    ctx: OrderContext
    step: StepDef
    logger: logging.Logger


#: ``run(obj, call)``: run the step's code; errors are raised or added to ``call.ctx.errors``
RunFn = Callable[[Any, StepCall], None]
#: ``recover(obj, call)``: the step may have run before; True to run it (again)
RecoverFn = Callable[[Any, StepCall], bool]


@dataclass(frozen=True)
class StepType:
    """One kind of step: ``name`` is ``steps.steptype``; ``array`` whether it is the array form."""

    name: str
    base: type[Any]
    run: RunFn
    recover: RecoverFn
    array: bool = False


_lock = threading.Lock()
_types: dict[tuple[str, bool], StepType] = {}


def register(kind: StepType) -> StepType:
    """Register (or replace) a step type; returns it."""
    with _lock:
        _types[(kind.name, kind.array)] = kind
    return kind


def unregister(name: str, array: bool = False) -> None:
    with _lock:
        _types.pop((name, array), None)


def find(name: str, array: bool = False) -> StepType | None:
    """The registered type ``name`` (array form if ``array``), or None."""
    return _types.get((name, array))


def names() -> list[str]:
    """The names of the registered types (plain or array form), sorted."""
    with _lock:
        return sorted({name for name, _ in _types})
