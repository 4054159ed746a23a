"""The system event operations: the last event id, the last events, and a wait for new ones,
with the reference's RPC names and filters (:mod:`qorus_server.events`).

=================================  =====================================  ====================
RPC                                REST                                   arguments
=================================  =====================================  ====================
omq.system.get-last-event-id       GET system/events?action=lastId        -
omq.system.get-last-events         GET system/events                      count, filter
omq.system.get-last-events-or      -                                      count, filter,
                                                                          and_not, nfilt
omq.system.get-last-events-and     -                                      count, filter,
                                                                          or_not, nfilt
omq.system.wait-for-events         GET system/events?action=wait          min_id, timeout_ms,
                                                                          filter
omq.system.wait-for-events-or      -                                      min_id, criteria,
                                                                          timeout_ms, and_not,
                                                                          nfilt
omq.system.wait-for-events-and     -                                      min_id, criteria,
                                                                          timeout_ms, or_not,
                                                                          nfilt
=================================  =====================================  ====================

An answer is ``{lastid, events}`` (``events`` left out when there are none; ``shutdown: true``
once the system is shutting down). ``get-last-events`` looks at the last ``count`` events the
server holds (0: all of them) and answers those that pass the filter. A wait answers the events
of id ``min_id`` or more that pass the filter, waiting up to ``timeout_ms`` (0: not at all; at
most :data:`~qorus_server.events.MAX_WAIT_MS`, a longer one is cut) for one. A caller only ever
gets the events it may see (:func:`qorus_server.events.visible`).

A wait holds a worker thread: at most :data:`MAX_WAITERS` wait at once (another answers 503
EVENT-WAIT-LIMIT with ``Retry-After``), and every wait ends at once when the system shuts
down.
"""

from __future__ import annotations

import threading
from typing import Any

from qorus_core.bounded import DEFAULT_LIMITS, LimitError, load_yaml
from qorus_core.model import args as a
from qorus_core.model.errors import UnavailableError, ValidationError
from qorus_server.api.registry import CallContext, operation
from qorus_server.event_filters import EventFilter, parse_criteria, parse_filter
from qorus_server.events import MAX_WAIT_MS, Event, for_user

#: the most waits in progress at once (each holds a worker thread until it ends)
MAX_WAITERS = 8

_waiters = threading.BoundedSemaphore(MAX_WAITERS)


def _structured(value: object, name: str) -> object:
    """A structured argument: as sent in a body or an RPC call, or as YAML / JSON text (a
    REST query argument), bounded."""
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    try:
        return load_yaml(value, DEFAULT_LIMITS)
    except LimitError as exc:
        raise ValidationError(f"{name} is refused: {exc.desc}") from None
    except Exception:
        raise ValidationError(f"{name}: its text is not valid YAML or JSON") from None


def _filter(value: object, name: str = "filter") -> EventFilter:
    return parse_filter(_structured(value, name), name)


def _criteria(value: object, name: str) -> Any:
    return parse_criteria(_structured(value, name), name)


def _answer(res: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"lastid": res["lastid"]}
    events: list[Event] = res.get("events") or []
    if events:
        out["events"] = [e.as_dict() for e in events]
    if res.get("shutdown"):
        out["shutdown"] = True
    return out


def _count(value: object) -> int:
    return a.arg_int(value, "count", minimum=0)


def _last(ctx: CallContext, count: int, accept: EventFilter) -> dict[str, Any]:
    bus = ctx.server.events
    window = bus.last(count if count else bus.max_events)
    take = for_user(ctx.user, None if accept.everything else accept)
    out: dict[str, Any] = {"lastid": bus.last_id, "events": [e for e in window if take(e)]}
    if bus.stopping:
        out["shutdown"] = True
    return _answer(out)


def _wait(
    ctx: CallContext, min_id: object, timeout_ms: object, accept: EventFilter
) -> dict[str, Any]:
    first = a.arg_int(min_id, "min_id", minimum=0)
    ms = 0 if a.absent(timeout_ms) else a.arg_int(timeout_ms, "timeout_ms", minimum=0)
    ms = min(ms, MAX_WAIT_MS)
    take = for_user(ctx.user, None if accept.everything else accept)
    bus = ctx.server.events
    if ms == 0:
        return _answer(bus.query(first, 0.0, take))
    if not _waiters.acquire(blocking=False):
        exc = UnavailableError(
            f"{MAX_WAITERS} event waits are in progress; try again shortly",
            code="EVENT-WAIT-LIMIT",
        )
        exc.retry_after = 1
        raise exc
    try:
        return _answer(bus.query(first, ms / 1000.0, take))
    finally:
        _waiters.release()


def _negated(
    mode: str, criteria: object, negated: object, nfilt: object, names: tuple[str, str]
) -> Any:
    crit = _criteria(criteria, names[0])
    neg = _criteria(negated, names[1])
    nf = _criteria(nfilt, "nfilt")
    if not (crit or neg or nf):
        code = "GET-EVENTS-OR-ERROR" if mode == "or" else "GET-EVENTS-AND-ERROR"
        raise ValidationError(f"no criteria given ({names[0]}, {names[1]} or nfilt)", code=code)
    return EventFilter(crit, mode, neg, nf)


@operation(
    "events.last-id",
    rest=[("GET", "system/events", "lastId")],
    rpc="omq.system.get-last-event-id",
    blocking=False,
)
def last_id(ctx: CallContext) -> int:
    """The id of the last system event (0 before the first)."""
    return ctx.server.events.last_id


@operation(
    "events.last",
    rest=[("GET", "system/events", None)],
    rpc="omq.system.get-last-events",
)
def last(ctx: CallContext, count: object = 100, filter: object = None) -> dict[str, Any]:
    """The last ``count`` events (0: all kept) that pass ``filter``: ``{lastid, events}``."""
    return _last(ctx, _count(count), _filter(filter))


@operation("events.last-or", rpc="omq.system.get-last-events-or")
def last_or(
    ctx: CallContext,
    count: object = 0,
    filter: object = None,
    and_not: object = None,
    nfilt: object = None,
) -> dict[str, Any]:
    """The last ``count`` events matching any criteria hash of ``filter``, less those
    matching every hash of ``and_not`` and those matching any hash of ``nfilt``."""
    accept = _negated("or", filter, and_not, nfilt, ("filter", "and_not"))
    return _last(ctx, _count(count), accept)


@operation("events.last-and", rpc="omq.system.get-last-events-and")
def last_and(
    ctx: CallContext,
    count: object = 0,
    filter: object = None,
    or_not: object = None,
    nfilt: object = None,
) -> dict[str, Any]:
    """The last ``count`` events matching every criteria hash of ``filter``, plus those
    matching none of ``or_not``, less those matching any hash of ``nfilt``."""
    accept = _negated("and", filter, or_not, nfilt, ("filter", "or_not"))
    return _last(ctx, _count(count), accept)


@operation(
    "events.wait",
    rest=[("GET", "system/events", "wait")],
    rpc="omq.system.wait-for-events",
)
def wait(
    ctx: CallContext, min_id: object = 1, timeout_ms: object = 0, filter: object = None
) -> dict[str, Any]:
    """The events of id ``min_id`` or more that pass ``filter``, waiting up to ``timeout_ms``
    for one: ``{lastid, events}`` (``shutdown`` at shutdown)."""
    return _wait(ctx, min_id, timeout_ms, _filter(filter))


@operation("events.wait-or", rpc="omq.system.wait-for-events-or")
def wait_or(
    ctx: CallContext,
    min_id: object = 1,
    criteria: object = None,
    timeout_ms: object = 0,
    and_not: object = None,
    nfilt: object = None,
) -> dict[str, Any]:
    """:func:`wait` for the events matching any hash of ``criteria`` (less ``and_not`` and
    ``nfilt`` matches)."""
    accept = _negated("or", criteria, and_not, nfilt, ("criteria", "and_not"))
    return _wait(ctx, min_id, timeout_ms, accept)


@operation("events.wait-and", rpc="omq.system.wait-for-events-and")
def wait_and(
    ctx: CallContext,
    min_id: object = 1,
    criteria: object = None,
    timeout_ms: object = 0,
    or_not: object = None,
    nfilt: object = None,
) -> dict[str, Any]:
    """:func:`wait` for the events matching every hash of ``criteria`` (plus those matching
    none of ``or_not``, less ``nfilt`` matches)."""
    accept = _negated("and", criteria, or_not, nfilt, ("criteria", "or_not"))
    return _wait(ctx, min_id, timeout_ms, accept)
