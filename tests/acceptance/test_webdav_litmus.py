"""The WebDAV compliance suite litmus (Debian package ``litmus``; ``.ci/run`` installs it)
against ``/webdav`` of a real server under ``rbac-security``: its ``basic``, ``copymove``,
``props`` and ``locks`` groups must pass, for a user confined to its own folder and for a
WEBDAV-CONTROL user at the root. A failure names the failing litmus tests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from qorus_proc import Qorus, free_port, tool

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

GROUPS = ("basic", "copymove", "props", "locks")
PW = "Litmus-Pass-1"
_RESULT = re.compile(r"^\s*(\d+)\.\s+(\S+?)\.*\s+(pass|FAIL|SKIPPED|WARNING)\b(.*)$")
_RUNNING = re.compile(r"^-> running `([^']+)'")
_SUMMARY = re.compile(r"^<- summary for `([^']+)': of (\d+) tests run: (\d+) passed, (\d+) failed")


@dataclass
class LitmusRun:
    """What one litmus run said: each group's summary and every failed test."""

    summaries: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def parse_litmus(output: str) -> LitmusRun:
    """litmus prints each test twice on a line (progress, then result) separated by ``\\r``."""
    run = LitmusRun()
    group = "?"
    for segment in re.split(r"[\r\n]+", output):
        if m := _RUNNING.match(segment):
            group = m.group(1)
        elif m := _SUMMARY.match(segment):
            run.summaries[m.group(1)] = (int(m.group(2)), int(m.group(3)), int(m.group(4)))
        elif (m := _RESULT.match(segment)) and m.group(3) == "FAIL":
            run.failed.append(f"{group} {m.group(1)}. {m.group(2)}{m.group(4)}")
        elif segment.lstrip().startswith("WARNING:"):
            run.warnings.append(f"{group}: {segment.strip()}")
    return run


def test_parse_litmus_reads_results_and_failures() -> None:
    out = (
        "-> running `basic':\n\r 0. init.......... \r 0. init.......... pass\n"
        "\r 3. put_get........ \r 3. put_get........ FAIL (PUT of 3 bytes failed)\n"
        "<- summary for `basic': of 2 tests run: 1 passed, 1 failed. 50.0%\n"
    )
    run = parse_litmus(out)
    assert run.summaries == {"basic": (2, 1, 1)}
    assert run.failed == ["basic 3. put_get (PUT of 3 bytes failed)"]


def litmus() -> str:
    path = shutil.which("litmus")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("litmus is not installed (.ci/run installs the Debian package)")
        pytest.skip("litmus is not installed (apt-get install litmus)")
    return path


@pytest.fixture(scope="module")
def server(db_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Qorus]:
    omq = tmp_path_factory.mktemp("litmus") / "omq"
    for sub in ("etc", "log", "var"):
        (omq / sub).mkdir(parents=True)
    url = db_factory.fresh().render_as_string(hide_password=False)
    (omq / "etc" / "options").write_text(f"qorus.systemdb = {url}\n")
    res = tool(
        "user_tool",
        "--qorus-dir",
        str(omq),
        "-g",
        "team:desc=the team",
        "-R",
        "dav:WebDAV users:LOGIN,WEBDAV-RWD:team",
        "-R",
        "dav-admin:WebDAV admins:LOGIN,WEBDAV-CONTROL",
        "-A",
        f"admin,{PW},superuser",
        "-A",
        f"alice,{PW},dav",
        "-A",
        f"root,{PW},dav-admin",
    )
    assert res.returncode == 0, res.stderr
    q = Qorus(omq, free_port(), ["rbac-security=true"])
    try:
        q.wait_ready(auth=("root", PW))
        yield q
    finally:
        q.kill()


def run_litmus(url: str, user: str, cwd: Path) -> LitmusRun:
    proc = subprocess.run(
        [litmus(), "-k", url, user, PW],
        env={**os.environ, "TESTS": " ".join(GROUPS)},
        cwd=cwd,  # it writes debug.log and child.log where it runs
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    run = parse_litmus(proc.stdout + proc.stderr)
    missing = [g for g in GROUPS if g not in run.summaries]
    assert not missing, f"litmus ran no {missing}:\n{proc.stdout}{proc.stderr}"
    assert not run.failed, "litmus tests failed:\n" + "\n".join(run.failed)
    for g in GROUPS:
        total, passed, failed = run.summaries[g]
        assert failed == 0 and passed == total > 0, (g, run.summaries[g])
    return run


def test_litmus_in_a_users_own_folder(server: Qorus, tmp_path: Path) -> None:
    (server.omq / "user" / "alice").mkdir(exist_ok=True)
    run = run_litmus(f"{server.url}/webdav/alice/", "alice", tmp_path)
    print("\n".join(run.warnings))


def test_litmus_at_the_root_with_webdav_control(server: Qorus, tmp_path: Path) -> None:
    run = run_litmus(f"{server.url}/webdav/", "root", tmp_path)
    print("\n".join(run.warnings))
    # litmus cleans up after itself; nothing left outside user/
    assert not (server.omq / "litmus").exists()
