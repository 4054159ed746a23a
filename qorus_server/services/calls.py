"""The method-call path of services: which method a call names (and who may call it), the
call itself under the service's thread bound, and the call context of a call made from
interface code.

A call takes one of the service's ``max-service-threads`` slots (waiting up to the manager's
``thread_wait`` seconds, then SERVICE-THREAD-LIMIT), loads the service when it is not loaded
and runs the method on the loaded instance; a service being reset sends the call to its new
instance. The manager (:class:`qorus_server.services.manager.ServiceManager`) keeps the public
``call``, ``method`` and ``call_from_code`` and hands them here what they need.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qorus_core.db.services import MethodDef, ServiceDef
from qorus_core.model import args as a
from qorus_core.model.errors import AuthorizationError, NotFoundError
from qorus_server.services.instance import ServiceError, ServiceInstance
from qorus_server.services.locks import Slots
from qorus_server.services.registry import key_of
from qorus_server.userapi import context as uctx
from qorus_server.userapi.context import ServiceCall


def resolve_method(sdef: ServiceDef, method: str, call: ServiceCall | None = None) -> MethodDef:
    """The method a call names: 404 SERVICE-NO-METHOD when the service has none of that
    name, 403 INTERNAL-METHOD-ERROR for an internal method called from outside the
    service (``call`` None: the caller is outside)."""
    mdef = sdef.method(method)
    if mdef is None:
        raise NotFoundError(
            f"{sdef.label()} has no method {a.shown(method)} (its methods: "
            f"{', '.join(m.name for m in sdef.methods if not m.internal)})",
            code="SERVICE-NO-METHOD",
        )
    if mdef.internal:
        here = uctx.current_service()
        own = here is not None and (here.service_type, here.name) == key_of(sdef)
        if not own or call is None:
            raise AuthorizationError(
                f"method {method}() of {sdef.label()} is internal: only the service itself "
                "may call it",
                code="INTERNAL-METHOD-ERROR",
            )
    return mdef


def invoke(
    sdef: ServiceDef,
    mdef: MethodDef,
    args: list[Any],
    call: ServiceCall,
    *,
    slots: Slots,
    max_threads: int,
    thread_wait: float,
    load: Callable[[ServiceDef, str | None], ServiceInstance],
) -> Any:
    """Call ``mdef`` of the service with positional ``args`` in one of its ``slots``;
    ``load(sdef, who)`` gives the loaded instance (loading it first when it is not loaded).
    SERVICE-VERSION-ERROR when another version of the service is loaded."""
    method = mdef.name
    slots.acquire(max_threads, thread_wait, f"{sdef.label()}: call of {method}()")
    try:
        while True:
            inst = load(sdef, call.user)
            if inst.serviceid != sdef.serviceid:
                raise ServiceError(
                    f"{inst.sdef.label()} is loaded, not v{sdef.version}: reset the "
                    f"service to load version {sdef.version}",
                    code="SERVICE-VERSION-ERROR",
                )
            if inst.enter():
                break
        try:
            return inst.call(inst.sdef.method(method) or mdef, args, call)
        finally:
            inst.leave()
    finally:
        slots.release()


def code_call(method: str) -> ServiceCall:
    """The context of a call from interface code (``UserApi.callService``): made as the
    system (no user), from the service, the workflow order or the UserApi running here."""
    order = uctx.current()
    wf = None
    if order is not None:
        wf = {
            "name": order.workflow_name,
            "version": order.workflow_version,
            "workflowid": order.workflowid,
            "workflow_instanceid": order.workflow_instanceid,
            "stepid": order.stepid,
            "ind": order.ind,
        }
    here = uctx.current_service()
    source = (
        f"service {here.name}"
        if here is not None
        else (f"workflow {order.workflow_name}" if order is not None else "UserApi")
    )
    return ServiceCall(method=method, user=None, source=source, transport="internal", wf=wf)
