"""The job scheduler (:class:`~qorus_server.jobs.manager.JobManager`, component ``jobs``), its
clock and the compiled job code."""

from qorus_server.jobs.clock import Clock, SystemClock
from qorus_server.jobs.manager import JobManager

__all__ = ["Clock", "JobManager", "SystemClock"]
