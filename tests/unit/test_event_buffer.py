"""The one event buffer: events are posted only after the commit, with severity and caller."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, text

from qorus_core.db.unit import EventBuffer, after_commit, unit


class Sink:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any, str, str]] = []

    def post(
        self, eventstr: str, info: Any = None, *, severity: str = "INFO", caller: str = ""
    ) -> None:
        self.seen.append((eventstr, info, severity, caller))


def test_buffer_keeps_severity_and_caller() -> None:
    buf = EventBuffer(caller="engine")
    buf.post("A", {"x": 1}, severity="MAJOR", caller="api")
    buf.post("B")
    buf.append(("C", {"y": 2}))
    sink = Sink()
    buf.flush(sink)
    assert sink.seen == [
        ("A", {"x": 1}, "MAJOR", "api"),
        ("B", None, "INFO", "engine"),
        ("C", {"y": 2}, "INFO", "engine"),
    ]
    buf.flush(sink)  # posted once only
    assert len(sink.seen) == 3


def test_after_commit_posts_after_commit_and_never_on_failure() -> None:
    engine = create_engine("sqlite://")
    sink = Sink()
    with after_commit(engine, sink) as (conn, later):
        conn.execute(text("select 1"))
        with unit(conn, later) as (_, pending):
            pending.append(("INNER", {}))
        later.post("OUTER", severity="WARNING")
        assert sink.seen == []
    assert sink.seen == [("INNER", {}, "INFO", "engine"), ("OUTER", None, "WARNING", "")]
    sink.seen.clear()
    with pytest.raises(RuntimeError), after_commit(engine, sink) as (_, later):
        later.post("LOST")
        raise RuntimeError("rolled back")
    assert sink.seen == []
