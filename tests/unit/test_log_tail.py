"""Following a log file for ``/log``: the last lines first, then what is appended, across
rotations (``rotateLogFiles``), truncation and a file that does not exist yet."""

from __future__ import annotations

import logging
from pathlib import Path

from qorus_core.omqdir import OmqDir
from qorus_core.options import Options
from qorus_server.http.logstream import MAX_LINE, Tail
from qorus_server.logs import Logs


def _write(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)


def test_history_is_the_last_lines_then_appended_lines_follow(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    _write(log, "".join(f"line {i}\n" for i in range(1000)))
    with Tail(log) as tail:
        assert tail.start(3) == ["line 997", "line 998", "line 999"]
        assert tail.read() == []
        _write(log, "new 1\nnew 2\n")
        assert tail.read() == ["new 1", "new 2"]


def test_history_sizes(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    _write(log, "a\nb\n")
    with Tail(log) as tail:
        assert tail.start(0) == []
    with Tail(log) as tail:
        assert tail.start(10) == ["a", "b"]
    big = tmp_path / "big.log"
    _write(big, "".join(f"{i:06d} " + "x" * 200 + "\n" for i in range(20000)))
    with Tail(big) as tail:
        lines = tail.start(10000)
    assert len(lines) == 10000 and lines[0].startswith("010000 ") and lines[-1].startswith("019999")


def test_an_unfinished_line_waits_for_its_end(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    _write(log, "done\nhalf")
    with Tail(log) as tail:
        assert tail.start(5) == ["done"]
        assert tail.read() == []
        _write(log, " and the rest\n")
        assert tail.read() == ["half and the rest"]


def test_a_file_that_appears_later_is_followed_from_its_start(tmp_path: Path) -> None:
    log = tmp_path / "later.log"
    with Tail(log) as tail:
        assert tail.start(100) == [] and tail.read() == []
        _write(log, "first\n")
        assert tail.read() == ["first"]


def test_rotation_keeps_streaming_the_new_file(tmp_path: Path) -> None:
    omq = OmqDir(tmp_path)
    logs = Logs(omq, Options({"instance-key": "t", "max-log-files": 3}), logging.INFO)
    try:
        logger = logs.get_logger("WF", "ROT")
        path = logs.path("wf-logfile-template", "ROT")
        logger.info("before")
        tail = Tail(path)
        assert [line.endswith("before") for line in tail.start(10)] == [True]
        logger.info("just before the rotation")  # written, not yet read
        logs.rotate()
        logger.info("after")
        got: list[str] = []
        for _ in range(5):
            got += tail.read()
        assert [g.rsplit(": ", 1)[1] for g in got] == ["just before the rotation", "after"]
        logs.rotate()
        logs.rotate()
        logger.info("twice more")
        got = []
        for _ in range(5):
            got += tail.read()
        assert [g.rsplit(": ", 1)[1] for g in got] == ["twice more"]
        tail.close()
    finally:
        logs.close()


def test_truncation_starts_over(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    _write(log, "one\ntwo\n")
    with Tail(log) as tail:
        tail.start(0)
        log.write_text("")
        assert tail.read() == []
        _write(log, "three\n")
        got = tail.read() + tail.read()
        assert got == ["three"]


def test_a_huge_line_comes_in_pieces_and_bad_bytes_are_replaced(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    with Tail(log) as tail:
        tail.start(0)
        _write(log, "y" * (MAX_LINE * 2 + 10))
        assert tail.read() == ["y" * MAX_LINE, "y" * MAX_LINE]
        with log.open("ab") as fh:
            fh.write(b"\n\xff\xfeok\n")
        assert tail.read() == ["y" * 10, "\ufffd\ufffdok"]
