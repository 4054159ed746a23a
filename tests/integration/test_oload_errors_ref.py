"""A workflow's ``errors:`` names its errors file, as real Qorus files do, or the errors
definition: in the same load, in an earlier load, relative to the workflow, empty files too."""

from __future__ import annotations

from pathlib import Path

import pytest
from oload_fixtures import errors_file, step, workflow
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.loader import LoadError, load
from qorus_core.loader.delete import delete_objects, parse_spec
from qorus_core.loader.listing import list_objects

pytestmark = pytest.mark.integration

ONE = "  - name: MY-ERR\n    desc: mine\n    status: RETRY\n    retry-delay: 5\n"
TWO = ONE + "  - name: OTHER-ERR\n    desc: other\n"


def wf_errors(engine: Engine) -> dict[str, tuple[str | None, list[str]]]:
    """workflow name -> (errors_name, its workflow_errors)."""
    with engine.connect() as conn:
        out = {}
        for wid, name, ename in conn.execute(
            select(t.workflows.c.workflowid, t.workflows.c.name, t.workflows.c.errors_name)
        ):
            errs = conn.execute(
                select(t.workflow_errors.c.error)
                .where(t.workflow_errors.c.workflowid == wid)
                .order_by(t.workflow_errors.c.error)
            )
            out[name] = (ename, list(errs.scalars()))
        return out


def problems_of(engine: Engine, paths: list[Path]) -> list[str]:
    with pytest.raises(LoadError) as exc:
        load(engine, [str(p) for p in paths])
    return [str(p) for p in exc.value.problems]


def test_file_name_in_the_same_load(engine: Engine, tmp_path: Path) -> None:
    errors_file(tmp_path, "my-errors.qerrors.yaml", "my-errors", TWO)
    step(tmp_path, "S1")
    workflow(tmp_path, "WF", '["S1"]', extra="errors: my-errors.qerrors.yaml\n")
    load(engine, [str(tmp_path)])
    assert wf_errors(engine) == {"WF": ("my-errors", ["MY-ERR", "OTHER-ERR"])}


def test_definition_name_is_still_accepted(engine: Engine, tmp_path: Path) -> None:
    errors_file(tmp_path, "e.qerrors.yaml", "errs", ONE)
    step(tmp_path, "S1")
    workflow(tmp_path, "WF", '["S1"]', extra="errors: errs\n")
    load(engine, [str(tmp_path)])
    assert wf_errors(engine) == {"WF": ("errs", ["MY-ERR"])}


def test_empty_errors_file_is_stored_and_named_by_a_later_load(
    engine: Engine, tmp_path: Path
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    errs = errors_file(a, "common.qerrors.yaml", "common")
    assert load(engine, [str(errs)]).count("new") == 1
    assert load(engine, [str(errs)]).count("unchanged") == 1
    with engine.connect() as conn:
        assert list_objects(conn, "errors")[1] == [["common", 0, "common.qerrors.yaml", str(errs)]]
    step(b, "S1")
    workflow(b, "WF", '["S1"]', extra="errors: common.qerrors.yaml\n")
    load(engine, [str(b)])
    assert wf_errors(engine) == {"WF": ("common", [])}
    # errors added to the file later reach the workflow of the earlier load
    errors_file(a, "common.qerrors.yaml", "common", ONE)
    res = load(engine, [str(errs)])
    assert res.count("updated") == 1 and len(res.errors_applied_to) == 1
    assert wf_errors(engine) == {"WF": ("common", ["MY-ERR"])}


def test_path_relative_to_the_workflow(engine: Engine, tmp_path: Path) -> None:
    shared, wfdir = tmp_path / "shared", tmp_path / "wfs"
    errors_file(shared, "x.qerrors.yaml", "shared-x", ONE)
    errors_file(wfdir, "x.qerrors.yaml", "local-x", TWO)
    step(wfdir, "S1")
    workflow(wfdir, "WF", '["S1"]', extra="errors: ../shared/x.qerrors.yaml\n")
    workflow(wfdir, "WF2", '["S1"]', extra="errors: x.qerrors.yaml\n")
    load(engine, [str(tmp_path)])
    assert wf_errors(engine) == {
        "WF": ("shared-x", ["MY-ERR"]),
        "WF2": ("local-x", ["MY-ERR", "OTHER-ERR"]),
    }


def test_stored_file_named_by_its_path(engine: Engine, tmp_path: Path) -> None:
    errs = errors_file(tmp_path / "errs", "x.qerrors.yaml", "stored-x", ONE)
    load(engine, [str(errs)])
    step(tmp_path / "wf", "S1")
    workflow(tmp_path / "wf", "WF", '["S1"]', extra="errors: ../errs/x.qerrors.yaml\n")
    load(engine, [str(tmp_path / "wf")])
    assert wf_errors(engine) == {"WF": ("stored-x", ["MY-ERR"])}


def test_a_bare_file_name_matching_two_files_is_ambiguous(engine: Engine, tmp_path: Path) -> None:
    errors_file(tmp_path / "one", "x.qerrors.yaml", "x-one", ONE)
    errors_file(tmp_path / "two", "x.qerrors.yaml", "x-two", ONE)
    step(tmp_path / "wf", "S1")
    workflow(tmp_path / "wf", "WF", '["S1"]', extra="errors: x.qerrors.yaml\n")
    msgs = problems_of(engine, [tmp_path])
    assert any(
        "WF-1.0.qwf.yaml:6:9: errors file 'x.qerrors.yaml' is ambiguous" in m
        and "x-one" in m
        and "x-two" in m
        and "errors: x-one" in m
        for m in msgs
    ), msgs
    assert wf_errors(engine) == {}


def test_a_broken_errors_file_is_named(engine: Engine, tmp_path: Path) -> None:
    bad = "  - name: E\n    desc: e\n    retry-delay: 5\n"  # retry-delay without RETRY
    errors_file(tmp_path, "bad.qerrors.yaml", "bad", bad)
    step(tmp_path, "S1")
    workflow(tmp_path, "WF", '["S1"]', extra="errors: bad.qerrors.yaml\n")
    msgs = problems_of(engine, [tmp_path])
    assert any("errors file 'bad.qerrors.yaml' is " in m and "which has errors" in m for m in msgs)


def test_delete_an_empty_errors_file(engine: Engine, tmp_path: Path) -> None:
    load(engine, [str(errors_file(tmp_path, "e.qerrors.yaml", "empty"))])
    with engine.begin() as conn:
        assert delete_objects(conn, [parse_spec("errors:empty")], False) == ["deleted errors empty"]
    with engine.connect() as conn:
        assert list_objects(conn, "errors")[1] == []
