"""The ``job`` module of interface code: the job base class; ``job.JobApi`` / ``job.jobapi``
are the job API (:mod:`qorus_server.userapi.jobapi`)."""

from __future__ import annotations


class QorusJob:
    """Subclass it and define ``run()``; the scheduler calls it once per job instance, in a
    new object each time."""

    def run(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not define run()")
