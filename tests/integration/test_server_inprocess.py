"""The server object in-process: component order, the RBAC start-up check, the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.db.refdata import now
from qorus_core.model.errors import AuthorizationError, ValidationError
from qorus_core.omqdir import OmqDir
from qorus_core.options import load_options
from qorus_server import security
from qorus_server.api.registry import CallContext, Principal
from qorus_server.server import EXIT_RBAC, QorusServer, StartupError

pytestmark = pytest.mark.integration


class Recorder:
    def __init__(self, name: str, journal: list[str], fail: bool = False) -> None:
        self.name = name
        self.journal = journal
        self.fail = fail

    def start(self, server: QorusServer) -> None:
        assert server.sessionid is not None and server.engine is not None
        if self.fail:
            raise RuntimeError("broken")
        self.journal.append(f"start {self.name}")

    def stop(self) -> None:
        self.journal.append(f"stop {self.name}")


def _server(omq_dir: Path, components: list[Any], *overrides: str) -> QorusServer:
    omq = OmqDir(omq_dir)
    options = load_options(omq, ["http-server=127.0.0.1:0", *overrides])
    server = QorusServer(omq, options, version="test", components=components)
    server.step1_options()
    server.step2_logs()
    return server


def test_components_start_in_order_and_stop_in_reverse(omq_dir: Path) -> None:
    journal: list[str] = []
    server = _server(omq_dir, [lambda: Recorder("a", journal), lambda: Recorder("b", journal)])
    server.start()
    try:
        assert journal == ["start a", "start b"]
        assert [c.name for c in server.components] == ["a", "b"]
        assert server.call("system.ping") == "OK"
        assert server.listeners[0].port  # port 0 got a real port
        events = [e.eventstr for e in server.events.last(10)]
        assert events == ["SYSTEM_STARTUP"]
    finally:
        server.request_shutdown("test")
        server.shutdown_steps()
        server.logs.close()
        for lst in server.listeners:
            if lst.sock:
                lst.sock.close()
    assert journal == ["start a", "start b", "stop b", "stop a"]
    assert server.events.last(1)[0].eventstr == "SYSTEM_SHUTDOWN"


def test_failing_component_undoes_the_start(omq_dir: Path) -> None:
    journal: list[str] = []
    server = _server(
        omq_dir,
        [lambda: Recorder("a", journal), lambda: Recorder("bad", journal, fail=True)],
    )
    with pytest.raises(StartupError) as info:
        server.start()
    server.logs.close()
    assert info.value.code == 99 and "bad" in info.value.message
    assert journal == ["start a", "stop a"]


def _add_user(engine: Engine, user: str, role: str, perms: list[str]) -> None:
    ts = now()
    with engine.begin() as c:
        c.execute(insert(t.roles).values(role=role, provider="db", created=ts))
        for p in perms:
            c.execute(insert(t.role_permissions).values(role=role, permission=p))
        c.execute(insert(t.users).values(username=user, provider="db", created=ts))
        c.execute(insert(t.user_roles).values(username=user, role=role))


def test_rbac_startup_check(omq_dir: Path, engine: Engine) -> None:
    _add_user(engine, "viewer", "viewers", ["LOGIN"])
    server = _server(omq_dir, [], "rbac-security=true")
    server.step3_datasource()
    with pytest.raises(StartupError) as info:
        server.step4_rbac()
    assert info.value.code == EXIT_RBAC
    _add_user(engine, "admin", "admins", ["LOGIN", "SHUTDOWN"])
    server.step4_rbac()
    with engine.connect() as c:
        assert security.user_with_permissions(c) == "admin"
    # umbrella permissions are expanded
    _add_user(engine, "ops", "operators", ["LOGIN", "WORKFLOW-CONTROL"])
    with engine.connect() as c:
        assert security.user_with_permissions(c, ("START-WORKFLOW",)) == "ops"
    server.engine.dispose()
    server.logs.close()


def test_registry_checks_permissions_and_arguments(omq_dir: Path) -> None:
    server = _server(omq_dir, [])
    reg = server.registry
    nobody = CallContext(server, Principal("nobody", frozenset()))
    with pytest.raises(AuthorizationError):
        reg.call("system.ping", nobody, {})
    viewer = CallContext(server, Principal("v", frozenset({"LOGIN"})))
    assert reg.call("system.ping", viewer, {}) == "OK"
    with pytest.raises(AuthorizationError):
        reg.call("system.shutdown", viewer, {})
    with pytest.raises(ValidationError):
        reg.call("system.ping", viewer, {"bogus": 1})
    assert reg.by_rpc("omq.system.ping").name == "system.ping"
    server.logs.close()
