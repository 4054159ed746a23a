"""The REST client (qrest, ostart, ostop, user-tool -s) reads answers from a server it may not
trust: a YAML alias bomb in an answer is refused within the body limits, not expanded."""

from __future__ import annotations

import pytest

from qorus_core.bounded import LimitError
from qorus_core.client import _parse_answer

BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]" for i in range(8)]
)


def test_yaml_alias_bomb_answer_is_refused() -> None:
    with pytest.raises(LimitError):
        _parse_answer("application/x-yaml", BOMB)


def test_plain_answers_still_parse() -> None:
    assert _parse_answer("application/x-yaml; charset=utf-8", "a: 1\n") == {"a": 1}
    assert _parse_answer("application/json", '{"a": [1, 2]}') == {"a": [1, 2]}
    assert _parse_answer("text/plain", "not json") == "not json"
