"""What waiting steps wait on: asynchronous queue entries (:mod:`.queues`), synchronization
events (:mod:`.events`) and child orders (:mod:`.children`), what an order's steps wait on
(:mod:`.details`), and the wake-up of the orders whose wait is over (:mod:`.common`).

An order whose steps wait (ASYNC-WAITING, EVENT-WAITING, WAITING) is owned by no session and
becomes due when its ``retry_trigger`` passes. Whatever ends a wait (queue data received, an
event posted, a child order finished) sets that trigger to now in the same transaction, so an
order is never left waiting for something that already happened, even when the order is being
processed at that moment: the engine keeps a trigger set while it ran (see
:func:`qorus_core.db.steps.finish_owned`).
"""

from __future__ import annotations

from qorus_core.db.waits.children import (
    bind_child,
    child_of,
    children,
    feedback,
    leave_feedback,
    retry_child,
    wake_parent,
)
from qorus_core.db.waits.common import (
    QS_ERROR,
    QS_RECEIVED,
    QS_USED,
    QS_WAITING,
    QUEUE_STATUS_CODES,
    QUEUE_STATUS_NAMES,
    wake_order,
)
from qorus_core.db.waits.details import (
    step_waits,
)
from qorus_core.db.waits.events import (
    bind_event,
    event_posted,
    find_event_type,
    list_event_types,
    post_event,
    search_events,
    step_event,
)
from qorus_core.db.waits.queues import (
    QueueEntry,
    cancel_key,
    close_waiting,
    discard_entries,
    entries,
    find_queue,
    key_info,
    key_taken,
    list_queues,
    queue_entry,
    rewait,
    submit_key,
    summary,
    update_data,
    update_key,
)

__all__ = [
    "QS_ERROR",
    "QS_RECEIVED",
    "QS_USED",
    "QS_WAITING",
    "QUEUE_STATUS_CODES",
    "QUEUE_STATUS_NAMES",
    "QueueEntry",
    "bind_child",
    "bind_event",
    "cancel_key",
    "child_of",
    "children",
    "close_waiting",
    "discard_entries",
    "entries",
    "event_posted",
    "feedback",
    "find_event_type",
    "find_queue",
    "key_info",
    "key_taken",
    "leave_feedback",
    "list_event_types",
    "list_queues",
    "post_event",
    "queue_entry",
    "retry_child",
    "rewait",
    "search_events",
    "step_event",
    "step_waits",
    "submit_key",
    "summary",
    "update_data",
    "update_key",
    "wake_order",
    "wake_parent",
]
