"""The real-server fixtures of the acceptance and security tests (see ``qorus_proc``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from qorus_proc import Qorus, free_port


@pytest.fixture
def start_qorus() -> Iterator[object]:
    started: list[Qorus] = []

    def start(omq: Path, *overrides: str, port: int | None = None, ready: bool = True) -> Qorus:
        q = Qorus(omq, port or free_port(), overrides)
        started.append(q)
        if ready:
            q.wait_ready()
        return q

    yield start
    for q in started:
        q.kill()
