"""Wake-ups across nodes: ``pg_notify('qorus_wake', '<workflowid>')`` when orders become due.

NOTIFY is transactional on PostgreSQL: it is delivered to the listeners of other nodes only
when the transaction commits (never for a rollback), and it rides on that commit. Every data
function that makes an order due (creation, retry, unblock, recovery ...) calls
``notify_due`` in its own transaction; the server's wake listener turns the notifications into
``WorkflowManager.notify``. Other dialects have no such thing: there the nodes poll.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from qorus_core.db import tables as t
from qorus_core.db.dialects import dialect_for
from qorus_core.model.status import SessionStatus

#: the channel every node listens on; the payload is the workflow id
CHANNEL = "qorus_wake"

_INFO_KEY = "qorus_wake_sent"


def _sent(conn: Connection) -> set[int]:
    txn = conn.get_transaction()
    held = conn.info.get(_INFO_KEY)
    if txn is not None and held is not None and held[0] is txn:
        return held[1]  # type: ignore[no-any-return]
    sent: set[int] = set()
    if txn is not None:
        # keyed by the transaction object itself (held here, so its id cannot be reused)
        conn.info[_INFO_KEY] = (txn, sent)
    return sent


def notify_column(conn: Connection, workflowid: int) -> ColumnElement[Any] | None:
    """``pg_notify`` of ``workflowid`` as an expression to add to a statement of the current
    transaction (e.g. the RETURNING of the order's insert: no statement of its own; identical
    notifications of one transaction are delivered once); None on other dialects or when this
    transaction already notified it."""
    if not dialect_for(conn).has_notify:
        return None
    sent = _sent(conn)
    if workflowid in sent:
        return None
    sent.add(workflowid)
    return wake_expression(workflowid)


def wake_expression(workflowid: int) -> ColumnElement[Any]:
    """``pg_notify`` of ``workflowid`` only when another node may listen (more than one
    ACTIVE session): a single node does not pay the notification queue's commit lock and its
    own listener's work for every order, and nodes poll besides. Checked in the statement it
    is part of (no round trip of its own)."""
    s = t.sessions
    nodes = (
        select(func.count())
        .select_from(s)
        .where(s.c.sessionid != 0, s.c.sessionstatus == SessionStatus.ACTIVE)
        .scalar_subquery()
    )
    return (
        select(func.pg_notify(literal(CHANNEL), literal(str(workflowid))))
        .where(nodes > 1)
        .scalar_subquery()
    )


def notify_due(conn: Connection, workflowids: Iterable[int]) -> None:
    """Tell the other nodes that orders of these workflows are due, at the commit of the
    current transaction. At most one statement per call, none for a workflow already notified
    in this transaction; a no-op on dialects other than PostgreSQL."""
    dialect = dialect_for(conn)
    if not dialect.has_notify:
        return
    sent = _sent(conn)
    new = sorted({int(w) for w in workflowids} - sent)
    if not new:
        return
    dialect.notify(conn, CHANNEL, [str(w) for w in new])
    sent.update(new)
