"""The step-type registry: the one place a kind of step is declared.

A step type says which API class its code must derive from (checked when the code is
compiled), how a step of it runs, how it recovers when it may have run before (a RETRY
order after a crash or a retry), how it resumes when it waited (ASYNC-WAITING, EVENT-WAITING,
WAITING) and what it writes with the step's commit for what it waits on. The engine looks types
up here only: ``instance`` refuses a workflow with a step of an unregistered type at start,
``codecache`` checks the base class and ``runner`` calls ``run`` / ``recover`` / ``resume`` /
``commit``. A new type is one module that calls :func:`register`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from qorus_core.db.wfdefs import StepDef
from qorus_server.engine.workerdb import WorkerDb
from qorus_server.userapi.context import OrderContext, StepWait


@dataclass(frozen=True)
class StepCall:
    """What a step type's functions get besides the step object."""

    ctx: OrderContext
    step: StepDef
    logger: logging.Logger
    #: the worker's database handle, for reads between commits
    db: WorkerDb | None = None
    #: the array element of an array step (``array`` tells whether there is one)
    arg: object = None
    array: bool = False
    #: the step's status before (a code, or None for a first run)
    prev_status: str | None = None
    #: the step may have run before (a RETRY order): check before doing it again
    validate: bool = False
    #: workflow settings a type may need: async_delay, max-async-retries
    settings: dict[str, Any] | None = None

    @property
    def args(self) -> tuple[object, ...]:
        """The arguments of ``primary`` / ``validation``: the element for array steps."""
        return (self.arg,) if self.array else ()


#: ``run(obj, call)``: run the step's code; errors are raised or added to ``call.ctx.errors``
RunFn = Callable[[Any, StepCall], None]
#: ``recover(obj, call)``: the step may have run before; True to run it (again)
RecoverFn = Callable[[Any, StepCall], bool]
#: ``resume(obj, call)``: the step waited and its order came back; True to run it again
ResumeFn = Callable[[Any, StepCall], bool]
#: ``commit(conn, call, wait, ts)``: write what the step waits on; the step's status
CommitFn = Callable[[Connection, StepCall, StepWait, Any], str]


@dataclass(frozen=True)
class StepType:
    """One kind of step: ``name`` is ``steps.steptype``; ``array`` whether it is the array form."""

    name: str
    base: type[Any]
    run: RunFn
    recover: RecoverFn
    array: bool = False
    resume: ResumeFn | None = None
    commit: CommitFn | None = None


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
