"""The system API. Importing this package registers every operation: add a module of
operations to the imports below (the ONE place), never import operation modules elsewhere.
"""

from __future__ import annotations

from qorus_server.api import system  # noqa: F401  (registers system.* and public.*)
from qorus_server.api.registry import REGISTRY, CallContext, Operation, Principal, call, operation

__all__ = ["REGISTRY", "CallContext", "Operation", "Principal", "call", "operation"]
