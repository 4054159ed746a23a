"""A component registered once is started, stopped and shown in ``system/health`` with no
other edit; start and stop orders come from the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from qorus_core.omqdir import OmqDir
from qorus_core.options import load_options
from qorus_server.components import COMPONENTS, ComponentRegistry
from qorus_server.contract import Component, ServerContract
from qorus_server.server import QorusServer

pytestmark = pytest.mark.integration


class Probe:
    def __init__(self, name: str, journal: list[str]) -> None:
        self.name = name
        self.journal = journal

    def start(self, server: ServerContract) -> None:
        self.journal.append(f"start {self.name}")

    def stop(self) -> None:
        self.journal.append(f"stop {self.name}")


def _run(omq_dir: Path, registry: ComponentRegistry) -> QorusServer:
    omq = OmqDir(omq_dir)
    options = load_options(omq, ["http-server=127.0.0.1:0"])
    server = QorusServer(omq, options, version="test", components=registry)
    server.step1_options()
    server.step2_logs()
    server.start()
    return server


def _stop(server: QorusServer) -> None:
    server.request_shutdown("test")
    server.shutdown_steps()
    server.logs.close()
    for lst in server.listeners:
        if lst.sock:
            lst.sock.close()


def test_a_registered_component_runs_and_reports_health(omq_dir: Path) -> None:
    journal: list[str] = []
    registry = COMPONENTS.copy()

    def factory() -> Component:
        return Probe("probe", journal)

    registry.add("probe", factory, start_order=500, health=lambda c: {"probed": True})
    server = _run(omq_dir, registry)
    try:
        assert journal == ["start probe"]
        # the shipped components in start order: services before workflows, jobs after, the
        # interface groups last
        names = [c.name for c in server.components]
        assert names == ["services", "workflows", "jobs", "groups", "probe"]
        health = server.call("system.health")
        assert health["components"] == {
            "services": {"loaded": 0, "running": 0},
            "workflows": "running",
            "jobs": "running",
            "groups": "running",
            "probe": {"probed": True},
        }
    finally:
        _stop(server)
    assert journal == ["start probe", "stop probe"]


def test_start_and_stop_orders(omq_dir: Path) -> None:
    journal: list[str] = []
    registry = ComponentRegistry()
    registry.add("b", lambda: Probe("b", journal), start_order=2, stop_order=1)
    registry.add("a", lambda: Probe("a", journal), start_order=1, stop_order=2)
    registry.add("c", lambda: Probe("c", journal), start_order=3)
    with pytest.raises(ValueError):
        registry.add("c", lambda: Probe("c", journal), start_order=4)
    server = _run(omq_dir, registry)
    _stop(server)
    assert journal == ["start a", "start b", "start c", "stop c", "stop b", "stop a"]
