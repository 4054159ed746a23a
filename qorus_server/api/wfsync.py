"""``POST workflows/{id}?action=execSynchronous`` (RPC ``omq.system.exec-synchronous-workflow``):
create an order and run it to a final status in the calling request's worker thread.

The answer is the order's final info, ``{workflow_instanceid, status, dynamicdata}`` plus
``error`` (``{error, description, info}`` of the last error) when it ends in ERROR: an order
that fails is an answer (201), not an HTTP error. Bad order data is 400, a taken unique key
409 DUPLICATE-ORDER-KEY, as for createOrder.
"""

from __future__ import annotations

from qorus_core.model import args as a
from qorus_core.model.errors import ValidationError
from qorus_server.api.registry import CallContext, operation
from qorus_server.api.wfcommon import bad_data_is_400, manager
from qorus_server.api.workflows import resolve_named


def _data_error(desc: str) -> ValidationError:
    return ValidationError(desc, code="ORDER-DATA-ERROR")


@operation(
    "workflows.exec-synchronous",
    rest=[("POST", "workflows/{id}", "execSynchronous")],
    rpc="omq.system.exec-synchronous-workflow",
    permissions=("EXEC-SYNC-WORKFLOW",),
    audit=True,
    success_status=201,
)
def exec_synchronous(
    ctx: CallContext,
    id: object = None,
    name: object = None,
    version: object = None,
    orderdata: object = None,
    **fields: object,
) -> dict[str, object]:
    """Create an order (createOrder's arguments; ``orderdata`` is the RPC name of
    ``staticdata``) and run it synchronously; its final status and dynamic data."""
    for bad in ("scheduled", "status"):
        if bad in fields:
            raise ValidationError(
                f"execSynchronous does not take {bad!r}: the order runs at once",
                code="ORDER-DATA-ERROR",
            )
    if orderdata is not None and "staticdata" not in fields:
        fields["staticdata"] = a.arg_hash(orderdata, "orderdata", _data_error)
    if fields.get("priority") not in (None, ""):
        # as in Qorus: a synchronous order's priority is clamped to 0..999
        priority = a.arg_int(fields["priority"], "priority", code="ORDER-DATA-ERROR")
        fields["priority"] = min(max(priority, 0), 999)
    wfid = resolve_named(ctx, id, name, version, "execSynchronous")
    with bad_data_is_400():
        return manager(ctx).exec_synchronous(wfid, None, fields)
