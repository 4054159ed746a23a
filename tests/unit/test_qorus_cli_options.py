"""``qorus`` command line: option list, version, options errors and overrides."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from qorus_cli.qorus import main
from qorus_core.options import OPTIONS

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def omq_dir(tmp_path: Path) -> Path:
    (tmp_path / "etc").mkdir()
    return tmp_path


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def row(out: str, name: str) -> str:
    lines = [line for line in out.splitlines() if f" {name} " in line]
    assert len(lines) == 1, name
    return lines[0]


def test_option_list_shows_every_option_and_values_in_force(omq_dir: Path) -> None:
    (omq_dir / "etc" / "options").write_text(
        "qorus.max-retries = 7\nqorus.audit: workflows, jobs\nldap.password: s3cret\n",
        encoding="utf-8",
    )
    code, out, err = run("-d", str(omq_dir), "-l", "cache-max=12")
    assert code == 0, err
    for name in OPTIONS:
        assert f" {name} " in out
    assert "7 (file)" in row(out, "qorus.max-retries")
    assert "workflows, jobs (file)" in row(out, "qorus.audit")
    assert "12 (command line)" in row(out, "qorus.cache-max")
    detach = row(out, "qorus.detach-delay")
    assert "3600" in detach
    assert "(" not in detach.split("│")[3]
    password = row(out, "ldap.password")
    assert "s3cret" not in out
    assert "********" in password
    assert "$OMQ_DIR/var/qorus.sqlite" in row(out, "qorus.systemdb")


def test_option_list_from_omq_dir_environment(omq_dir: Path) -> None:
    (omq_dir / "etc" / "options").write_text("qorus.max-retries: 4\n", encoding="utf-8")
    code, out, _ = run("-l", env={"OMQ_DIR": str(omq_dir)})
    assert code == 0
    assert "4 (file)" in row(out, "qorus.max-retries")
    code, out, _ = run(env={"OMQ_DIR": str(omq_dir), "QORUS_OPTION_LIST": "1"})
    assert code == 0
    assert "4 (file)" in row(out, "qorus.max-retries")


def test_bad_options_file_exits_9_with_file_and_line(omq_dir: Path) -> None:
    path = omq_dir / "etc" / "options"
    path.write_text("# header\nqorus.max-retrys: 3\n", encoding="utf-8")
    code, out, err = run("-d", str(omq_dir), "-l")
    assert code == 9
    assert out == ""
    assert err == (
        f"qorus: {path.resolve()}:2: unknown option 'qorus.max-retrys' "
        "(did you mean 'qorus.max-retries'?)\n"
    )


def test_bad_override_exits_9(omq_dir: Path) -> None:
    code, _, err = run("-d", str(omq_dir), "max-retries=abc")
    assert code == 9
    assert err == "qorus: command line: qorus.max-retries: 'abc' is not an integer\n"


def test_version_exits_10() -> None:
    code, out, _ = run("-V")
    assert code == 10
    assert out.startswith("qorus ")


def test_bad_flag_exits_8() -> None:
    code, _, err = run("--no-such-flag")
    assert code == 8
    assert "No such option" in err


def test_without_list_starts_the_server(omq_dir: Path) -> None:
    # start-up step 1 refuses an empty instance key before anything is opened
    code, _, err = run("-d", str(omq_dir), "-f", "instance-key=")
    assert code == 1
    assert "instance key" in err


def test_help_names_environment_variables() -> None:
    code, out, _ = run("--help")
    assert code == 0
    for var in ("OMQ_DIR", "QORUS_OPTION_LIST", "QORUS_SHOW_VERSION"):
        assert var in out


def test_real_process_exit_code(omq_dir: Path) -> None:
    (omq_dir / "etc" / "options").write_text("qorus.max-retries = x\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "qorus_cli.qorus", "-d", str(omq_dir), "-l"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 9
    assert proc.stderr.strip().endswith(":1: qorus.max-retries: 'x' is not an integer")
