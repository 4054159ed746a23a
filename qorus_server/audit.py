"""The server's audit writer: which rows the ``audit`` option asks for, and who, from where and
why each change is made (the rows' ``who``, ``source`` and ``reason``).

What a row holds and which option code switches it on is :mod:`qorus_core.db.audit`. Here:

* :attr:`Auditor.system` is the trail of what the server does by itself (``who`` = ``Qorus``,
  ``source`` = the host and process): engine threads, the scheduler, recovery;
* :meth:`Auditor.call_trail` is the trail of one API call (the caller's user name, address and
  request, e.g. ``REST PUT /api/latest/orders/5?action=retry`` or
  ``RPC: omq.system.retry-workflow-instance``); the registry puts it in force for the length
  of the call, so that every row the call's changes write names the caller;
* :meth:`Auditor.event` writes one row when the option enables it: in the caller's
  transaction when given ``conn`` (a change and its audit row commit together), else in a
  short transaction of its own (what is no database change: a service loaded, an execution
  instance started).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from qorus_core.db import audit as core
from qorus_core.db import sensitive
from qorus_core.db.audit import AuditTrail, OptionCodes, audit_codes
from qorus_core.options import Options
from qorus_core.secrets import mask_secrets

if TYPE_CHECKING:
    from qorus_server.api.registry import CallContext, Operation
    from qorus_server.contract import ServerContract

#: who the server's own rows name
SYSTEM_WHO = "Qorus"


def enabled(options: Options, code: str) -> bool:
    """Whether audit option code ``code`` (``system``, ``api``, ...) is on now."""
    return code in audit_codes(options.get("audit"))


class Auditor:
    """Writes audit rows when the option enables them."""

    def __init__(self, engine: Engine, options: Options) -> None:
        self.engine = engine
        self.options = options
        self.codes = OptionCodes(options)
        #: the trail of what the server does by itself
        self.system = AuditTrail(
            self.codes, who=SYSTEM_WHO, source=f"{socket.gethostname()} pid {os.getpid()}"
        )
        #: the SYSTEM-STARTUP row (named by SYSTEM-SHUTDOWN)
        self.startup_id: int | None = None

    def wants(self, event: str) -> bool:
        return self.system.wants(event)

    def trail(self) -> AuditTrail:
        """The trail in force (an API call's), else the server's own."""
        return core.current() or self.system

    def call_trail(self, ctx: CallContext) -> AuditTrail:
        """The trail of an API call: its user (``Qorus`` for the server's own calls), its
        client address and its request."""
        internal = ctx.transport == "internal"
        who = ctx.username or (SYSTEM_WHO if internal else None)
        reason = ctx.request or ("internal API call" if internal else ctx.transport)
        return AuditTrail(
            self.codes, who=who, source=ctx.source or self.system.source, reason=reason
        )

    def event(self, event: str, conn: Connection | None = None, **kw: Any) -> int | None:
        """Write the row (columns as :func:`qorus_core.db.audit.row` takes them; ``who``,
        ``source`` and ``reason`` default to the trail in force) when the option asks for it;
        its id (None when not written)."""
        trail = self.trail()
        if not trail.wants(event):
            return None
        if conn is not None:
            return trail.write(conn, event, **kw)
        with self.engine.begin() as c:
            return trail.write(c, event, **kw)


def record_api_call(
    server: ServerContract,
    op: Operation,
    ctx: CallContext,
    args: Mapping[str, object],
    conn: Connection | None = None,
) -> None:
    """The API-CALL audit row of a successful operation, under the call's trail (its user,
    address and request as ``who``, ``source`` and ``reason``; its arguments in ``info1``,
    the operation in ``info2``): with audit code ``api`` for an operation that changes
    something (or writes its own rows), ``api-read`` for one that only reads. Shared by the
    real and the test server so both audit the same way. With ``conn`` the row is part of that
    transaction (one commit for a change and its audit row), and a failure to write it fails
    the transaction."""
    code = "api" if op.audit or not op.read_audit else "api-read"
    if server.auditor is None or not enabled(server.options, code):
        return
    columns: dict[str, Any] = {
        **call_columns(server, ctx),
        "info1": audited_args(args),
        "info2": op.name,
    }
    if conn is not None:
        core.write(conn, "API-CALL", **columns)
        return
    try:
        with server.engine.begin() as c:
            core.write(c, "API-CALL", **columns)
    except SQLAlchemyError:
        server.log.exception("cannot write the API-CALL audit row of %s", op.name)


def call_columns(server: ServerContract, ctx: CallContext) -> dict[str, object]:
    """``who``, ``source`` and ``reason`` of an API call's rows."""
    trail = server.auditor.call_trail(ctx)
    return {"who": trail.who, "source": trail.source, "reason": trail.reason}


def audited_args(args: Mapping[str, object]) -> dict[str, object]:
    """The arguments of an API call as audited: sensitive data reduced to key names, secrets
    (passwords, option values marked secret) masked."""
    out = dict(args)
    if "sensitive_data" in out:
        out["sensitive_data"] = sensitive.redact(out["sensitive_data"])
    masked: dict[str, object] = mask_secrets(out)
    return masked
