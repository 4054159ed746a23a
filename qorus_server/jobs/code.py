"""Job code compiled from the database (``jobs.code``, stored by oload): the class of each
job, cached by jobid until the job is reset or its code changes."""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy.engine import Engine

from qorus_core.db import jobs as jobs_db
from qorus_core.db.jobs import JobDef
from qorus_server.engine.codecache import CodeError, exec_code, run_library
from qorus_server.userapi import code_namespace
from qorus_server.userapi.job import QorusJob


class JobCode:
    """Compiled job classes by jobid; thread-safe."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._classes: dict[int, tuple[datetime | None, type[QorusJob]]] = {}

    def job_class(self, job: JobDef) -> type[QorusJob]:
        """The job's class, compiled from its stored code (again when the job was changed)."""
        with self._lock:
            cached = self._classes.get(job.jobid)
            if cached is not None and cached[0] == job.modified:
                return cached[1]
            cls = self._compile(job)
            self._classes[job.jobid] = (job.modified, cls)
            return cls

    def _compile(self, job: JobDef) -> type[QorusJob]:
        label = f"job {job.name} v{job.version}"
        if job.language != "python":
            raise CodeError(f"{label} is not Python ({job.language})")
        with self._engine.connect() as conn:
            code = jobs_db.job_code(conn, job.jobid)
        if not code:
            raise CodeError(f"{label} has no code")
        ns = code_namespace(f"qorus_job_{job.jobid}")
        run_library(self._engine, job.classes, ns, label)
        exec_code(code, f"<{label}>", ns)
        name = job.class_name or job.name
        cls = ns.get(name)
        if not isinstance(cls, type) or not issubclass(cls, QorusJob):
            raise CodeError(f"{label}: the code defines no QorusJob class {name!r}")
        return cls

    def reset(self, jobid: int) -> None:
        with self._lock:
            self._classes.pop(jobid, None)
