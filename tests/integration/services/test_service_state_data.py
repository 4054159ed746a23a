"""``svcapi.saveStateData`` (serialized once, at the call): what was saved is what the call
passed, whatever the service changes afterwards; data JSON cannot hold (NaN, Infinity, an
object) or nested too deep is refused with SERVICE-STATE-ERROR and the saved state stays as it
was."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from qorus_core.model.errors import QorusError
from tests.helpers.definitions import add_service

pytestmark = pytest.mark.integration

Api = Callable[..., Any]

STATEFUL = """
from svc import QorusService


class Stateful(QorusService):
    def save_then_change(self):
        data = {"items": [1, 2], "nested": {"k": "v"}}
        svcapi.saveStateData(data)
        data["items"].append(3)
        data["nested"]["k"] = "changed"
        return svcapi.getStateData()

    def bad(self, kind):
        value = {
            "nan": float("nan"),
            "inf": float("inf"),
            "object": object(),
            "set": {1, 2},
        }.get(kind)
        if kind == "deep":
            value = []
            for _ in range(500):
                value = [value]
        svcapi.saveStateData({"v": value})

    def state(self):
        return svcapi.getStateData()
"""


@pytest.fixture
def stateful(engine: Engine) -> int:
    return add_service(engine, "stateful", STATEFUL, ["save_then_change", "bad", "state"])


def call(api: Api, method: str, *args: Any) -> Any:
    return api("services.call", id="stateful", method=method, args=list(args))


def test_what_is_saved_is_what_the_call_passed(api: Api, stateful: int) -> None:
    saved = call(api, "save_then_change")
    assert saved == {"items": [1, 2], "nested": {"k": "v"}}
    api("services.unload", id="stateful")  # a new instance reads it from the database
    assert call(api, "state") == {"items": [1, 2], "nested": {"k": "v"}}


@pytest.mark.parametrize("kind", ["nan", "inf", "object", "set", "deep"])
def test_data_json_cannot_hold_is_refused(api: Api, stateful: int, kind: str) -> None:
    call(api, "save_then_change")
    with pytest.raises(QorusError) as info:
        call(api, "bad", kind)
    assert "SERVICE-STATE-ERROR" in f"{info.value.code} {info.value}"
    assert call(api, "state") == {"items": [1, 2], "nested": {"k": "v"}}
