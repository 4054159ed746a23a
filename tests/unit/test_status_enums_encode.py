"""Status members (StrEnums) reach answers as plain text in every format."""

from __future__ import annotations

import json

import yaml

from qorus_core.model.status import JobStatus, OrderStatus
from qorus_server.http.codec import JSON, XML, YAML, encode


def test_status_members_encode_as_their_code() -> None:
    value = {"status": OrderStatus.COMPLETE, "all": [OrderStatus.ERROR, JobStatus.CRASH]}
    assert json.loads(encode(value, JSON)[0]) == {"status": "C", "all": ["E", "Z"]}
    assert yaml.safe_load(encode(value, YAML)[0]) == {"status": "C", "all": ["E", "Z"]}
    xml = encode(value, XML)[0].decode()
    assert "<string>C</string>" in xml and "<struct>" in xml.split("<name>all</name>")[0]
    assert "<string>Z</string>" in xml
