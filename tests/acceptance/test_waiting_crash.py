"""kill -9 a real ``qorus`` while orders wait (ASYNC-WAITING on a queue key, EVENT-WAITING on
an event, WAITING on a child order); after the restart on the same database they still wait on
the same things, and data and events given over REST complete them, each primary run once.

The interface files are written as a user writes them (YAML and Python code) and loaded with
``oload``; every workflow has ``autostart: 1``. The keys derive from the orders' static data
``ref``: ASYNC key ``async-REF``, event key ``ev-REF``, the child's ref ``child-REF``."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import api, create, get, tool, wait_status

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

QUEUE, EVENT = "acc-wait-q", "acc-wait-ev"

#: the step code counts the runs of ``primary()`` in the dynamic data (committed with the step)
RUNS = 'wfapi.updateDynamicData({"primary": (wfapi.getDynamicData("primary") or 0) + 1})'

FILES = {
    f"{QUEUE}.qqueue.yaml": f"""
        type: queue
        name: {QUEUE}
        desc: the queue of AccWaitAsync
    """,
    f"{EVENT}.qevent.yaml": f"""
        type: event
        name: {EVENT}
        desc: the event type of AccWaitEvent
    """,
    "AccWaitAsync-1.0.qstep.yaml": f"""
        type: step
        name: AccWaitAsync
        desc: submits the key async-REF, keeps the data it gets
        version: "1.0"
        lang: python
        base-class-name: QorusAsyncStep
        class-name: AccWaitAsync
        steptype: ASYNC
        queue: {QUEUE}
        code: AccWaitAsync-1.0.qstep.py
    """,
    "AccWaitAsync-1.0.qstep.py": f"""
        from wf import QorusAsyncStep


        class AccWaitAsync(QorusAsyncStep):
            def primary(self):
                {RUNS}
                self.submitAsyncKey("async-" + wfapi.getStaticData("ref"))

            def end(self, data):
                wfapi.updateDynamicData({{"got": data}})
    """,
    "AccWaitEvent-1.0.qstep.yaml": f"""
        type: step
        name: AccWaitEvent
        desc: waits on the event ev-REF
        version: "1.0"
        lang: python
        base-class-name: QorusEventStep
        class-name: AccWaitEvent
        steptype: EVENT
        event: {EVENT}
        code: AccWaitEvent-1.0.qstep.py
    """,
    "AccWaitEvent-1.0.qstep.py": f"""
        from wf import QorusEventStep


        class AccWaitEvent(QorusEventStep):
            def primary(self):
                {RUNS}
                self.bindEvent("ev-" + wfapi.getStaticData("ref"))
    """,
    "AccWaitSub-1.0.qstep.yaml": """
        type: step
        name: AccWaitSub
        desc: starts an ACC-WAIT-CHILD order with the ref child-REF
        version: "1.0"
        lang: python
        base-class-name: QorusSubworkflowStep
        class-name: AccWaitSub
        steptype: SUBWORKFLOW
        code: AccWaitSub-1.0.qstep.py
    """,
    "AccWaitSub-1.0.qstep.py": f"""
        from wf import QorusSubworkflowStep


        class AccWaitSub(QorusSubworkflowStep):
            def primary(self):
                {RUNS}
                ref = "child-" + wfapi.getStaticData("ref")
                self.bindSubworkflow({{"name": "ACC-WAIT-CHILD"}}, {{"staticdata": {{"ref": ref}}}})
    """,
    "AccWaitAfter-1.0.qstep.yaml": """
        type: step
        name: AccWaitAfter
        desc: the step after the wait (in the next segment)
        version: "1.0"
        lang: python
        base-class-name: QorusNormalStep
        class-name: AccWaitAfter
        steptype: NORMAL
        code: AccWaitAfter-1.0.qstep.py
    """,
    "AccWaitAfter-1.0.qstep.py": """
        from wf import QorusNormalStep


        class AccWaitAfter(QorusNormalStep):
            def primary(self):
                wfapi.updateDynamicData({"after": True})
    """,
}
WORKFLOWS = {
    "ACC-WAIT-ASYNC": "AccWaitAsync",
    "ACC-WAIT-EVENT": "AccWaitEvent",
    "ACC-WAIT-PARENT": "AccWaitSub",
    "ACC-WAIT-CHILD": "AccWaitEvent",
}
for _wf, _step in WORKFLOWS.items():
    FILES[f"{_wf}-1.0.qwf.yaml"] = f"""
        type: workflow
        name: {_wf}
        desc: {_step}, then AccWaitAfter
        version: "1.0"
        autostart: 1
        steps:
          - "{_step}:1.0"
          - "AccWaitAfter:1.0"
    """


def write_files(path: Path) -> Path:
    path.mkdir()
    for name, text in FILES.items():
        (path / name).write_text(textwrap.dedent(text).lstrip())
    return path


def order(server: Any, wfiid: int) -> dict[str, Any]:
    info: dict[str, Any] = get(server, f"orders/{wfiid}")
    return info


def steps(info: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["stepname"], s["stepstatus"]) for s in info["StepInstances"]]


def waits_on(info: dict[str, Any]) -> dict[str, Any]:
    """What the order's first step waits on: queue key and its status, event key, child."""
    step = info["StepInstances"][0]
    keys = ("queuekey", "queue_data_status", "eventkey", "posted", "subworkflow_instanceid")
    return {k: step[k] for k in keys if step.get(k) is not None}


def ok(r: httpx.Response) -> Any:
    assert r.status_code == 200, r.text
    return r.json()


def test_orders_waiting_across_kill_9_complete_from_outside(
    omq_dir: Path, tmp_path: Path, start_qorus: Any
) -> None:
    files = write_files(tmp_path / "iface")
    res = tool("oload", "--qorus-dir", str(omq_dir), str(files))
    assert res.returncode == 0, res.stdout + res.stderr

    q = start_qorus(omq_dir)
    ids = {
        ref: create(q, wf, staticdata={"ref": ref})
        for wf, refs in (
            ("ACC-WAIT-ASYNC", ("a1", "a2")),
            ("ACC-WAIT-EVENT", ("e1", "e2")),
            ("ACC-WAIT-PARENT", ("p1",)),
        )
        for ref in refs
    }
    want = {"a": "ASYNC-WAITING", "e": "EVENT-WAITING", "p": "WAITING"}
    for ref, wfiid in ids.items():
        wait_status(q, wfiid, want[ref[0]])
    [child] = order(q, ids["p1"])["SubWorkflowInstances"]
    assert child["name"] == "ACC-WAIT-CHILD"
    ids["child-p1"] = child["subworkflow_instanceid"]
    want["c"] = "EVENT-WAITING"
    wait_status(q, ids["child-p1"], "EVENT-WAITING")
    before = {ref: order(q, wfiid) for ref, wfiid in ids.items()}
    assert waits_on(before["a1"]) == {"queuekey": "async-a1", "queue_data_status": "WAITING"}
    assert waits_on(before["e2"]) == {"eventkey": "ev-e2", "posted": False}
    assert waits_on(before["p1"]) == {"subworkflow_instanceid": ids["child-p1"]}
    assert waits_on(before["child-p1"]) == {"eventkey": "ev-child-p1", "posted": False}

    q.kill()  # SIGKILL: no shutdown step runs
    q2 = start_qorus(omq_dir)
    for ref, wfiid in ids.items():
        info = order(q2, wfiid)
        assert info["workflowstatus"] == want[ref[0]], (ref, info["workflowstatus"])
        assert steps(info) == steps(before[ref]), ref
        assert waits_on(info) == waits_on(before[ref]), ref
        assert info["ErrorInstances"] == [], ref

    # data for the queue keys; the events by both REST forms; the child's event
    for ref in ("a1", "a2"):
        body = {"key": f"async-{ref}", "data": {"answer": ref}}
        assert ok(httpx.post(api(q2, f"async-queues/{QUEUE}?action=update"), json=body)) == "OK"
    assert ok(httpx.put(api(q2, f"sync-events/{EVENT}/ev-e1?action=post"))) is True
    body = {"eventkey": "ev-e2"}
    assert ok(httpx.put(api(q2, f"sync-events/{EVENT}?action=post"), json=body)) is True
    assert ok(httpx.put(api(q2, f"sync-events/{EVENT}/ev-child-p1?action=post"))) is True

    for ref, wfiid in ids.items():
        info = wait_status(q2, wfiid, "COMPLETE")
        assert [s for _n, s in steps(info)] == ["COMPLETE", "COMPLETE"], ref
        data = info["dynamicdata"]
        assert data["after"] is True and data["primary"] == 1, (ref, data)
        if ref.startswith("a"):
            assert data["got"] == {"answer": ref}
            entry = waits_on(info)
            assert entry["queuekey"] == f"async-{ref}"
            assert entry["queue_data_status"] in ("RECEIVED", "USED")
        elif not ref.startswith("p"):
            assert waits_on(info)["posted"] is True, ref
    assert [c["workflowstatus"] for c in order(q2, ids["p1"])["SubWorkflowInstances"]] == [
        "COMPLETE"
    ]
    code, err = q2.terminate()
    assert code == 0, err
