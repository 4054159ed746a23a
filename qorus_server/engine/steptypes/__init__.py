"""Step types: the registry and one module per type (importing this package registers them)."""

from __future__ import annotations

from qorus_server.engine.steptypes import asynchronous, event, normal, subworkflow
from qorus_server.engine.steptypes.registry import (
    StepCall,
    StepType,
    find,
    names,
    register,
    unregister,
)

__all__ = [
    "StepCall",
    "StepType",
    "asynchronous",
    "event",
    "find",
    "names",
    "normal",
    "register",
    "subworkflow",
    "unregister",
]
