"""The interface-code API without a database: formats, module registration, error mapping."""

from __future__ import annotations

import sys

import pytest

from qorus_core.model.errors import QorusError
from qorus_server.userapi import code_namespace, install
from qorus_server.userapi.fmt import qore_sprintf
from qorus_server.userapi.wfapi import WorkflowApi


def test_qore_formats() -> None:
    assert qore_sprintf("%s-%d", "a", 42) == "a-42"
    assert qore_sprintf("%y", {"a": [1, "x"], "b": None}) == '{a: [1, "x"], b: null}'
    assert qore_sprintf("%n", {"a": 1}) == "hash: (a: 1)"
    assert qore_sprintf("%N", [1]) == "list: (\n  1\n)"
    assert qore_sprintf("%5s|%-3d|%%", "ab", 7) == "   ab|7  |%"
    assert qore_sprintf("%s %s", "only") == "only "


def test_modules_importable_as_in_qorus() -> None:
    install()
    for name in ("wf", "svc", "job", "OMQ", "UserApi", "WorkflowApi"):
        assert name in sys.modules
    ns = code_namespace("t")
    exec(
        "from wf import QorusNormalStep\n"
        "from svc import QorusService\n"
        "from OMQ import StatComplete\n"
        "import job\n"
        "class S(wf.QorusNormalStep):\n"
        "    def primary(self):\n"
        "        pass\n"
        "class J(job.QorusJob):\n"
        "    def run(self):\n"
        "        pass\n"
        "result = (issubclass(S, QorusNormalStep), StatComplete, OMQ.StatRetry,\n"
        "          S().validation(), wfapi is WorkflowApi)\n",
        ns,
    )
    assert ns["result"] == (True, "COMPLETE", "RETRY", "RETRY", True)


def test_workflow_api_needs_an_order() -> None:
    with pytest.raises(QorusError) as exc:
        WorkflowApi.getDynamicData()
    assert exc.value.code == "WORKFLOW-CONTEXT-ERROR"


def test_exception_error_codes() -> None:
    from qorus_server.engine.errors import from_exception

    assert from_exception(ValueError("x")).error == "ValueError"
    assert from_exception(QorusError("d", code="MY-ERR")).error == "MY-ERR"
