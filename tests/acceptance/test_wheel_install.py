"""An installed wheel (not the source tree) carries what it needs: schema-tool creates the
schema from the migrations inside the package."""

from __future__ import annotations

import os
import site
import subprocess
import sys
from pathlib import Path

import pytest
from qorus_proc import ROOT

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]


def test_wheel_creates_its_schema(tmp_path: Path, db_kind: str) -> None:
    if db_kind != "sqlite":
        pytest.skip("packaging does not depend on the database; checked once, on sqlite")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    # the dependencies come from the running test environment (a venv itself, so
    # --system-site-packages would not reach them); its .pth files, the editable install of
    # the checkout among them, are not processed for a path added this way
    own = subprocess.run(
        [str(py), "-c", "import site; print(site.getsitepackages()[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    deps = [p for p in site.getsitepackages() if p != own]
    (Path(own) / "_test_deps.pth").write_text("\n".join(deps) + "\n")
    res = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-deps", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["OMQ_DIR"] = str(tmp_path / "omq")
    where = subprocess.run(
        [str(py), "-c", "import qorus_core; print(qorus_core.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(venv) in where.stdout, where.stdout  # the wheel, not the checkout
    res = subprocess.run(
        [str(venv / "bin" / "schema-tool"), "-V"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert "now current" in res.stdout
    assert (tmp_path / "omq" / "var" / "qorus.sqlite").is_file()
