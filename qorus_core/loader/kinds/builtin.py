"""The kinds qorus-py ships: workflows, steps, services, jobs, classes, queues, events, groups
and errors. Registered in ``oload -L`` order; ``stage`` gives the storage order (what a
definition refers to is stored before it). Each kind's module brings its validator, storer,
deleter and lister; :class:`~qorus_core.loader.store.Store` and
:class:`~qorus_core.loader.delete.Deleter` hold only what kinds share."""

from __future__ import annotations

from qorus_core.loader.kinds import (
    errors,
    event,
    group,
    job,
    library_class,
    queue,
    service,
    step,
    workflow,
)
from qorus_core.loader.kinds.registry import register


def register_all() -> None:
    for k in (
        workflow.KIND,
        step.KIND,
        service.KIND,
        job.KIND,
        library_class.KIND,
        queue.KIND,
        event.KIND,
        group.KIND,
        errors.KIND,
    ):
        register(k)
