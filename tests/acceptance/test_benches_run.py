"""The benchmarks still run: a tiny engine run on SQLite, and the PostgreSQL-only scaling bench
when PostgreSQL is the test database (no figure is checked; timings belong in the benchmarks,
never in tests). A bench that no longer starts is found here, not by the
next person who needs its figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from qorus_proc import ROOT

pytestmark = pytest.mark.acceptance


def run_bench(script: str, *args: str, timeout: float = 120) -> str:
    """``bench/<script>`` with ``args``, which must succeed; its standard output."""
    out = subprocess.run(
        [sys.executable, f"bench/{script}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={
            "PYTHONPATH": str(ROOT),
            "PATH": "/usr/bin:/bin",
            **{k: v for k, v in os.environ.items() if k == "QORUS_TEST_PG_HOST"},
        },
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def last_json(stdout: str) -> Any:
    return json.loads(stdout.strip().splitlines()[-1])


def test_engine_bench_runs_on_sqlite() -> None:
    result = last_json(
        run_bench("engine_bench.py", "--db", "sqlite", "-n", "20", "--commit-slots", "1")
    )
    assert result[0]["orders"] == 20 and result[0]["commit_slots"] == 1


def test_rpc_bench_runs() -> None:
    stdout = run_bench("rpc_bench.py", "--requests", "40", "--concurrency", "2")
    rows = {line.split()[0] for line in stdout.splitlines() if line.strip()}
    assert {"REST", "JSON-RPC", "XML-RPC"} <= rows


def test_submit_bench_runs_on_sqlite() -> None:
    stdout = run_bench(
        "submit_bench.py",
        *("--db", "sqlite", "-n", "8", "--requests", "16", "--concurrency", "2", "--json"),
        *("--commit-slots", "0,1"),
        timeout=300,
    )
    result = last_json(stdout)
    assert len(result["rows"]) == 4
    assert [e["commit_slots"] for e in result["end_to_end"]] == [0, 1]
    assert all(e["per_s"] > 0 for e in result["end_to_end"])


def test_scaling_bench_runs_on_postgresql(db_kind: str) -> None:
    if db_kind != "postgresql":
        pytest.skip("the scaling bench runs on PostgreSQL only; run with --db postgresql")
    stdout = run_bench(
        "scaling_bench.py", *("-n", "40", "--configs", "1,2nodes", "--json"), timeout=300
    )
    lines = stdout.splitlines()
    assert lines[0].startswith("configuration") and "orders/s" in lines[0]
    result = last_json(stdout)
    assert [r["config"] for r in result] == ["1", "2nodes"]
    assert all(r["orders"] == 40 and r["orders_per_s"] > 0 for r in result)
