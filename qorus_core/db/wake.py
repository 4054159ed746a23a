"""Wake-ups across nodes: ``pg_notify('qorus_wake', '<workflowid>')`` when orders become due.

NOTIFY is transactional on PostgreSQL: it is delivered to the listeners of other nodes only
when the transaction commits (never for a rollback), and it rides on that commit. Every data
function that makes an order due (creation, retry, unblock, recovery ...) calls
``notify_due`` in its own transaction; the server's wake listener turns the notifications into
``WorkflowManager.notify``. Other dialects have no such thing: there the nodes poll.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.engine import Connection

from qorus_core.db.dialects import dialect_for

#: the channel every node listens on; the payload is the workflow id
CHANNEL = "qorus_wake"

_INFO_KEY = "qorus_wake_sent"


def notify_due(conn: Connection, workflowids: Iterable[int]) -> None:
    """Tell the other nodes that orders of these workflows are due, at the commit of the
    current transaction. At most one statement per call, none for a workflow already notified
    in this transaction; a no-op on dialects other than PostgreSQL."""
    dialect = dialect_for(conn)
    if not dialect.has_notify:
        return
    txn = conn.get_transaction()
    sent: set[int]
    held = conn.info.get(_INFO_KEY)
    if txn is not None and held is not None and held[0] is txn:
        sent = held[1]
    else:
        sent = set()
        if txn is not None:
            # keyed by the transaction object itself (held here, so its id cannot be reused)
            conn.info[_INFO_KEY] = (txn, sent)
    new = sorted({int(w) for w in workflowids} - sent)
    if not new:
        return
    dialect.notify(conn, CHANNEL, [str(w) for w in new])
    sent.update(new)
