"""What the service manager tells the rest of the server: the service events on the event
bus (SERVICE_START, SERVICE_STOP, SERVICE_ERROR, SERVICE_UPDATED,
SERVICE_AUTOSTART_CHANGE) and the audit rows SERVICE-START and SERVICE-STOP (written when
the ``audit`` option includes ``services``). Neither may fail the service: a failure is
logged."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from qorus_core.db.services import ServiceDef
from qorus_server.contract import ServerContract
from qorus_server.services.instance import ServiceInstance


def post_event(
    server: ServerContract | None,
    log: logging.Logger,
    event: str,
    sdef: ServiceDef,
    severity: str = "INFO",
    **extra: Any,
) -> None:
    """Post ``event`` about the service (nothing before the manager is started)."""
    if server is None:
        return
    info: dict[str, Any] = {
        "type": sdef.type,
        "name": sdef.name,
        "version": sdef.version,
        "serviceid": sdef.serviceid,
        **extra,
    }
    try:
        server.events.post(event, info, severity=severity, caller="services")
    except Exception:  # an event listener failing must not fail the service
        log.exception("cannot post %s", event)


def audit_event(
    server: ServerContract | None,
    log: logging.Logger,
    event: str,
    inst: ServiceInstance,
    reason: str,
    who: str | None,
) -> None:
    """Write the audit row ``event`` of the instance; SERVICE-START keeps its id on the
    instance, the row SERVICE-STOP refers to it."""
    if server is None:
        return
    try:
        # who and from where: the API call in force (or the server itself)
        who_kw: dict[str, Any] = {"who": who} if who else {}
        rid = server.auditor.event(
            event,
            None,
            reason=reason,
            **who_kw,
            info1=f"{inst.sdef.type} {inst.name} v{inst.sdef.version}",
            serviceid=inst.serviceid,
            related=inst.audit_id if event == "SERVICE-STOP" else None,
        )
    except SQLAlchemyError:
        log.exception("cannot write the %s audit row of %s", event, inst.name)
        return
    if event == "SERVICE-START":
        inst.audit_id = rid
