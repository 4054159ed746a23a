"""One version order for every "name without a version": load 1.10 first and 1.9 after it, and
oload, the API, the engine (and its library classes), RBAC groups and oload's listing all take
1.10, the highest in natural order, never the most recently loaded row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from oload_fixtures import workflow, write
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.wfdefs import find_workflow
from qorus_core.loader import load
from qorus_core.loader.listing import list_objects
from qorus_core.rbac.groups import resolve_member
from qorus_server.api import REGISTRY, CallContext
from qorus_server.engine.manager import WorkflowManager
from tests.helpers.engine import Logs, make_server, next_tag, wait_orders

pytestmark = pytest.mark.integration


def library(root: Path, version: str) -> None:
    write(root, f"Lib-{version}.qclass.py", f'class Lib:\n    VERSION = "{version}"\n')
    write(
        root,
        f"Lib-{version}.qclass.yaml",
        f'type: class\nname: Lib\nversion: "{version}"\ndesc: lib\nlang: python\n'
        f"code: Lib-{version}.qclass.py\n",
    )


def versioned_step(root: Path, version: str) -> None:
    write(
        root,
        f"VS-{version}.qstep.py",
        "from wf import QorusNormalStep\n\n\nclass VS(QorusNormalStep):\n"
        "    def primary(self):\n"
        f'        wfapi.updateDynamicData({{"lib": Lib.VERSION, "step": "{version}"}})\n',
    )
    write(
        root,
        f"VS-{version}.qstep.yaml",
        f'type: step\nname: VS\nversion: "{version}"\ndesc: step\nlang: python\n'
        f"steptype: NORMAL\ncode: VS-{version}.qstep.py\nclasses:\n  - Lib\n",
    )


@pytest.fixture
def loaded(engine: Engine, tmp_path: Path) -> dict[str, int]:
    """VWF, VS and Lib 1.10 loaded first; then 1.9 of each with a group naming bare VWF."""
    first, second = tmp_path / "first", tmp_path / "second"
    for root, version in ((first, "1.10"), (second, "1.9")):
        library(root, version)
        versioned_step(root, version)
        workflow(root, "VWF", '["VS"]', version=version)
    write(second, "g.qgroup.yaml", "type: group\nname: vgroup\ndesc: grp\nworkflows: [VWF]\n")
    load(engine, [str(first)])
    load(engine, [str(second)])
    with engine.connect() as conn:
        w = t.workflows
        return dict(conn.execute(select(w.c.version, w.c.workflowid)).all())


@pytest.fixture
def manager(engine: Engine) -> Iterator[tuple[Any, WorkflowManager]]:
    server = make_server(engine)
    m = WorkflowManager(logger_factory=Logs(next_tag()), poll_interval=0.2)
    m.start(server)
    server.workflows = m
    yield server, m
    m.stop()


def test_oload_and_rbac_take_the_highest_version(engine: Engine, loaded: dict[str, int]) -> None:
    with engine.connect() as conn:
        assert find_workflow(conn, "VWF") == loaded["1.10"]
        assert find_workflow(conn, "VWF", "1.9") == loaded["1.9"]
        member = resolve_member(conn, "workflow", "VWF")
        assert (member.id, member.version) == (loaded["1.10"], "1.10")
        # the group of the second load names bare VWF: the stored 1.10, not the loaded 1.9
        grouped = conn.execute(select(t.group_workflows.c.workflowid)).scalars().all()
        assert grouped == [loaded["1.10"]]
        # both workflows' bare "VS" is VS:1.10, also in the load that brought VS 1.9
        steps_defs = conn.execute(select(t.workflows.c.steps_def)).scalars().all()
        assert [json.loads(s) for s in steps_defs] == [["VS:1.10"], ["VS:1.10"]]
        _titles, rows = list_objects(conn, "workflow")
        assert [r[2] for r in rows] == ["1.9", "1.10"]


def test_api_and_engine_take_the_highest_version(
    engine: Engine, loaded: dict[str, int], manager: tuple[Any, WorkflowManager]
) -> None:
    server, m = manager

    def api(name: str, **args: Any) -> Any:
        return REGISTRY.call(name, CallContext(server=server), args)

    assert m.workflowid("VWF") == loaded["1.10"]
    assert api("workflows.info", id="VWF")["version"] == "1.10"
    api("workflows.start", id="VWF")
    wfiid = api("workflows.create-order", id="VWF", staticdata={})["workflow_instanceid"]
    assert wait_orders(engine, [wfiid], final="C") == {wfiid: "C"}
    info = api("orders.info", id=str(wfiid))
    assert info["workflowid"] == loaded["1.10"]
    # the step's library class named bare "Lib" is Lib 1.10, loaded before Lib 1.9
    assert info["dynamicdata"] == {"lib": "1.10", "step": "1.10"}
