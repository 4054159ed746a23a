"""oload against a real system schema: load, reload, references, validation, delete, releases."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from oload_fixtures import job, service, step, workflow, write
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from qorus_cli.oload import main as oload_main
from qorus_core.db import tables as t
from qorus_core.db.refdata import now
from qorus_core.loader import LoadError, check, load
from qorus_core.loader.delete import delete_objects, parse_spec
from qorus_core.model.errors import QorusError

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "releases" / "demo" / "demo.qrf"
# the real Qorus examples live in ../shared beside the repository (as in CI)
EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "reference" / "examples"
COUNTED = (
    t.steps,
    t.workflows,
    t.workflow_steps,
    t.segment_steps,
    t.services,
    t.service_methods,
    t.jobs,
    t.classes,
    t.error_definitions,
    t.workflow_errors,
    t.groups,
    t.group_workflows,
    t.queues,
    t.audit_events,
)


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            tb.name: conn.execute(select(func.count()).select_from(tb)).scalar_one()
            for tb in COUNTED
        }


def one(engine: Engine, q: object) -> object:
    with engine.connect() as conn:
        return conn.execute(q).scalar_one()  # type: ignore[call-overload]


def test_demo_release_load_and_reload(engine: Engine) -> None:
    res = load(engine, [str(DEMO)], audit=True)
    assert res.count("new") == 11
    assert res.refresh == {"workflow", "service", "job"}
    with engine.connect() as conn:
        wf = conn.execute(select(t.workflows).where(t.workflows.c.name == "ORDER-FULFILMENT")).one()
        assert json.loads(wf.steps_def) == [
            "ValidateOrder:1.0",
            ["ReserveStock:1.0", ["ChargePayment:1.0", "IssueInvoice:1.0"]],
            "ShipOrder:1.0",
        ]
        assert json.loads(wf.options) == {
            "shipping-carrier": {"desc": "carrier used to ship orders", "value": None}
        }
        assert wf.enabled and wf.autostart == 1 and wf.sla_threshold == 600
        names = dict(conn.execute(select(t.steps.c.stepid, t.steps.c.name)).all())
        deps = {(names[s], names.get(d, 0)) for _w, s, d in conn.execute(select(t.workflow_steps))}
        assert deps == {
            ("ValidateOrder", 0),
            ("ReserveStock", "ValidateOrder"),
            ("ChargePayment", "ValidateOrder"),
            ("IssueInvoice", "ChargePayment"),
            ("ShipOrder", "ReserveStock"),
            ("ShipOrder", "IssueInvoice"),
        }
        keys = set(conn.execute(select(t.workflow_keys.c.keyname)).scalars())
        assert keys == {"order_id", "customer_id"}
        errs = {r.error: r for r in conn.execute(select(t.workflow_errors))}
        assert errs["STOCK-UNAVAILABLE"].status == "RETRY"
        assert errs["STOCK-UNAVAILABLE"].retry_delay == 60
        assert errs["INVALID-ORDER"].business and errs["CARRIER-UNAVAILABLE"].severity == "MAJOR"
        st = conn.execute(select(t.steps).where(t.steps.c.name == "ValidateOrder")).one()
        assert st.class_name == "ValidateOrder" and st.language == "python"
        assert "class ValidateOrder(QorusNormalStep)" in st.code
        assert json.loads(st.classes) == ["OrderRules"]
        methods = {r.name: r for r in conn.execute(select(t.service_methods))}
        assert methods["reserve"].locktype == "write" and methods["reserve"].write
        assert methods["available"].locktype == "read" and not methods["available"].write
        jb = conn.execute(select(t.jobs)).one()
        assert (jb.minute, jb.hour, jb.day, jb.month, jb.wday) == ("*/15", "*", "*", "*", "*")
        assert conn.execute(select(func.count()).select_from(t.group_workflows)).scalar_one() == 1
        audit = conn.execute(
            select(func.count())
            .select_from(t.audit_events)
            .where(t.audit_events.c.audit_event_code == 21)
        ).scalar_one()
        assert audit == 11
    before = counts(engine)
    again = load(engine, [str(DEMO)])
    assert again.count("unchanged") == 11
    assert counts(engine) == before


def test_reload_updates_in_place(engine: Engine, tmp_path: Path) -> None:
    step(tmp_path, "S1")
    step(tmp_path, "S2")
    wf = workflow(tmp_path, "WF", '["S1:1.0", "S2:1.0"]', extra="keylist: [a]\n")
    load(engine, [str(tmp_path)])
    wid = one(engine, select(t.workflows.c.workflowid))
    wf.write_text(wf.read_text().replace("keylist: [a]", "keylist: [a, b]"))
    res = load(engine, [str(tmp_path)])
    status = {o.definition.name: o.status for o in res.outcomes}
    assert status == {"S1": "unchanged", "S2": "unchanged", "WF": "updated"}
    assert one(engine, select(t.workflows.c.workflowid)) == wid
    assert one(engine, select(func.count()).select_from(t.workflow_keys)) == 2


def test_workflow_with_steps_of_an_earlier_load(engine: Engine, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    step(a, "S1", "1.0")
    step(a, "S1", "1.2")
    step(a, "S1", "1.10")
    load(engine, [str(a)])
    workflow(b, "WF", '["S1"]')
    load(engine, [str(b)])
    with engine.connect() as conn:
        assert json.loads(conn.execute(select(t.workflows.c.steps_def)).scalar_one()) == ["S1:1.10"]
        sid = conn.execute(select(t.workflow_steps.c.stepid)).scalar_one()
        assert (
            conn.execute(select(t.steps.c.version).where(t.steps.c.stepid == sid)).scalar_one()
            == "1.10"
        )


def test_segments_are_stored(engine: Engine, tmp_path: Path) -> None:
    write(tmp_path, "q.qqueue.yaml", "type: queue\nname: q1\ndesc: a queue\n")
    step(tmp_path, "A")
    step(tmp_path, "B", steptype="ASYNC", extra="queue: q1\n")
    step(tmp_path, "C")
    workflow(tmp_path, "WF", '["A:1.0", "B:1.0", "C:1.0"]')
    load(engine, [str(tmp_path)])
    with engine.connect() as conn:
        names = dict(conn.execute(select(t.steps.c.stepid, t.steps.c.name)).all())
        segs = {names[s]: g for _w, s, g in conn.execute(select(t.segment_steps))}
        assert segs == {"A": 0, "B": 0, "C": 1}
        assert [tuple(r)[1:] for r in conn.execute(select(t.segment_dependencies))] == [(1, 0)]
        assert conn.execute(select(t.steps.c.queueid).where(t.steps.c.name == "B")).scalar_one()


BAD_CASES = [
    ("yaml", "bad.qstep.yaml", "type: step\nname: [x\n", r"bad.qstep.yaml:3:1: invalid YAML"),
    (
        "required",
        "r.qstep.yaml",
        'type: step\nname: R\nversion: "1"\n',
        r"r.qstep.yaml:1:1: missing required key 'code'",
    ),
    (
        "enum",
        "e.qstep.yaml",
        'type: step\nname: E\nversion: "1"\ncode: x.py\nsteptype: FAST\n',
        r"e.qstep.yaml:5:11: steptype is 'FAST'; allowed",
    ),
    (
        "version",
        "v.qstep.yaml",
        "type: step\nname: V\nversion: 1.0\ncode: x.py\n",
        r"v.qstep.yaml:3:10: version must be a string",
    ),
    ("type", "m.qmapper.yaml", "type: mapper\nname: M\n", r"type 'mapper' is not supported"),
    (
        "qore",
        "q.qstep.yaml",
        'type: step\nname: Q\nversion: "1"\ncode: Q.qstep\n',
        r"Qore code is not supported.*q.qstep.yaml|q.qstep.yaml.*Qore code is not supported",
    ),
    (
        "nocode",
        "n.qstep.yaml",
        'type: step\nname: N\nversion: "1"\nlang: python\ncode: N.py\n',
        r"n.qstep.yaml:5:7: code file N.py does not exist",
    ),
    (
        "unknownkey",
        "u.qstep.yaml",
        'type: step\nname: U\nversion: "1"\ncode: x.py\nsteptyp: NORMAL\n',
        r"unknown key 'steptyp'",
    ),
]


@pytest.mark.parametrize(
    ("case", "fname", "text", "message"), BAD_CASES, ids=[c[0] for c in BAD_CASES]
)
def test_validation_errors_leave_the_schema_unchanged(
    engine: Engine, tmp_path: Path, case: str, fname: str, text: str, message: str
) -> None:
    step(tmp_path, "Good")
    write(tmp_path, fname, text)
    before = counts(engine)
    with pytest.raises(LoadError) as exc:
        load(engine, [str(tmp_path)])
    import re

    assert any(re.search(message, str(p)) for p in exc.value.problems), exc.value.problems
    assert counts(engine) == before


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda r: (
                write(r, "S.py", "class S(:\n"),
                write(
                    r,
                    "S.qstep.yaml",
                    'type: step\nname: S\nversion: "1"\nlang: python\ncode: S.py\n',
                ),
            ),
            r"S.py:1:\d+: does not compile",
        ),
        (
            lambda r: step(r, "W", base="QorusAsyncStep"),
            r"class 'W' must derive from QorusNormalStep",
        ),
        (
            lambda r: (
                write(r, "C.py", "class Other:\n    pass\n"),
                write(
                    r,
                    "C.qstep.yaml",
                    'type: step\nname: C\nversion: "1"\nlang: python\ncode: C.py\n',
                ),
            ),
            r"class 'C' is not defined in C.py",
        ),
        (
            lambda r: workflow(r, "WF", '["Nope:1.0"]'),
            r"WF-1.0.qwf.yaml:5:9: step 'Nope:1.0' is not defined",
        ),
        (
            lambda r: (step(r, "D"), workflow(r, "WF", '["D:1.0", ["D:1.0"]]')),
            r"appears more than once",
        ),
        (lambda r: workflow(r, "WF", "[]"), r"steps must be a non-empty list"),
        (
            lambda r: job(
                r,
                "J",
                'schedule:\n  minutes: "61"\n  hours: "*"\n  days: "*"\n'
                '  months: "*"\n  dow: "*"\n',
            ),
            r"J.qjob.yaml:\d+:\d+: schedule minutes",
        ),
        (lambda r: job(r, "J", "duration: 0\n"), r"duration must be"),
        (lambda r: step(r, "A", steptype="ASYNC"), r"an ASYNC step needs a 'queue:'"),
        (
            lambda r: workflow(r, "WF", '["X"]', extra="errors: nothing-here.qerrors.yaml\n"),
            r"WF-1.0.qwf.yaml:6:9: errors file 'nothing-here.qerrors.yaml' is not in this load "
            r"nor in the schema",
        ),
        (lambda r: write(r, "g.qgroup.yaml", "type: group\nname: DEFAULT\n"), r"DEFAULT group"),
    ],
    ids=[
        "syntax",
        "base",
        "classname",
        "unknown-step",
        "dup-step",
        "empty-steps",
        "cron",
        "duration",
        "async-queue",
        "errors-file",
        "default-group",
    ],
)
def test_semantic_errors(engine: Engine, tmp_path: Path, make: object, message: str) -> None:
    import re

    make(tmp_path)  # type: ignore[operator]
    before = counts(engine)
    with pytest.raises(LoadError) as exc:
        load(engine, [str(tmp_path)])
    assert any(re.search(message, str(p)) for p in exc.value.problems), exc.value.problems
    assert counts(engine) == before


def test_all_errors_of_a_run_are_reported_together(engine: Engine, tmp_path: Path) -> None:
    write(tmp_path, "a.qstep.yaml", "type: step\nname: [x\n")
    write(tmp_path, "b.qstep.yaml", 'type: step\nname: B\nversion: "1"\ncode: b.py\nlang: python\n')
    workflow(tmp_path, "WF", '["Z:1.0"]')
    with pytest.raises(LoadError) as exc:
        load(engine, [str(tmp_path)])
    files = {Path(p.path).name for p in exc.value.problems}
    assert files == {"a.qstep.yaml", "b.qstep.yaml", "WF-1.0.qwf.yaml"}


def _order(engine: Engine, workflowid: int) -> None:
    with engine.begin() as conn:
        ts = now()
        wiid = conn.execute(
            insert(t.workflow_instance).values(
                workflowid=workflowid, workflowstatus="Y", started=ts
            )
        ).inserted_primary_key[0]
        conn.execute(insert(t.order_instance).values(workflow_instanceid=wiid, created=ts))


def test_delete_rules(engine: Engine, tmp_path: Path) -> None:
    step(tmp_path, "S1")
    workflow(tmp_path, "WF", '["S1:1.0"]')
    service(tmp_path, "svc1")
    job(tmp_path, "job1")
    load(engine, [str(tmp_path)])
    wid = int(one(engine, select(t.workflows.c.workflowid)))  # type: ignore[call-overload]
    _order(engine, wid)

    def run(*specs: str, force: bool = False) -> list[str]:
        with engine.begin() as conn:
            return delete_objects(conn, [parse_spec(s) for s in specs], force)

    with pytest.raises(QorusError, match=r"used by workflow WF:1\.0"):
        run("step:S1")
    with pytest.raises(QorusError, match="has 1 orders"):
        run("workflow:WF:1.0")
    assert one(engine, select(func.count()).select_from(t.workflows)) == 1
    done = run("workflow:WF", "wfinstances:WF")
    assert "deleted workflow WF:1.0" in done[-1].split(" (")[0]
    assert one(engine, select(func.count()).select_from(t.workflow_instance)) == 0
    run("step:S1:1.0")
    run("method:svc1:1.0:store")
    assert one(engine, select(func.count()).select_from(t.service_methods)) == 1
    run("service:svc1", "job:job1")
    assert counts(engine)["services"] == 0 and counts(engine)["jobs"] == 0
    with pytest.raises(QorusError, match="does not exist"):
        run("job:job1")
    with pytest.raises(QorusError, match="DEFAULT group"):
        run("group:DEFAULT")
    with pytest.raises(QorusError, match="cannot delete"):
        parse_spec("mapper:x")


def test_delete_with_force_removes_orders(engine: Engine, tmp_path: Path) -> None:
    step(tmp_path, "S1")
    workflow(tmp_path, "WF", '["S1:1.0"]')
    load(engine, [str(tmp_path)])
    _order(engine, int(one(engine, select(t.workflows.c.workflowid))))  # type: ignore[call-overload]
    with engine.begin() as conn:
        delete_objects(conn, [parse_spec("workflow:WF")], force=True)
    assert counts(engine)["workflows"] == 0


def test_redefinition_of_a_workflow_with_orders(engine: Engine, tmp_path: Path) -> None:
    step(tmp_path, "S1")
    step(tmp_path, "S2")
    wf = workflow(tmp_path, "WF", '["S1:1.0"]')
    load(engine, [str(tmp_path)])
    _order(engine, int(one(engine, select(t.workflows.c.workflowid))))  # type: ignore[call-overload]
    wf.write_text(wf.read_text().replace('["S1:1.0"]', '["S1:1.0", "S2:1.0"]'))
    with pytest.raises(LoadError, match="error"):
        load(engine, [str(tmp_path)])
    res = load(engine, [str(tmp_path)], allow_redef=True)
    assert {o.definition.name: o.status for o in res.outcomes}["WF"] == "updated"


def test_release_file(engine: Engine, tmp_path: Path) -> None:
    step(tmp_path / "rel", "S1")
    workflow(tmp_path / "rel", "WF", '["S1"]')
    write(
        tmp_path,
        "r.qrf",
        "# a release\nload rel/S1-1.0.qstep.yaml\nload rel/S1-1.0.qstep.py\n"
        "load rel/WF-*.qwf.yaml\nrefresh-workflows\n",
    )
    res = load(engine, [str(tmp_path / "r.qrf")])
    assert res.count("new") == 2 and res.refresh == {"workflow"}
    write(tmp_path, "bad.qrf", "load rel/S1-1.0.qstep.yaml\nfrobnicate now\nload missing.yaml\n")
    with pytest.raises(LoadError) as exc:
        load(engine, [str(tmp_path / "bad.qrf")])
    msgs = sorted(str(p) for p in exc.value.problems)
    assert any("bad.qrf:2:1: unrecognized release command 'frobnicate'" in m for m in msgs)
    assert any("bad.qrf:3:1:" in m and "no such file" in m for m in msgs)


def test_errors_file_and_global_errors(engine: Engine, tmp_path: Path) -> None:
    write(
        tmp_path,
        "e.qerrors.yaml",
        (
            "type: errors\nname: errs\ndesc: errors\nerrors:\n"
            "  - name: MY-ERR\n    desc: mine\n    status: RETRY\n    retry-delay: 5\n"
            "  - name: SOCKET-TIMEOUT\n    desc: changed\n    level: GLOBAL\n    severity: MINOR\n"
            "  - name: NEW-GLOBAL\n    desc: new\n    level: GLOBAL\n"
        ),
    )
    step(tmp_path, "S1")
    workflow(tmp_path, "WF", '["S1"]', extra="errors: e.qerrors.yaml\n")
    res = load(engine, [str(tmp_path)])
    assert any("built-in global error SOCKET-TIMEOUT" in str(w) for w in res.warnings)
    with engine.connect() as conn:
        g = {r.error: r for r in conn.execute(select(t.global_workflow_errors))}
        assert g["SOCKET-TIMEOUT"].severity == "MINOR" and g["SOCKET-TIMEOUT"].builtin
        assert g["NEW-GLOBAL"].severity == "MAJOR" and g["NEW-GLOBAL"].status == "ERROR"
        wfe = list(conn.execute(select(t.workflow_errors)))
        assert [(r.error, r.retry_delay) for r in wfe] == [("MY-ERR", 5)]
    # a changed errors file reaches workflows of earlier loads
    (tmp_path / "e.qerrors.yaml").write_text(
        (tmp_path / "e.qerrors.yaml").read_text().replace("retry-delay: 5", "retry-delay: 9")
    )
    res = load(engine, [str(tmp_path / "e.qerrors.yaml")])
    assert len(res.errors_applied_to) == 1
    assert one(engine, select(t.workflow_errors.c.retry_delay)) == 9


def test_groups(engine: Engine, tmp_path: Path) -> None:
    service(tmp_path, "svc1")
    job(tmp_path, "job1")
    write(
        tmp_path,
        "g.qgroup.yaml",
        'type: group\nname: g1\ndesc: grp\nservices: [svc1]\njobs: ["job1:1.0"]\n',
    )
    load(engine, [str(tmp_path)])
    assert counts(engine)["group_workflows"] == 0
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.group_services)).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(t.group_jobs)).scalar_one() == 1


def test_validate_only_writes_nothing(engine: Engine) -> None:
    before = counts(engine)
    res = check(engine, [str(DEMO)])
    assert len(res.definitions) == 11
    assert counts(engine) == before


def test_compatibility_with_real_examples(engine: Engine) -> None:
    """Every real example either validates or is rejected with a specific reason."""
    if not EXAMPLES.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the reference examples are missing: {EXAMPLES}")
        pytest.skip(f"reference examples not present at {EXAMPLES}")
    with pytest.raises(LoadError) as exc:
        check(engine, [str(EXAMPLES)])
    specific = (
        "Qore code is not supported",
        "Java code is not supported",
        "does not exist",
        "are not supported by qorus-py",
        "which has errors",
        "is not supported by qorus-py",
    )
    for p in exc.value.problems:
        assert any(s in p.message for s in specific), str(p)
    rejected = {p.path for p in exc.value.problems}
    every = {str(p.resolve()) for p in EXAMPLES.rglob("*.yaml")}
    assert rejected <= every
    assert len(every - rejected) > 0  # groups, events, queues validate


def test_cli(omq_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"OMQ_DIR": str(omq_dir)}
    r = runner.invoke(oload_main, [str(DEMO), "-u", "http://127.0.0.1:9"], env=env)
    assert r.exit_code == 0, r.output
    assert "11 new" in r.output and "cannot reach the server" in r.output
    r = runner.invoke(oload_main, ["-L", "workflows"], env=env)
    assert r.exit_code == 0 and "ORDER-" in r.output and "workflows (1)" in r.output
    write(tmp_path, "bad.qstep.yaml", "type: step\nname: [x\n")
    r = runner.invoke(oload_main, ["-l", str(tmp_path / "bad.qstep.yaml")], env=env)
    assert r.exit_code == 1 and "bad.qstep.yaml:3:1: invalid YAML" in r.output.replace("\n", "")
    r = runner.invoke(oload_main, ["-X", "workflow:NOPE"], env=env)
    assert r.exit_code == 1 and "does not exist" in r.output
    r = runner.invoke(oload_main, ["-X", "step:ShipOrder"], env=env)
    assert r.exit_code == 1 and "used by workflow" in r.output
