"""Sensitive order data over the system API: ``orders/{id}/sensitiveData`` (GET, PUT
``action=sensitiveData``, DELETE).

Each needs its own permission (READ-, EDIT-, DELETE-SENSITIVE-DATA, all included in
SENSITIVE-DATA-CONTROL). The API-CALL audit row and the WORKFLOW_DATA_UPDATED event name the
key (``skey``) only, never a value or the data.
"""

from __future__ import annotations

from typing import Any

from qorus_core.crypto import SensitiveCipher
from qorus_core.db import sensitive as sdb
from qorus_core.model import args as a
from qorus_core.model.errors import QorusError, ValidationError
from qorus_server.api.registry import CallContext, operation
from qorus_server.api.wfcommon import order_workflow, readonly

READ = "READ-SENSITIVE-DATA"
EDIT = "EDIT-SENSITIVE-DATA"
DELETE = "DELETE-SENSITIVE-DATA"


def _cipher(ctx: CallContext) -> SensitiveCipher:
    cipher = ctx.server.sensitive
    if cipher is None:
        raise sdb.no_key_error()
    return cipher


def _arg_error(desc: str) -> QorusError:
    return ValidationError(desc, code="SENSITIVE-DATA-ARG-ERROR")


def _text(value: object, name: str, max_len: int) -> str | None:
    if value is None or value == "":
        return None
    return a.arg_text(value, name, max_len=max_len, error=_arg_error)


def _hash(value: object, name: str) -> dict[str, Any]:
    return a.arg_hash(value, f"argument {name!r}", _arg_error)


def _aliases(value: object) -> list[str]:
    """``aliases``: a list or ``a,b``, each a text as long as a value at most."""
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list | tuple):
        raise _arg_error(f"argument 'aliases' must be a list, got {a.shown(value)}")
    return [a.arg_text(v, "aliases", max_len=sdb.MAX_VALUE_LEN, error=_arg_error) for v in value]


def _key_args(skey: object, svalue: object) -> tuple[str | None, str | None]:
    key = _text(skey, "skey", sdb.MAX_KEY_LEN)
    value = _text(svalue, "svalue", sdb.MAX_VALUE_LEN)
    if value is not None and key is None:
        raise _arg_error("argument 'svalue' needs 'skey' too")
    return key, value


def _audit(ctx: CallContext, name: str, wfiid: int, skey: str | None) -> None:
    """An API-CALL audit row with the key name only (the registry's would hold the values)."""
    server = ctx.server
    server.audit_api_call(server.registry.get(name), ctx, {"id": wfiid, "skey": skey}, None)


def _event(ctx: CallContext, wfiid: int, workflowid: int, skey: str | None) -> None:
    ctx.server.events.post(
        "WORKFLOW_DATA_UPDATED",
        {
            "workflowid": workflowid,
            "workflow_instanceid": wfiid,
            "datatype": "sensitive",
            "skey": skey,
        },
        caller="api",
    )


@operation(
    "orders.sensitive-data",
    rest=[("GET", "orders/{id}", "sensitiveData")],
    permissions=(READ,),
    read_audit=False,  # its API-CALL row names the key, never the values
)
def get_sensitive_data(
    ctx: CallContext, id: object, skey: object = None, svalue: object = None
) -> dict[str, Any]:
    """``{skey: {svalue: {data, aliases, meta}}}`` of the order, all or of ``skey`` (and
    ``svalue``)."""
    wfiid = a.arg_id(id, "id")
    key, value = _key_args(skey, svalue)
    order_workflow(ctx, wfiid)
    cipher = _cipher(ctx)
    with readonly(ctx) as conn:
        entries = sdb.load(conn, cipher, wfiid)
    _audit(ctx, "orders.sensitive-data", wfiid, key)
    return sdb.api_data(entries, key, value)


@operation(
    "orders.update-sensitive-data",
    rest=[("PUT", "orders/{id}", "sensitiveData")],
    permissions=(EDIT,),
    read_audit=False,  # its API-CALL row names the key, never the values
)
def put_sensitive_data(
    ctx: CallContext,
    id: object,
    skey: object = None,
    svalue: object = None,
    data: object = None,
    aliases: object = None,
    meta: object = None,
) -> str:
    """Replace the data of ``skey``/``svalue`` with ``data`` (no ``data``: delete them);
    ``aliases`` (a list or ``a,b``) and ``meta`` (a hash) as given."""
    wfiid = a.arg_id(id, "id")
    key, value = _key_args(skey, svalue)
    workflowid = order_workflow(ctx, wfiid)
    if key is None:
        raise _arg_error(f"missing argument 'skey' to update sensitive data of order {wfiid}")
    if value is None:
        raise _arg_error(
            f"missing argument 'svalue' to update sensitive data of order {wfiid} key {key!r}"
        )
    alias_list = [] if aliases is None else _aliases(aliases)
    md = {} if meta is None else _hash(meta, "meta")
    content = None if data is None else _hash(data, "data")
    cipher = _cipher(ctx)
    with ctx.server.engine.begin() as conn:
        if content is None:
            sdb.delete_entries(conn, cipher, wfiid, key, value)
        else:
            entry = sdb.SensitiveEntry(key, value, content, alias_list, md)
            try:
                sdb.check_keys(key, value, alias_list)
            except QorusError as exc:
                raise _arg_error(exc.desc) from None
            sdb.save(conn, cipher, wfiid, entry)
    _audit(ctx, "orders.update-sensitive-data", wfiid, key)
    _event(ctx, wfiid, workflowid, key)
    return "OK"


@operation(
    "orders.delete-sensitive-data",
    rest=[("DELETE", "orders/{id}", "sensitiveData")],
    permissions=(DELETE,),
    read_audit=False,  # its API-CALL row names the key, never the values
)
def delete_sensitive_data(
    ctx: CallContext, id: object, skey: object = None, svalue: object = None
) -> dict[str, Any]:
    """Delete the order's sensitive data: all, those of ``skey``, or of ``skey``/``svalue``."""
    wfiid = a.arg_id(id, "id")
    key, value = _key_args(skey, svalue)
    workflowid = order_workflow(ctx, wfiid)
    cipher = ctx.server.sensitive
    if value is not None:
        cipher = _cipher(ctx)
    with ctx.server.engine.begin() as conn:
        count = sdb.delete_entries(conn, cipher, wfiid, key, value)
    _audit(ctx, "orders.delete-sensitive-data", wfiid, key)
    if count:
        _event(ctx, wfiid, workflowid, key)
    return {"workflow_instanceid": wfiid, "deleted": count}
