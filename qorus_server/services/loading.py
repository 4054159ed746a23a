"""Loading one service: the checks that it may be loaded, the compilation of its code and
the making of its object (``init()`` run).

The code is compiled from the schema (the library classes first, as for steps) into a
namespace of its own; its class must be a ``QorusService``. A failure to make the object is
logged in the service's log and posted as SERVICE_ERROR. The manager
(:class:`qorus_server.services.manager.ServiceManager`) decides when to load; what it needs
here it passes explicitly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection, Engine

from qorus_core.db.group_status import stopping_group
from qorus_core.db.services import ServiceDef
from qorus_core.model.errors import QorusError
from qorus_server.engine.codecache import CodeError, exec_code, run_library
from qorus_server.services.instance import ServiceInstance
from qorus_server.services.registry import Entry
from qorus_server.userapi import code_namespace
from qorus_server.userapi.svc import QorusService

if TYPE_CHECKING:
    from qorus_server.services.manager import ServiceManager


def compile_service(engine: Engine, sdef: ServiceDef) -> type[Any]:
    """The ``QorusService`` class the service's code defines (CodeError when none)."""
    label = sdef.label()
    if sdef.language != "python":
        raise CodeError(f"{label} is not Python ({sdef.language})")
    if not sdef.code:
        raise CodeError(f"{label} has no code")
    ns = code_namespace(f"qorus_service_{sdef.serviceid}")
    run_library(engine, sdef.classes, ns, label)
    exec_code(sdef.code, f"<{label}>", ns)
    name = sdef.class_name or sdef.name
    cls = ns.get(name)
    if not isinstance(cls, type) or not issubclass(cls, QorusService):
        raise CodeError(f"{label}: the code defines no QorusService class {name!r}")
    return cls


def check_loadable(
    sdef: ServiceDef,
    *,
    stopped: bool,
    read: Callable[[], AbstractContextManager[Connection]],
) -> None:
    """Refuse to load a service while the system stops (SHUTDOWN-IN-PROGRESS), a disabled
    service (SERVICE-DISABLED) and one of a disabled interface group (GROUP-DISABLED)."""
    if stopped:
        raise QorusError(
            "the system is shutting down: no service is loaded", code="SHUTDOWN-IN-PROGRESS"
        )
    if not sdef.enabled:
        raise QorusError(
            f"{sdef.label()} is disabled: it cannot be loaded or called",
            code="SERVICE-DISABLED",
        )
    with read() as conn:
        group = stopping_group(conn, "service", sdef.serviceid)
    if group is not None:
        raise QorusError(
            f"{sdef.label()} is a member of the disabled interface group {group!r}: it "
            "cannot be loaded or called until the group is enabled",
            code="GROUP-DISABLED",
        )


def instantiate(
    manager: ServiceManager,
    entry: Entry,
    sdef: ServiceDef,
    *,
    engine: Engine,
    logger: logging.Logger,
) -> ServiceInstance:
    """Compile, make the object and run ``init()``; SERVICE_ERROR and the error logged
    when any of it fails."""
    try:
        cls = compile_service(engine, sdef)
        inst = ServiceInstance(manager, sdef, cls, logger, entry.slots, entry.stats)
        entry.loading = threading.get_ident()
        try:
            inst.create()
        finally:
            entry.loading = None
    except QorusError as exc:
        logger.error("%s cannot be loaded: %s", sdef.label(), exc.desc)
        manager.post_error(sdef, exc.code, exc.desc)
        raise
    return inst
