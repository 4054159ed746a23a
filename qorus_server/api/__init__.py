"""The system API. Importing this package registers every operation: add a module of
operations to the imports below (the ONE place), never import operation modules elsewhere.
"""

from __future__ import annotations

# each import registers its operations: system.* and public.*, workflows.*, orders.*, exec.*,
# async-queues.*, sync-events.*, jobs.*, services.*, events.* (system events), users.*, roles.*,
# perms.*, groups.*, rpc.* (omq.system.help, system.listMethods)
from qorus_server.api import (  # noqa: F401
    async_queues,
    auth,
    events,
    groups,
    jobs,
    order_locks,
    orders,
    rbac,
    rpc,
    services,
    sync_events,
    system,
    wfsync,
    workflows,
    workflows_many,
)
from qorus_server.api import exec as exec_ops  # noqa: F401
from qorus_server.api import sensitive as sensitive_ops  # noqa: F401
from qorus_server.api.registry import REGISTRY, CallContext, Operation, Principal, call, operation

__all__ = ["REGISTRY", "CallContext", "Operation", "Principal", "call", "operation"]
