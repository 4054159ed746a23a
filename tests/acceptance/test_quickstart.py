"""`bin/quickstart`, the README's first command: everything set up, orders run, twice."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from qorus_proc import ROOT, env, free_port, tool

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]


def test_quickstart_runs_twice(omq_dir: Path) -> None:
    port = free_port()
    with (omq_dir / "etc" / "options").open("a") as f:
        f.write(f"qorus.http-server = 127.0.0.1:{port}\n")
        f.write(f"qorus-client.client-url = http://127.0.0.1:{port}\n")
    cmd = [str(ROOT / "bin" / "quickstart"), "-d", str(omq_dir), "-n", "20", "--timeout", "120"]
    try:
        first = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=300)
        assert first.returncode == 0, first.stderr + first.stdout
        assert "20 of 20 orders COMPLETE" in first.stdout
        assert "starting qorus" in first.stdout
        assert "qrest workflows/ORDER-FULFILMENT" in first.stdout
        # the orders reserved their stock with the demo's service, which says so
        assert "service order-inventory (loaded): 20 reservations" in first.stdout
        second = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stderr + second.stdout
        assert "qorus is already running" in second.stdout
        assert "all current" in second.stdout
        assert "20 of 20 orders COMPLETE" in second.stdout
        assert "service order-inventory (loaded): 40 reservations" in second.stdout
        res = tool("qrest", "-u", f"http://127.0.0.1:{port}", "workflows/ORDER-FULFILMENT")
        assert res.returncode == 0 and "COMPLETE: 40" in res.stdout, res.stdout + res.stderr
    finally:
        tool("qrest", "-u", f"http://127.0.0.1:{port}", "put", "system/shutdownWait")
