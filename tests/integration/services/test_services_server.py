"""The service manager as a component of the real server (in-process): at start-up it loads
the system services a schema lacks and the autostart services, a failing one is logged and
start-up goes on; ``system/health`` shows it; its services log into their own files."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from qorus_core.db.engine import create_system_engine
from qorus_core.omqdir import OmqDir
from qorus_core.options import load_options
from qorus_server.server import QorusServer
from tests.helpers.definitions import add_service

pytestmark = pytest.mark.integration

GOOD = """
from svc import QorusService


class Good(QorusService):
    def init(self):
        UserApi.logInfo("good is up")

    def ping(self):
        return "pong"
"""
BAD = """
from svc import QorusService


class Bad(QorusService):
    def init(self):
        raise RuntimeError("bad on purpose")

    def ping(self):
        return "pong"
"""


def test_start_up_loads_autostart_services_and_survives_a_failing_one(
    omq_dir: Path, db_url: URL
) -> None:
    engine = create_system_engine(db_url)
    try:
        add_service(engine, "bad", BAD, ["ping"], autostart=True)
        add_service(engine, "good", GOOD, ["ping"], autostart=True)
    finally:
        engine.dispose()
    omq = OmqDir(omq_dir)
    server = QorusServer(omq, load_options(omq, ["http-server=127.0.0.1:0"]), version="test")
    server.step1_options()
    server.step2_logs()
    server.start()
    try:
        assert server.call("system.health")["components"]["services"] == {
            "loaded": 1,
            "running": 0,
        }
        listed = {s["name"]: s for s in server.call("services.list")}
        assert listed["good"]["status"] == "loaded" and listed["bad"]["status"] == "unloaded"
        # the system services were loaded into the schema at this first start
        assert listed["info"]["type"] == "system"
        assert server.call("services.call", id="info", method="getOptions", args="audit") == {
            "audit": []
        }
        info = server.call("services.call", id="info", method="getSystemInfo")
        assert info["instance-key"] == server.instance_key and "omq-schema" in info
        assert server.call("services.call", id="good", method="ping") == "pong"
        good_log = Path(server.call("services.info", id="good")["log"])
        assert "good is up" in good_log.read_text()
        system_log = server.logs.system_path.read_text()
        assert "cannot autostart service" in system_log and "bad on purpose" in system_log
        errors = [e for e in server.events.last(100) if e.eventstr == "SERVICE_ERROR"]
        assert errors and errors[0].info["name"] == "bad"
    finally:
        server.request_shutdown("test")
        server.shutdown_steps()
        server.logs.close()
        for lst in server.listeners:
            if lst.sock:
                lst.sock.close()
    stops = [e.info["name"] for e in server.events.last(100) if e.eventstr == "SERVICE_STOP"]
    assert sorted(stops) == ["good", "info"]
