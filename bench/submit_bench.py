#!/usr/bin/env python3
"""Order submission over the network (issue 17): a real ``qorus`` on PostgreSQL (or SQLite)
with a three-step no-op workflow, in ONE run:

- ``GET system/ping``, C clients (the yardstick of the HTTP stack);
- ``POST workflows/BENCH?action=createOrder``, 1 client sequential and C clients;
- the same through JSON-RPC ``omq.system.create-order``, C clients;
- end to end: N orders created over REST by C clients while the workflow runs, until all are
  COMPLETE, with orders/s and (PostgreSQL) commits per order from ``pg_stat_database``;

and the ratios createOrder / ping, and end to end / DBOS ``start_workflow`` with
``--dbos-python`` (the peer benchmark ``../shared/peer-bench/dbos_bench.py``, same N, same
PostgreSQL, run right after ours) or ``--dbos FILE``.

    PYTHONPATH=. python bench/submit_bench.py [--db postgresql|sqlite] [-n 2000]
        [--requests 2000] [--concurrency 8] [--audit] [--dbos-python VENV/bin/python]
    PYTHONPATH=. python bench/submit_bench.py --memory 100000   # server RSS after 1k and N

The submission phases create orders of a workflow that is not running (submission alone); the
end-to-end phase uses a second workflow started just before it, on a freshly started server,
and its commits are read after that server stopped (every backend's statistics flushed), so
they include the server's own start and stop (a few dozen commits).
The load runs in this process (threads of keep-alive httpx clients) on the same machine: only
the ratios of one run mean something on a shared machine. ``--json`` prints the figures as a
JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.engine import URL, Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

from engine_bench import commits, pg_url, run_dbos
from http_bench import free_port, wait_ready
from rpc_bench import load

from qorus_core.db import schema
from qorus_core.db import tables as t
from qorus_core.db.engine import create_system_engine, sqlite_url
from tests.helpers.definitions import add_workflow, noop_step

ROOT = Path(__file__).resolve().parents[1]
STEPS = ["BenchA", "BenchB", "BenchC"]

Call = Callable[[httpx.Client], None]


def rest_ping(c: httpx.Client) -> None:
    r = c.get("/api/latest/system/ping")
    if r.status_code != 200:
        raise SystemExit(f"ping: HTTP {r.status_code} {r.text[:200]}")


def rest_create(wf: str) -> Call:
    path = f"/api/latest/workflows/{wf}?action=createOrder"
    body = json.dumps({"staticdata": {"a": 1}}).encode()
    headers = {"content-type": "application/json"}

    def call(c: httpx.Client) -> None:
        r = c.post(path, content=body, headers=headers)
        if r.status_code != 201:
            raise SystemExit(f"createOrder: HTTP {r.status_code} {r.text[:200]}")

    return call


def rpc_create(wf: str) -> Call:
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "method": "omq.system.create-order",
            "params": [wf, {"staticdata": {"a": 1}}],
            "id": 1,
        }
    ).encode()
    headers = {"content-type": "application/json"}

    def call(c: httpx.Client) -> None:
        r = c.post("/JSON", content=body, headers=headers)
        res = r.json().get("result") if r.status_code == 200 else None
        if not isinstance(res, dict) or "workflow_instanceid" not in res:
            raise SystemExit(f"create-order: HTTP {r.status_code} {r.text[:200]}")

    return call


class Server:
    """One ``qorus -f`` process on ``omq``."""

    def __init__(self, omq: Path, overrides: list[str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "qorus_cli.qorus",
                "-d",
                str(omq),
                "-f",
                f"http-server=127.0.0.1:{self.port}",
                *overrides,
            ],
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_ready(self.url, self.proc, timeout=60)

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(httpx.TransportError):
                httpx.put(self.url + "/api/latest/system/shutdownWait", timeout=60)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def complete(engine: Engine, wfid: int) -> int:
    wi = t.workflow_instance
    q = (
        select(func.count())
        .select_from(wi)
        .where(wi.c.workflowid == wfid, wi.c.workflowstatus == "C")
    )
    with engine.connect() as conn:
        return int(conn.execute(q).scalar() or 0)


def end_to_end(
    url: str, engine: Engine, wfid: int, n: int, concurrency: int, timeout: float
) -> float:
    r = httpx.put(f"{url}/api/latest/workflows/{wfid}?action=start", timeout=30)
    if r.status_code != 200:
        raise SystemExit(f"start: HTTP {r.status_code} {r.text[:200]}")
    t0 = time.perf_counter()
    load(url, rest_create(str(wfid)), n, concurrency, timeout, warmup=False)
    deadline = time.monotonic() + timeout
    while complete(engine, wfid) < n:
        if time.monotonic() > deadline:
            raise SystemExit(f"end to end: not all {n} orders COMPLETE after {timeout}s")
        time.sleep(0.02)
    return n / (time.perf_counter() - t0)


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux ``/proc``), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no VmRSS in /proc: --memory needs Linux")


def memory(url: str, pid: int, engine: Engine, wfid: int, total: int, c: int) -> list[float]:
    """Resident memory of the server after 1,000 orders and after ``total`` orders, each run
    to COMPLETE (the workflow running, orders created over REST by ``c`` clients)."""
    r = httpx.put(f"{url}/api/latest/workflows/{wfid}?action=start", timeout=30)
    if r.status_code != 200:
        raise SystemExit(f"start: HTTP {r.status_code} {r.text[:200]}")
    out = []
    done = 0
    for upto in (1000, total):
        n = max(c, (upto - done) // c * c)
        load(url, rest_create(str(wfid)), n, c, 3600, warmup=False)
        done += n
        deadline = time.monotonic() + 3600
        while complete(engine, wfid) < done:
            if time.monotonic() > deadline:
                raise SystemExit(f"memory: not all {done} orders COMPLETE")
            time.sleep(0.2)
        out.append(rss_mb(pid))
        print(f"after {done} orders: server RSS {out[-1]:.1f} MB", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    ap.add_argument("-n", type=int, default=2000, help="orders of the end-to-end phase")
    ap.add_argument("--requests", type=int, default=2000, help="calls per submission phase")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60.0, help="time limit per phase")
    ap.add_argument("--workers", type=int, default=4, help="workflow-workers of the workflow")
    ap.add_argument(
        "--commit-slots",
        default="0",
        help="workflow-commit-slots of the end-to-end phase, one phase per comma-separated "
        "value (0: every worker commits alone; e.g. 0,3)",
    )
    ap.add_argument("--audit", action="store_true", help="qorus.audit=* (API-CALL rows)")
    ap.add_argument("--dbos", type=Path, help="JSON line written by dbos_bench.py --json")
    ap.add_argument("--dbos-python", help="run dbos_bench.py with this interpreter (DBOS venv)")
    ap.add_argument("--json", action="store_true", help="print the figures as a JSON line")
    ap.add_argument(
        "--memory",
        type=int,
        metavar="N",
        help="only the memory figure: server RSS after 1,000 and after N orders (issue: 100000)",
    )
    a = ap.parse_args()
    c = a.concurrency
    slots = [int(v) for v in str(a.commit_slots).split(",") if v.strip()] or [0]
    a.n = max(c, a.n // c * c)  # every client creates as many
    admin: Engine | None = None
    dbname = f"qorus_submit_{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp:
        omq = Path(tmp) / "omq"
        for sub in ("etc", "log", "user", "var"):
            (omq / sub).mkdir(parents=True)
        url: URL
        if a.db == "postgresql":
            admin = create_system_engine(pg_url("postgres"), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {dbname}"))
                conn.execute(text(f"CREATE DATABASE {dbname}"))
            url = pg_url(dbname)
        else:
            url = sqlite_url(omq / "var" / "qorus.sqlite")
        (omq / "etc" / "options").write_text(
            f"qorus.systemdb = {url.render_as_string(hide_password=False)}\n"
        )
        engine = create_system_engine(url)
        overrides = ["audit=*"] if a.audit else []
        rows: list[tuple[str, dict[str, float]]] = []
        try:
            schema.align(engine)
            for name in STEPS:
                noop_step(engine, name)
            add_workflow(engine, "BENCH", STEPS)
            e2e_wfids = {
                n: add_workflow(
                    engine,
                    f"BENCHE2E{n}",
                    STEPS,
                    options={"workflow-workers": a.workers, "workflow-commit-slots": n},
                )
                for n in slots
            }
            e2e_wfid = e2e_wfids[slots[0]]
            if a.memory:
                srv = Server(omq, overrides)
                try:
                    small, big = memory(srv.url, srv.proc.pid, engine, e2e_wfid, a.memory, c)
                finally:
                    srv.stop()
                print(
                    f"memory: {small:.1f} MB after 1000 orders, {big:.1f} MB after {a.memory}: "
                    f"{big - small:+.1f} MB (issue 17: within 50 MB)"
                )
                return
            srv = Server(omq, overrides)
            try:
                rows.append(("GET system/ping", load(srv.url, rest_ping, a.requests, c, a.seconds)))
                create = rest_create("BENCH")
                rows.append(
                    (
                        "createOrder REST, 1 client",
                        load(srv.url, create, a.requests // 4, 1, a.seconds),
                    )
                )
                rows.append(
                    (
                        f"createOrder REST, {c} clients",
                        load(srv.url, create, a.requests, c, a.seconds),
                    )
                )
                rpc = rpc_create("BENCH")
                rows.append(
                    (
                        f"create-order JSON-RPC, {c} cl.",
                        load(srv.url, rpc, a.requests, c, a.seconds),
                    )
                )
            finally:
                srv.stop()
            e2e_rows: list[tuple[int, float, float | None]] = []
            for n, wfid in e2e_wfids.items():
                before = commits(admin, dbname)
                srv = Server(omq, overrides)
                try:
                    rate = end_to_end(srv.url, engine, wfid, a.n, c, max(a.seconds, 300))
                finally:
                    srv.stop()
                after = commits(admin, dbname)
                cpo = None if before is None or after is None else (after - before) / a.n
                e2e_rows.append((n, rate, cpo))
        finally:
            engine.dispose()
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"))
                admin.dispose()
    ping = rows[0][1]["rps"]
    print(
        f"{a.db}, audit {'on' if a.audit else 'off'}, {c} clients, loopback, 3-step no-op workflow"
    )
    print(f"{'measure':<32}{'calls':>8}{'calls/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'/ping':>8}")
    for name, r in rows:
        print(
            f"{name:<32}{r['requests']:>8.0f}{r['rps']:>10.0f}{r['p50_ms']:>9.2f}"
            f"{r['p99_ms']:>9.2f}{r['rps'] / ping:>8.2f}"
        )
    for n, rate, cpo in e2e_rows:
        line = (
            f"end to end: {a.n} orders over REST by {c} clients until COMPLETE "
            f"(workflow-commit-slots {n}): {rate:.0f} orders/s"
        )
        print(line + ("" if cpo is None else f", {cpo:.2f} commits/order"))
    figures: dict[str, Any] = {
        "db": a.db,
        "audit": a.audit,
        "rows": {name: round(r["rps"], 1) for name, r in rows},
        "end_to_end": [
            {
                "commit_slots": n,
                "per_s": round(rate, 1),
                "commits_per_order": None if cpo is None else round(cpo, 2),
            }
            for n, rate, cpo in e2e_rows
        ],
    }
    peer_file = a.dbos or (run_dbos(a.dbos_python, a.n) if a.dbos_python else None)
    if peer_file:
        peer = json.loads(peer_file.read_text().strip().splitlines()[-1])
        ratios = ", ".join(
            f"{rate / float(peer['wf_per_s']):.2f}x (slots {n})" for n, rate, _ in e2e_rows
        )
        print(f"DBOS start_workflow: {peer['wf_per_s']} workflows/s -> end to end {ratios}")
        figures["dbos_wf_per_s"] = peer["wf_per_s"]
    if a.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
