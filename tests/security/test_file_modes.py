"""Files under $OMQ_DIR holding data, logs or secrets are private; a mistyped SQLite path
creates no folder."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import env, run_qorus

from qorus_core.db.engine import create_system_engine, sqlite_url
from qorus_core.model.errors import DatasourceError
from qorus_core.omqdir import OmqDir
from qorus_core.options import Options
from qorus_core.system import system_url

pytestmark = [pytest.mark.integration]


def schema_tool(omq: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["schema-tool", "--qorus-dir", str(omq), *args],
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual umask 022, with which files used to come out world-readable."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.acceptance
def test_fresh_omq_dir_is_private(tmp_path: Path, loose_umask: None, start_qorus: Any) -> None:
    omq = tmp_path / "omq"
    res = schema_tool(omq, "-V")
    assert res.returncode == 0, res.stderr
    assert mode(omq / "var") == 0o700
    q = start_qorus(omq, "audit=*")
    assert mode(omq) & 0o027 == 0  # made by schema-tool with var: no one else may enter
    assert mode(omq / "etc") == 0o700 and mode(omq / "var") == 0o700
    assert mode(omq / "log") == 0o750 and mode(omq / "user") == 0o750
    db = omq / "var" / "qorus.sqlite"
    for f in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        assert f.exists() and mode(f) == 0o600, f
    assert mode(omq / "etc" / "sensitive_data.key") == 0o600
    logs = sorted((omq / "log").iterdir())
    assert logs and all(mode(f) == 0o640 for f in logs), [(f, oct(mode(f))) for f in logs]
    r = httpx.put(f"{q.url}/api/latest/system/rotateLogFiles")
    assert r.status_code == 200, r.text
    rotated = sorted((omq / "log").iterdir())
    assert len(rotated) > len(logs)
    assert all(mode(f) == 0o640 for f in rotated), [(f, oct(mode(f))) for f in rotated]
    assert q.terminate()[0] == 0


def test_existing_folders_keep_their_mode(tmp_path: Path, loose_umask: None) -> None:
    root = tmp_path / "omq"
    for sub in ("etc", "log", "user", "var"):
        (root / sub).mkdir(parents=True)
        os.chmod(root / sub, 0o755)
    OmqDir(root).ensure()
    assert all(mode(root / sub) == 0o755 for sub in ("etc", "log", "user", "var"))


def test_new_omq_dir_and_its_parents(tmp_path: Path, loose_umask: None) -> None:
    root = tmp_path / "new" / "omq"
    OmqDir(root).ensure()
    assert mode(tmp_path / "new") == 0o750 and mode(root) == 0o750
    assert mode(root / "etc") == 0o700 and mode(root / "var") == 0o700


def test_a_stricter_umask_is_kept(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        OmqDir(tmp_path / "omq").ensure()
    finally:
        os.umask(old)
    assert mode(tmp_path / "omq" / "log") == 0o700


@pytest.mark.parametrize(
    "form", ["sqlite:{path}", "sqlite3:{path}", "sqlite:///{path}"], ids=["qore", "sqlite3", "url"]
)
def test_mistyped_sqlite_path_is_refused(tmp_path: Path, form: str) -> None:
    path = tmp_path / "no-such-folder" / "deeper" / "qorus.sqlite"
    (tmp_path / "omq" / "etc").mkdir(parents=True)
    (tmp_path / "omq" / "etc" / "options").write_text(
        f"qorus.systemdb = {form.format(path=path)}\n"
    )
    res = schema_tool(tmp_path / "omq", "-V")
    assert res.returncode != 0
    assert f"folder {path.parent} does not exist" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "no-such-folder").exists()
    res = run_qorus(tmp_path / "omq")
    assert res.returncode == 3, res.stderr
    assert str(path.parent) in res.stderr
    assert not (tmp_path / "no-such-folder").exists()


def test_engine_refuses_a_missing_folder_but_var_is_made(tmp_path: Path) -> None:
    with pytest.raises(DatasourceError) as err:
        create_system_engine(sqlite_url(tmp_path / "typo" / "q.sqlite"))
    assert str(tmp_path / "typo") in err.value.desc
    assert not (tmp_path / "typo").exists()
    omq = OmqDir(tmp_path / "omq")
    url = system_url(omq, Options(), f"sqlite:{omq.var}/other.sqlite")
    assert omq.var.is_dir() and mode(omq.var) & 0o077 == 0
    engine = create_system_engine(url)
    engine.dispose()
    assert (omq.var / "other.sqlite").is_file()
    assert mode(omq.var / "other.sqlite") == 0o600


def test_existing_database_file_keeps_its_mode(tmp_path: Path) -> None:
    db = tmp_path / "q.sqlite"
    db.write_bytes(b"")
    os.chmod(db, 0o640)
    create_system_engine(sqlite_url(db)).dispose()
    assert mode(db) == 0o640
