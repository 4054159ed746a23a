"""The ``job`` module of interface code: the job base class (jobs run in a later issue)."""

from __future__ import annotations


class QorusJob:
    """Subclass it and define ``run()``; the scheduler calls it for every job instance."""

    def run(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not define run()")
