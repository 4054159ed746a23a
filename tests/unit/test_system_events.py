"""The system event bus: increasing ids capped at max-events, the event hash, the reference's
filters (or / and / negated / nfilt, info matches), waits with timeouts that end at shutdown,
and who sees which events."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from qorus_core.db import audit
from qorus_core.model.errors import ValidationError
from qorus_server.event_filters import EventFilter, parse_criteria, parse_filter
from qorus_server.events import (
    EVENT_CLASSES,
    EVENT_CODES,
    Event,
    EventBus,
    visible,
)


def test_ids_increase_by_one_and_the_ring_is_capped() -> None:
    bus = EventBus(max_events=5)
    for i in range(12):
        bus.post("USER_EVENT", {"n": i})
    assert bus.last_id == 12
    kept = bus.last(100)
    assert [e.id for e in kept] == [8, 9, 10, 11, 12]
    assert [e.id for e in bus.since(9)] == [10, 11, 12]
    assert bus.since(1) == kept  # older ones are gone
    assert bus.since(12) == []


def test_the_event_hash_has_the_reference_fields() -> None:
    bus = EventBus()
    ev = bus.post("WORKFLOW_STATUS_CHANGED", {"workflowid": 3, "password": "s3cr3t"})
    h = ev.as_dict()
    assert {
        "id",
        "time",
        "class",
        "classstr",
        "event",
        "eventstr",
        "severity",
        "severitystr",
        "caller",
        "info",
    } <= set(h)
    assert (h["class"], h["classstr"]) == (EVENT_CLASSES["WORKFLOW"], "WORKFLOW")
    assert (h["event"], h["eventstr"]) == (2009, "WORKFLOW_STATUS_CHANGED")
    assert (h["severity"], h["severitystr"]) == (0, "INFO")
    assert h["caller"] == {"user": "<internal>", "api": "internal"}
    assert h["info"]["password"] == "********"
    user = bus.post("USER_EVENT", {"x": 1}, user_severity="major").as_dict()
    assert (user["userseverity"], user["userseveritystr"]) == (3, "MAJOR")
    assert (user["compositeseverity"], user["compositeseveritystr"]) == (3, "MAJOR")
    with pytest.raises(ValueError):
        bus.post("NO_SUCH_EVENT")
    with pytest.raises(ValueError):
        bus.post("USER_EVENT", user_severity="LOUD")


def test_the_caller_is_the_api_call_in_force() -> None:
    bus = EventBus()
    trail = audit.AuditTrail(frozenset(), who="alice", source="10.0.0.1:5000", reason="RPC: x")
    with audit.using(trail):
        ev = bus.post("SYSTEM_ERROR")
    assert ev.caller == {"user": "alice", "api": "RPC: x", "source": "10.0.0.1:5000"}


def _ev(bus: EventBus, event: str, **info: Any) -> Event:
    return bus.post(event, info)


def test_or_and_negated_filters_follow_the_reference() -> None:
    bus = EventBus()
    wf = _ev(bus, "WORKFLOW_START", workflowid=1)
    svc = _ev(bus, "SERVICE_START", serviceid=2)
    err = bus.post("SYSTEM_ERROR", {"err": "X"}, severity="MAJOR")
    # or: any hash, every key of it
    f = parse_filter([{"classstr": "workflow"}, {"event": EVENT_CODES["SERVICE_START"]}])
    assert [f(e) for e in (wf, svc, err)] == [True, True, False]
    f = parse_filter([{"classstr": "WORKFLOW", "minseverity": 3}])
    assert [f(e) for e in (wf, svc, err)] == [False, False, False]
    f = parse_filter({"or": [{"all": 1}], "and_not": [{"classstr": "SERVICE"}]})
    assert [f(e) for e in (wf, svc, err)] == [True, False, True]
    f = parse_filter({"or": [{"all": 1}], "nfilt": [{"minseveritystr": "MAJOR"}]})
    assert [f(e) for e in (wf, svc, err)] == [True, True, False]
    # and: every hash, some key of it; or_not adds what matches none
    f = parse_filter(
        {"and": [{"classstr": "WORKFLOW", "eventstr": "SERVICE_START"}, {"minseverity": 0}]}
    )
    assert [f(e) for e in (wf, svc, err)] == [True, True, False]
    f = parse_filter({"and": [{"none": 1}], "or_not": [{"classstr": "WORKFLOW"}]})
    assert [f(e) for e in (wf, svc, err)] == [False, True, True]
    f = parse_filter([{"eventstrhash": {"WORKFLOW_START": True, "SYSTEM_ERROR": True}}])
    assert [f(e) for e in (wf, svc, err)] == [True, False, True]
    assert parse_filter(None).everything and parse_filter([]).everything


def test_info_criteria_match_nested_values() -> None:
    bus = EventBus()
    done = _ev(bus, "WORKFLOW_STATUS_CHANGED", workflowid=5, info={"old": "I", "new": "COMPLETE"})
    err = _ev(bus, "WORKFLOW_STATUS_CHANGED", workflowid=5, info={"old": "I", "new": "ERROR"})
    other = _ev(bus, "WORKFLOW_STATUS_CHANGED", workflowid=6, info={"new": "ERROR"})
    f = parse_filter([{"info": {"workflowid": "5", "info": {"new": "ERROR"}}}])
    assert [f(e) for e in (done, err, other)] == [False, True, False]


@pytest.mark.parametrize(
    "bad",
    [
        5,
        "text",
        [1],
        [{"bogus": 1}],
        [{"class": "abc"}],
        [{"class": True}],
        [{"minseveritystr": "LOUD"}],
        [{"classhash": [1]}],
        [{"info": {"a": {"b": {"c": {"d": {"e": 1}}}}}}],
        [{"info": {"a": float("nan")}}],
        [{"info": {"a": [1]}}],
        [{"info": {"k" * 500: 1}}],
        [{"all": 1}] * 101,
        {"or": [], "and": []},
        {"or": [], "bogus": []},
    ],
)
def test_hostile_filters_are_400_naming_the_argument(bad: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_filter(bad, "filter")
    assert "filter" in exc.value.desc and exc.value.http_status == 400


def test_a_criteria_list_is_a_list_of_hashes() -> None:
    assert parse_criteria({"class": 101}) == [[("class", 101)]]
    assert parse_criteria([{"eventstrhash": {"a": True, "b": False}}]) == [
        [("eventstrhash", frozenset({"A"}))]
    ]


def test_query_waits_for_a_matching_event_and_times_out() -> None:
    bus = EventBus()
    bus.post("SYSTEM_ERROR")
    res = bus.query(1, 0.0)
    assert res["lastid"] == 1 and [e.id for e in res["events"]] == [1]
    res = bus.query(2, 0.05)
    assert res == {"lastid": 1}
    want = parse_filter([{"eventstr": "USER_EVENT"}])

    def later() -> None:
        time.sleep(0.1)
        bus.post("SYSTEM_ERROR")  # not wanted: the wait goes on
        time.sleep(0.1)
        bus.post("USER_EVENT")

    threading.Thread(target=later).start()
    t0 = time.monotonic()
    res = bus.query(2, 5.0, want)
    assert [e.eventstr for e in res["events"]] == ["USER_EVENT"] and res["lastid"] == 3
    assert time.monotonic() - t0 < 4


def test_shutdown_ends_every_wait_at_once() -> None:
    bus = EventBus()
    out: list[Any] = []
    th = threading.Thread(target=lambda: out.append(bus.query(1, 30.0)))
    th.start()
    time.sleep(0.1)
    t0 = time.monotonic()
    bus.shutdown()
    th.join(5)
    assert not th.is_alive() and time.monotonic() - t0 < 2
    assert out == [{"lastid": 0, "shutdown": True}]
    assert bus.query(1, 30.0) == {"lastid": 0, "shutdown": True}  # no new wait either


def test_health_changes_are_posted_once() -> None:
    bus = EventBus()
    bus.health("GREEN")
    bus.health("RED", {"reason": "db"})
    bus.health("RED")
    bus.health("GREEN")
    evs = [e.info for e in bus.last(10)]
    assert evs == [
        {"health": "RED", "old-health": "GREEN", "reason": "db"},
        {"health": "GREEN", "old-health": "RED"},
    ]


@dataclass
class User:
    workflow_ids: set[int] = field(default_factory=set)
    service_ids: set[int] = field(default_factory=set)
    job_ids: set[int] = field(default_factory=set)
    group_ids: frozenset[int] = frozenset()
    all_interfaces: bool = False

    def sees_workflow(self, i: int) -> bool:
        return i in self.workflow_ids

    def sees_service(self, i: int) -> bool:
        return i in self.service_ids

    def sees_job(self, i: int) -> bool:
        return i in self.job_ids


def test_a_user_sees_the_events_of_its_groups_interfaces() -> None:
    bus = EventBus()
    mine = _ev(bus, "WORKFLOW_STATUS_CHANGED", workflowid=1)
    theirs = _ev(bus, "WORKFLOW_STATUS_CHANGED", workflowid=2)
    svc = _ev(bus, "SERVICE_START", serviceid=7)
    job = _ev(bus, "JOB_START", jobid=9)
    system = _ev(bus, "SYSTEM_STARTUP")
    group = _ev(bus, "GROUP_STATUS_CHANGED", groupid=4, name="G")
    user_mine = bus.post("USER_EVENT", {}, scope=("workflow", 1))
    user_theirs = bus.post("USER_EVENT", {}, scope=("workflow", 2))
    u = User({1}, set(), {9}, frozenset({4}))
    seen = [visible(u, e) for e in (mine, theirs, svc, job, system, group, user_mine, user_theirs)]
    assert seen == [True, False, False, True, True, True, True, False]
    assert all(visible(User(all_interfaces=True), e) for e in bus.last(100))
    assert all(visible(None, e) for e in bus.last(100))  # RBAC off
    assert EventFilter().everything
