"""The benchmarks still run: a tiny engine run on SQLite (no figure is checked; timings belong
in the benchmarks, never in tests). A bench that no longer starts is found here, not by the
next person who needs its figures."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from qorus_proc import ROOT

pytestmark = pytest.mark.acceptance


def test_engine_bench_runs_on_sqlite() -> None:
    out = subprocess.run(
        [sys.executable, "bench/engine_bench.py", "--db", "sqlite", "-n", "20"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result[0]["orders"] == 20


def test_rpc_bench_runs() -> None:
    out = subprocess.run(
        [sys.executable, "bench/rpc_bench.py", "--requests", "40", "--concurrency", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    rows = {line.split()[0] for line in out.stdout.splitlines() if line.strip()}
    assert {"REST", "JSON-RPC", "XML-RPC"} <= rows


def test_submit_bench_runs_on_sqlite() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "bench/submit_bench.py",
            "--db",
            "sqlite",
            "-n",
            "8",
            "--requests",
            "16",
            "--concurrency",
            "2",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(result["rows"]) == 4
    assert result["end_to_end_per_s"] > 0
