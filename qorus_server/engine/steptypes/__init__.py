"""Step types: the registry and one module per type (importing this package registers them)."""

from __future__ import annotations

from qorus_server.engine.steptypes import normal
from qorus_server.engine.steptypes.registry import (
    StepCall,
    StepType,
    find,
    names,
    register,
    unregister,
)

__all__ = ["StepCall", "StepType", "find", "names", "normal", "register", "unregister"]
