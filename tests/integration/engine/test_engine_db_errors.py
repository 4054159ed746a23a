"""A database error in the middle of an order: the order goes back to RETRY by itself.

The worker's transactions are cut by a wrapper around ``WorkerDb.tx``: either before the
COMMIT (nothing was written) or right after it (written, but the worker is told it failed),
which are the two things a dropped connection can mean. One worker, so the transactions come
in a known order: 1 the claim, 2 step A's commit, 3 step B's commit with the order's end.
Each step appends ``order step primary|validation`` to a marker file.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from qorus_core.db.orders import create_orders
from qorus_server.engine.manager import WorkflowManager
from qorus_server.engine.workerdb import WorkerDb
from tests.helpers.definitions import add_step, add_workflow
from tests.helpers.engine import Logs, make_server, step_rows, wait_orders

pytestmark = pytest.mark.integration

MARK = """
class {name}(wf.QorusNormalStep):
    def _note(self, what):
        with open(wfapi.getStaticData("markers"), "a") as f:
            f.write("%d {name} %s\\n" % (wfapi.getWfiid(), what))

    def primary(self):
        self._note("primary")

    def validation(self):
        self._note("validation")
        return OMQ.StatRetry
"""


def cut_tx(monkeypatch: pytest.MonkeyPatch, at: int, after_commit: bool) -> list[int]:
    """Make the ``at``-th worker transaction fail; the list fills with ``at`` once it did."""
    original = WorkerDb.tx
    counter = itertools.count(1)
    done: list[int] = []

    @contextmanager
    def tx(self: WorkerDb) -> Iterator[Connection]:
        n = next(counter)
        cut = OperationalError("COMMIT", {}, Exception("connection cut by the test"))
        with original(self) as conn:
            yield conn
            if n == at and not after_commit:
                done.append(n)
                raise cut
        if n == at and after_commit:
            done.append(n)
            self.close()
            raise cut

    monkeypatch.setattr(WorkerDb, "tx", tx)
    return done


@pytest.fixture
def one_worker(engine: Engine, logs: Logs) -> Iterator[tuple[WorkflowManager, SimpleNamespace]]:
    server = make_server(engine, **{"workflow-workers": 1, "engine-db-retry-max": 1})
    m = WorkflowManager(logger_factory=logs, poll_interval=0.2)
    m.start(server)
    yield m, server
    m.stop()


def start(engine: Engine, manager: WorkflowManager, markers: Path, count: int) -> list[int]:
    add_step(engine, "MarkA", MARK.format(name="MarkA"))
    add_step(engine, "MarkB", MARK.format(name="MarkB"))
    wfid = add_workflow(engine, "CUT", ["MarkA", "MarkB"])
    ids = create_orders(engine, wfid, [{"staticdata": {"markers": str(markers)}}] * count)
    manager.start_workflow("CUT")
    return ids


def runs(markers: Path) -> Counter[tuple[str, ...]]:
    return Counter(tuple(line.split()) for line in markers.read_text().splitlines())


def key(wfiid: int, step: str, what: str) -> tuple[str, ...]:
    return (str(wfiid), step, what)


def test_step_commit_lost_runs_again_after_validation(
    engine: Engine,
    one_worker: tuple[WorkflowManager, SimpleNamespace],
    logs: Logs,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    manager, _server = one_worker
    markers = tmp_path / "markers"
    cut = cut_tx(monkeypatch, 2, after_commit=False)
    first, *others = start(engine, manager, markers, 3)
    assert set(wait_orders(engine, [first, *others]).values()) == {"C"}
    assert cut == [2]
    seen = runs(markers)
    # step A of the first order never committed: validation(), then primary() once more
    assert seen[key(first, "MarkA", "primary")] == 2
    assert seen[key(first, "MarkA", "validation")] == 1
    assert seen[key(first, "MarkB", "primary")] == 1
    # the other two were claimed but not started: given back as they were, no validation()
    for wfiid in others:
        assert seen[key(wfiid, "MarkA", "primary")] == 1
        assert not any(k[2] == "validation" for k in seen if k[0] == str(wfiid))
    assert {r["stepstatus"] for r in step_rows(engine, first)} == {"C"}
    wf_log = "\n".join(logs.messages("CUT"))
    assert f"order {first}: database error (connection cut by the test)" in wf_log
    assert "2 claimed order(s) not started are set aside" in wf_log
    assert "2 claimed order(s) that had not started were given back" in wf_log
    assert "went back to RETRY" in "\n".join(logs.messages("engine"))


def test_step_commit_done_but_reported_failed_is_not_run_again(
    engine: Engine,
    one_worker: tuple[WorkflowManager, SimpleNamespace],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    manager, _server = one_worker
    markers = tmp_path / "markers"
    cut = cut_tx(monkeypatch, 2, after_commit=True)
    (wfiid,) = start(engine, manager, markers, 1)
    assert wait_orders(engine, [wfiid])[wfiid] == "C"
    assert cut == [2]
    seen = runs(markers)
    assert seen[key(wfiid, "MarkA", "primary")] == 1  # it had committed: never again
    assert seen[key(wfiid, "MarkA", "validation")] == 0
    # the worker stopped at the error, so B had not run; it may have: validation() first
    assert seen[key(wfiid, "MarkB", "validation")] == 1
    assert seen[key(wfiid, "MarkB", "primary")] == 1


def test_claim_committed_but_reported_failed_is_handed_back(
    engine: Engine,
    one_worker: tuple[WorkflowManager, SimpleNamespace],
    logs: Logs,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    manager, server = one_worker
    markers = tmp_path / "markers"
    cut = cut_tx(monkeypatch, 1, after_commit=True)
    ids = start(engine, manager, markers, 4)
    assert set(wait_orders(engine, ids).values()) == {"C"}
    assert cut == [1]
    seen = runs(markers)
    for wfiid in ids:
        assert seen[key(wfiid, "MarkA", "primary")] == 1
        assert seen[key(wfiid, "MarkB", "primary")] == 1
    assert "4 order(s) left IN-PROGRESS" in "\n".join(logs.messages("engine"))
    assert len(manager.holdings) == 0
    recovered = [e.info for e in server.events.last(100) if e.eventstr == "WORKFLOW_RECOVERED"]
    assert [i["name"] for i in recovered] == ["CUT"] and recovered[0]["new_status"] == "RETRY"
