"""The server contract: the real server and the test server implement every member of it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine

from qorus_core.omqdir import OmqDir
from qorus_core.options import Options, load_options
from qorus_server.components import COMPONENTS
from qorus_server.contract import Component, ServerContract
from qorus_server.engine.manager import WorkflowManager
from qorus_server.server import QorusServer
from tests.helpers.engine import TestServer


def _members() -> set[str]:
    return {
        name
        for cls in ServerContract.__mro__
        if cls not in (object,) and cls.__name__ not in ("Protocol", "Generic")
        for name in (*vars(cls), *getattr(cls, "__annotations__", {}))
        if not name.startswith("_")
    }


def test_real_server_implements_the_contract(tmp_path: Path) -> None:
    omq = OmqDir(tmp_path)
    server = QorusServer(omq, load_options(omq, []), version="test")
    missing = {m for m in _members() if not hasattr(type(server), m) and m not in vars(server)}
    assert not missing


def test_test_server_implements_the_contract() -> None:
    server = TestServer(create_engine("sqlite://"), Options({}), session=False)
    missing = {m for m in _members() if not hasattr(type(server), m) and m not in vars(server)}
    assert not missing


def test_components_are_components() -> None:
    assert all(isinstance(spec.factory(), Component) for spec in COMPONENTS)
    assert isinstance(WorkflowManager(), Component)
