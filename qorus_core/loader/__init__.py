"""oload's engine: read Qorus interface definitions (YAML + Python code) and releases, validate
all of them, store them in the system schema in one transaction."""

from __future__ import annotations

from qorus_core.loader.problems import LoadError, Problem, Problems
from qorus_core.loader.run import LoadResult, NoProgress, Progress, check, load

__all__ = [
    "LoadError",
    "LoadResult",
    "NoProgress",
    "Problem",
    "Problems",
    "Progress",
    "check",
    "load",
]
