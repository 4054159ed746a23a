"""Compile interface code stored in the database by oload: step and workflow classes
(:func:`exec_code` and :func:`run_library` are shared with the job scheduler and the service
manager).

Each step's source is executed in a fresh namespace that already holds ``wf``, ``OMQ``,
``UserApi`` ... (see :mod:`qorus_server.userapi`), after the library classes it names
(``steps.classes``, read from the ``classes`` table). Classes are cached by id; ``reset``
drops a workflow's entries so the next use compiles the code as stored now.
"""

from __future__ import annotations

import threading
import traceback
from typing import Any

from sqlalchemy.engine import Engine

from qorus_core.db import workflow_runs as runs_db
from qorus_core.db.wfdefs import StepDef, WorkflowDef
from qorus_core.model.errors import QorusError
from qorus_server.engine import steptypes
from qorus_server.userapi import code_namespace
from qorus_server.userapi.wf import QorusWorkflow


class CodeError(QorusError):
    """Interface code that cannot be compiled or has no usable class."""

    code = "COMPILE-ERROR"


def exec_code(source: str, filename: str, namespace: dict[str, object]) -> None:
    """Compile and run interface code in ``namespace``; COMPILE-ERROR naming the file."""
    try:
        code = compile(source, filename, "exec")
        exec(code, namespace)
    except Exception as exc:
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        raise CodeError(f"{filename}: {last}", info={"file": filename}) from exc


def run_library(
    engine: Engine, names: tuple[str, ...], namespace: dict[str, object], owner: str
) -> None:
    """Run the library classes ``names`` (``NAME`` = its latest version, or ``NAME:VERSION``)
    into ``namespace``, in the order given (steps, workflows, jobs and services share this)."""
    if not names:
        return
    rows: list[tuple[str, Any]] = []
    with engine.connect() as conn:
        for ref in names:
            name, sep, version = ref.partition(":")
            found = runs_db.library_class(conn, name.strip(), version.strip() if sep else None)
            if found is None:
                raise CodeError(f"{owner}: library class {ref!r} is not loaded")
            rows.append((name.strip(), found))
    for name, (version, code, language) in rows:
        if (language or "python") != "python":
            raise CodeError(f"{owner}: library class {name!r} is not Python ({language})")
        if code:
            exec_code(code, f"<class {name} v{version}>", namespace)


class CodeCache:
    """Compiled classes by step id and workflow id; thread-safe."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.RLock()
        self._steps: dict[int, type[Any]] = {}
        self._workflows: dict[int, type[QorusWorkflow] | None] = {}
        self._members: dict[int, set[int]] = {}

    def _library(self, names: tuple[str, ...], namespace: dict[str, object], owner: str) -> None:
        run_library(self._engine, names, namespace, owner)

    def step_class(self, wdef: WorkflowDef, step: StepDef) -> type[Any]:
        with self._lock:
            cls = self._steps.get(step.stepid)
            if cls is None:
                cls = self._compile_step(step)
                self._steps[step.stepid] = cls
            self._members.setdefault(wdef.workflowid, set()).add(step.stepid)
            return cls

    def _compile_step(self, step: StepDef) -> type[Any]:
        label = f"step {step.name} v{step.version}"
        if not step.code:
            raise CodeError(f"{label} has no code")
        ns = code_namespace(f"qorus_step_{step.stepid}")
        self._library(step.classes, ns, label)
        exec_code(step.code, f"<{label}>", ns)
        name = step.class_name or step.name
        cls = ns.get(name)
        if not isinstance(cls, type):
            raise CodeError(f"{label}: the code defines no class {name!r}")
        kind = steptypes.find(step.steptype, step.arraytype != "NONE")
        if kind is None:
            raise CodeError(f"{label}: step type {step.steptype} ({step.arraytype}) is not known")
        base = kind.base
        if not issubclass(cls, base):
            raise CodeError(
                f"{label}: class {name!r} must subclass {base.__name__} "
                f"(steptype {step.steptype}, arraytype {step.arraytype})"
            )
        return cls

    def workflow_class(self, wdef: WorkflowDef) -> type[QorusWorkflow] | None:
        with self._lock:
            if wdef.workflowid in self._workflows:
                return self._workflows[wdef.workflowid]
            cls: type[QorusWorkflow] | None = None
            if wdef.code:
                label = f"workflow {wdef.name} v{wdef.version}"
                ns = code_namespace(f"qorus_workflow_{wdef.workflowid}")
                self._library(wdef.classes, ns, label)
                exec_code(wdef.code, f"<{label}>", ns)
                name = wdef.class_name or wdef.name
                found = ns.get(name)
                if not isinstance(found, type) or not issubclass(found, QorusWorkflow):
                    raise CodeError(f"{label}: the code defines no QorusWorkflow class {name!r}")
                cls = found
            self._workflows[wdef.workflowid] = cls
            return cls

    def reset(self, workflowid: int) -> None:
        """Forget a workflow's compiled classes; the next use compiles the stored code."""
        with self._lock:
            for stepid in self._members.pop(workflowid, set()):
                self._steps.pop(stepid, None)
            self._workflows.pop(workflowid, None)

    def workflow_ids(self) -> list[int]:
        """The workflows that have compiled code in the cache."""
        with self._lock:
            return sorted(set(self._members) | set(self._workflows))

    def clear(self) -> None:
        with self._lock:
            self._steps.clear()
            self._workflows.clear()
            self._members.clear()
