"""The kinds qorus-py ships: workflows, steps, services, jobs, classes, queues, events, groups
and errors. Registered in ``oload -L`` order; ``stage`` gives the storage order (what a
definition refers to is stored before it). A kind with a module of its own (services, jobs,
queues, events, groups) brings its validator, storer and deleter there; the others still use
the shared Store and Deleter classes."""

from __future__ import annotations

from qorus_core.db import tables as t
from qorus_core.loader import listing, validate
from qorus_core.loader.delete import Deleter
from qorus_core.loader.kinds import errors, event, group, job, library_class, queue, service
from qorus_core.loader.kinds.registry import Kind, register
from qorus_core.loader.store import Store


def register_all() -> None:
    for k in (
        Kind(
            "workflow",
            Store._store_workflow,
            Deleter._workflow,
            listing.versioned(t.workflows, "workflowid", "autostart"),
            check=validate._check_workflow,
            versioned=True,
            coded=True,
            stage=5,
            table=t.workflows,
            idcol="workflowid",
            aliases=("wf", "wfs"),
        ),
        Kind(
            "step",
            Store._store_step,
            Deleter._step,
            listing.versioned(t.steps, "stepid", "steptype"),
            check=validate._check_step,
            versioned=True,
            coded=True,
            stage=4,
            table=t.steps,
            idcol="stepid",
        ),
        service.KIND,
        job.KIND,
        library_class.KIND,
        queue.KIND,
        event.KIND,
        group.KIND,
        errors.KIND,
    ):
        register(k)
