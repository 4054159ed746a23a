"""The README's first command from a fresh clone, with a Python that has none of the dependencies.

The checkout's files are copied to a new folder (what `git clone` would give, plus the changes
not yet committed), and `bin/quickstart` is run there with `PYTHON` set to an empty virtual
environment's interpreter and no virtual environment active: it must make `.venv` in that
checkout, install from `constraints.txt`, run the demo, and say how to activate `.venv`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from qorus_proc import ROOT, free_port

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]


def _checkout_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    return [p for p in out.decode().split("\0") if p and (ROOT / p).is_file()]


def _fresh_clone(dest: Path) -> Path:
    for rel in _checkout_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    return dest


def _bare_env(python: Path) -> dict[str, str]:
    """The environment of a new user: no venv active, no project on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QORUS", "OMQ"))}
    for k in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        env.pop(k, None)
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin
    )
    env["PYTHON"] = str(python)
    env["NETRC"] = os.devnull
    return env


def test_quickstart_from_a_fresh_clone(tmp_path: Path, db_kind: str) -> None:
    if db_kind != "sqlite":
        pytest.skip("the quickstart's own database is the embedded SQLite")
    bare = tmp_path / "bare-python"
    subprocess.run([sys.executable, "-m", "venv", str(bare)], check=True)
    bare_py = bare / "bin" / "python"
    probe = subprocess.run([str(bare_py), "-c", "import click"], capture_output=True, cwd=tmp_path)
    assert probe.returncode != 0, "the bare Python must lack the dependencies"

    clone = _fresh_clone(tmp_path / "clone")
    omq = tmp_path / "omq"
    (omq / "etc").mkdir(parents=True)
    port = free_port()
    (omq / "etc" / "options").write_text(
        f"qorus.http-server = 127.0.0.1:{port}\nqorus-client.client-url = http://127.0.0.1:{port}\n"
    )
    env = _bare_env(bare_py)
    cmd = [str(clone / "bin" / "quickstart"), "-d", str(omq), "-n", "5", "--timeout", "120"]
    qrest = clone / ".venv" / "bin" / "qrest"
    try:
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        assert res.returncode == 0, res.stderr[-4000:] + res.stdout[-4000:]
        assert "ModuleNotFoundError" not in res.stderr
        assert "5 of 5 orders COMPLETE" in res.stdout
        assert f". {clone}/.venv/bin/activate" in res.stdout
        assert (clone / ".venv" / ".qorus-installed").is_file()
        # the versions installed are the locked ones
        lock = (clone / "constraints.txt").read_text()
        frozen = subprocess.run(
            [str(clone / ".venv" / "bin" / "python"), "-m", "pip", "freeze"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.lower()
        for name in ("click", "sqlalchemy", "starlette"):
            pin = next(line for line in lock.splitlines() if line.lower().startswith(name + "=="))
            assert pin.split(" ")[0].lower() in frozen
    finally:
        if qrest.exists():
            subprocess.run(
                [str(qrest), "-u", f"http://127.0.0.1:{port}", "put", "system/shutdownWait"],
                env=env,
                capture_output=True,
                timeout=60,
            )
