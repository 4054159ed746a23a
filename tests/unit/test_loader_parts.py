"""The loader's pure parts: YAML marks, step lists and segments, cron fields, code checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from qorus_core.loader import pycode
from qorus_core.loader.steps import StepListError, parse_steps, segments
from qorus_core.loader.yamlload import YamlError, parse_text
from qorus_core.model.schedule import check_field


def test_yaml_marks_and_errors() -> None:
    doc = parse_text("type: step\nname: X\nsteps:\n  - a\n  - b\n", Path("f.yaml"))
    assert doc.mark("name") == (2, 7)
    assert doc.mark("steps", 1) == (5, 5)
    assert doc.mark("missing") == (1, 1)
    with pytest.raises(YamlError) as exc:
        parse_text("type: step\nname: [unclosed\n", Path("f.yaml"))
    assert exc.value.line == 3


def test_step_dependencies_as_in_the_contract() -> None:
    g = parse_steps(["A:1.0", ["B:1.0", ["C:1.0", "D:1.0"]], "E:1.0"])
    assert g.order == ["A:1.0", "B:1.0", "C:1.0", "D:1.0", "E:1.0"]
    assert g.deps == {
        "A:1.0": [],
        "B:1.0": ["A:1.0"],
        "C:1.0": ["A:1.0"],
        "D:1.0": ["C:1.0"],
        "E:1.0": ["B:1.0", "D:1.0"],
    }


def test_nested_parallel_inside_a_branch() -> None:
    g = parse_steps(["A", ["B", ["C", ["D", "E"], "F"]], "G"])
    assert g.deps["D"] == ["C"] and g.deps["E"] == ["C"]
    assert g.deps["F"] == ["D", "E"]
    assert g.deps["G"] == ["B", "F"]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([], "non-empty"),
        (["A", []], "empty parallel"),
        (["A", "A"], "more than once"),
        (["A", 5], "name:version"),
        ("A", "non-empty list"),
    ],
)
def test_bad_step_lists(steps: object, message: str) -> None:
    with pytest.raises(StepListError, match=message):
        parse_steps(steps)


def test_segments_break_after_async_event_subworkflow() -> None:
    g = parse_steps(["A", ["B", ["C", "D"]], "E", "F"])
    types = {"A": "NORMAL", "B": "ASYNC", "C": "NORMAL", "D": "NORMAL", "E": "EVENT", "F": "NORMAL"}
    seg = segments(g, types.__getitem__)
    assert seg.of_step == {"A": 0, "B": 0, "C": 0, "D": 0, "E": 1, "F": 2}
    assert seg.deps == {1: [0], 2: [1]}
    plain = segments(g, lambda _s: "NORMAL")
    assert set(plain.of_step.values()) == {0} and plain.deps == {}


def test_steps_after_one_async_step_share_a_segment() -> None:
    g = parse_steps(["A", ["B", "C"], "D"])
    seg = segments(g, {"A": "SUBWORKFLOW", "B": "NORMAL", "C": "NORMAL", "D": "NORMAL"}.get)
    assert seg.of_step == {"A": 0, "B": 1, "C": 1, "D": 1}
    assert seg.deps == {1: [0]}


@pytest.mark.parametrize(
    ("field", "text", "ok"),
    [
        ("minutes", "*/15", True),
        ("minutes", "0,30", True),
        ("minutes", "60", False),
        ("hours", "8-18", True),
        ("hours", "18-8", False),
        ("days", "0", False),
        ("months", "jan-mar", True),
        ("dow", "mon-fri", True),
        ("dow", "funday", False),
        ("minutes", "*/0", False),
        ("minutes", "", False),
        ("dow", "fri-7", True),
        ("dow", "0-7", True),
        ("dow", "sat-mon", False),
        ("days", "L", False),
        ("dow", "5#2", False),
        ("days", "?", False),
        ("minutes", "H", False),
        ("months", "mon", False),
        ("minutes", "1,,2", False),
        ("minutes", "0 0", False),
    ],
)
def test_cron_fields(field: str, text: str, ok: bool) -> None:
    assert (check_field(field, text) is None) is ok


def test_code_checks_are_static() -> None:
    src = (
        "from wf import QorusNormalStep\n"
        "raise SystemExit('never run')\n"
        "class Base(QorusNormalStep):\n    pass\n"
        "class Mine(Base):\n    pass\n"
        "class Lib2(LibBase):\n    pass\n"
    )
    tree = pycode.parse(src, "x.py")
    classes = pycode.top_classes(tree)
    assert pycode.derives_from(classes, "Mine", "QorusNormalStep", lambda _n: None)
    assert not pycode.derives_from(classes, "Mine", "QorusAsyncStep", lambda _n: None)
    assert not pycode.derives_from(classes, "Lib2", "QorusService", lambda _n: None)
    lib = {"LibBase": ["QorusService"]}
    assert pycode.derives_from(
        classes, "Lib2", "QorusService", lambda n: lib if n == "LibBase" else None
    )
    with pytest.raises(pycode.CodeError) as exc:
        pycode.parse("def f(:\n", "bad.py")
    assert exc.value.line == 1
