"""A workflow's ``errors:`` is a file name from an untrusted definition: ``../`` and absolute
paths never make oload open a file outside the load, and every bad value gets an error naming
the workflow file and line, with nothing stored."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from qorus_proc import env, tool
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.loader import LoadError, load

pytestmark = pytest.mark.integration

TABLES = (t.error_files, t.error_definitions, t.workflows, t.workflow_errors, t.steps)
STEP = (
    'type: step\nname: S1\nversion: "1.0"\ndesc: s\nlang: python\nsteptype: NORMAL\ncode: S1.py\n'
)
EVIL = (
    "type: errors\nname: evil\ndesc: outside the load\nerrors:\n  - name: EVIL-ERR\n    desc: x\n"
)

_watch: list[str] | None = None
_hooked = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _watch is not None and isinstance(args[0], str | bytes | Path):
        _watch.append(os.fsdecode(args[0]))


@pytest.fixture
def opened() -> Iterator[list[str]]:
    """Every file the process opens while the test runs (an audit hook cannot be removed, so
    it is installed once and records only inside this fixture)."""
    global _watch, _hooked
    if not _hooked:
        sys.addaudithook(_audit)
        _hooked = True
    _watch = []
    try:
        yield _watch
    finally:
        _watch = None


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            tb.name: conn.execute(select(func.count()).select_from(tb)).scalar_one()
            for tb in TABLES
        }


def release(root: Path, errors_line: str) -> Path:
    """A load: a step and a workflow whose line 6 is ``errors_line``; an errors file outside."""
    load_dir = root / "load"
    load_dir.mkdir(parents=True)
    (load_dir / "S1.py").write_text(
        "from wf import QorusNormalStep\n\n\nclass S1(QorusNormalStep):\n"
        "    def primary(self):\n        pass\n"
    )
    (load_dir / "S1.qstep.yaml").write_text(STEP)
    (load_dir / "WF.qwf.yaml").write_text(
        f'type: workflow\nname: WF\nversion: "1.0"\ndesc: w\nsteps: ["S1"]\n{errors_line}\n'
    )
    outside = root / "outside"
    outside.mkdir()
    (outside / "evil.qerrors.yaml").write_text(EVIL)
    return load_dir


OUTSIDE_REFS = [
    "../outside/evil.qerrors.yaml",
    "{root}/outside/evil.qerrors.yaml",
    "../../../../../../../../../../etc/passwd",
    "/etc/passwd",
    "./../outside/./evil.qerrors.yaml",
    "evil.qerrors.yaml",
    "evil",
]


@pytest.mark.parametrize("ref", OUTSIDE_REFS)
def test_paths_outside_the_load_are_never_opened(
    engine: Engine, tmp_path: Path, opened: list[str], ref: str
) -> None:
    ref = ref.format(root=tmp_path)
    load_dir = release(tmp_path, f"errors: {ref}")
    before = counts(engine)
    opened.clear()  # writing the files above is not the loader's doing
    with pytest.raises(LoadError) as exc:
        load(engine, [str(load_dir)])
    msgs = [str(p) for p in exc.value.problems]
    assert msgs == [
        f"{load_dir / 'WF.qwf.yaml'}:6:9: errors file {ref!r} is not in this load nor in the "
        "schema: give it to oload with the workflow (a 'type: errors' file), or name its "
        "errors definition"
    ]
    outside = {str(tmp_path / "outside" / "evil.qerrors.yaml"), "/etc/passwd"}
    assert outside.isdisjoint(os.path.realpath(p) for p in opened), opened
    assert any(p.endswith("WF.qwf.yaml") for p in opened)  # the hook does see the load's files
    assert "EVIL-ERR" not in msgs[0] and "root:" not in msgs[0]
    assert counts(engine) == before


@pytest.mark.parametrize(
    ("errors_line", "message"),
    [
        ("errors: nope.qerrors.yaml", "6:9: errors file 'nope.qerrors.yaml' is not in this load"),
        ("errors: " + "x" * 5000, "6:9: errors is longer than 4096 characters"),
        ("errors: [a.qerrors.yaml, b.qerrors.yaml]", "6:9: errors must be a string, not list"),
        ("errors: {file: a.qerrors.yaml}", "6:9: errors must be a string, not dict"),
        ("errors: 12", "6:9: errors must be a string, not int"),
        ('errors: "a\\0b.qerrors.yaml"', "6:9: errors 'a\\x00b.qerrors.yaml' is not a file name"),
        ('errors: ""', "6:9: errors '' is not a file name"),
    ],
    ids=["no-match", "too-long", "list", "mapping", "int", "nul", "empty"],
)
def test_bad_values_are_refused_with_file_and_line(
    engine: Engine, tmp_path: Path, errors_line: str, message: str
) -> None:
    load_dir = release(tmp_path, errors_line)
    before = counts(engine)
    with pytest.raises(LoadError) as exc:
        load(engine, [str(load_dir)])
    msgs = [str(p) for p in exc.value.problems]
    assert len(msgs) == 1 and msgs[0].startswith(str(load_dir / "WF.qwf.yaml")), msgs
    assert message in msgs[0], msgs
    assert len(msgs[0]) < 600  # a huge value is not echoed back whole
    assert counts(engine) == before


def test_oload_command_refuses_a_path_outside_the_load(omq_dir: Path, tmp_path: Path) -> None:
    load_dir = release(tmp_path, "errors: ../outside/evil.qerrors.yaml")
    e = env()
    e["OMQ_DIR"] = str(omq_dir)
    res = tool("oload", str(load_dir), env=e)
    out = (res.stdout + res.stderr).replace("\n", "")
    assert res.returncode != 0, out
    assert "WF.qwf.yaml:6:9: errors file '../outside/evil.qerrors.yaml' is not in this load" in out
    assert "EVIL-ERR" not in out
    listed = tool("oload", "-L", "errors", env=e)
    assert listed.returncode == 0 and "evil" not in listed.stdout
