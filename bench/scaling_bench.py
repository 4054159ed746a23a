"""Scaling benchmark (issue 17): orders/s of a three-step no-op workflow with 1, 2 and 4
execution instances in one process and with 2 nodes (2 OS processes, one instance each) on one
PostgreSQL database, with the lock waits seen meanwhile.

    PYTHONPATH=. python bench/scaling_bench.py [-n N] [--workers W] [--configs 1,2,4,2nodes]
        [--batch B] [--json]

A fresh database (PostgreSQL at 127.0.0.1:5432, user postgres) is made for the run and dropped
at the end. Each configuration runs on N freshly created orders (created in batches before the
instances start, then ``VACUUM ANALYZE`` so that no configuration inherits the previous one's
dead rows). A configuration ``K`` is K execution instances of one WorkflowManager in this
process; ``Mnodes`` is M child processes (spawned), each with its own session, engine and
WorkflowManager running one instance. Every instance has W workflow-workers (default 2).

Columns:

- ``configuration``: ``K instance(s)`` or ``M nodes``.
- ``inst x workers``: execution instances in all x workflow-workers of each.
- ``orders/s``: N / seconds from the first instance's start until the last order is COMPLETE.
- ``ratio``: orders/s divided by the 1-instance row's (the first row's without a ``1`` config).
- ``commits/order``: ``pg_stat_database.xact_commit`` of the bench database over processing
  (creation not included; backends closed before each reading so that their counts are in).
- ``lock waits``: from a separate connection every ~50 ms, backends of the bench database in
  a ``Lock`` or ``LWLock`` wait (``pg_stat_activity``): samples taken, samples that saw any,
  the most frequent wait events with the number of backends seen waiting on each over all
  samples, and the most ``NOT granted`` rows of ``pg_locks`` seen in one sample.

The machine is shared and noisy (2 cores): only ratios within one run mean something. With 2
cores, more instances or nodes add threads and processes that compete for the same CPUs as
PostgreSQL; the lock-wait column tells whether they also wait on each other in the database.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.engine_bench import commits, pg_url
from qorus_core.db import schema
from qorus_core.db import tables as t
from qorus_core.db.engine import create_system_engine
from qorus_core.db.orders import create_orders
from qorus_core.db.sessions import close_session, open_session
from qorus_core.options import Options
from qorus_server.engine.manager import WorkflowManager
from qorus_server.events import EventBus
from tests.helpers.definitions import add_workflow, noop_step

WORKFLOW = "BENCH"
HEADER = (
    f"{'configuration':<14} {'inst x workers':>14} {'orders/s':>9} {'ratio':>6} "
    f"{'commits/order':>13}  lock waits"
)

_WAITS = text(
    """
    SELECT a.wait_event_type || ':' || a.wait_event AS ev, count(*) AS n
    FROM pg_stat_activity a
    WHERE a.datname = :d AND a.wait_event_type IN ('Lock', 'LWLock')
    GROUP BY 1
    UNION ALL
    -- a row lock waits on the holder's transactionid lock, whose database is NULL: by pid
    SELECT '#not-granted', count(*)
    FROM pg_locks l
    WHERE NOT l.granted
      AND l.pid IN (SELECT pid FROM pg_stat_activity WHERE datname = :d)
    """
)


@dataclass(frozen=True)
class Config:
    label: str
    nodes: int
    instances: int  # per node


def parse_config(spec: str) -> Config:
    """``K`` (K instances in this process) or ``Mnodes`` (M processes, one instance each)."""
    m = re.fullmatch(r"(\d+)nodes?", spec.strip())
    if m:
        return Config(spec.strip(), int(m.group(1)), 1)
    if spec.strip().isdigit():
        return Config(spec.strip(), 1, int(spec))
    raise argparse.ArgumentTypeError(f"bad configuration {spec!r} (use K or Mnodes)")


@dataclass
class WaitSampler:
    """Samples lock waits of one database from a connection to ``postgres`` (so that its own
    transactions are not counted in the bench database's commits)."""

    admin: Engine
    dbname: str
    interval: float = 0.05
    samples: int = 0
    with_waits: int = 0
    events: Counter[str] = field(default_factory=Counter)
    max_not_granted: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wait-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        with self.admin.connect() as conn:
            while not self._stop.is_set():
                rows = conn.execute(_WAITS, {"d": self.dbname}).all()
                self.samples += 1
                waits = {str(r[0]): int(r[1]) for r in rows if r[0] != "#not-granted"}
                if waits:
                    self.with_waits += 1
                    self.events.update(waits)
                ungranted = sum(int(r[1]) for r in rows if r[0] == "#not-granted")
                self.max_not_granted = max(self.max_not_granted, ungranted)
                self._stop.wait(self.interval)

    def summary(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "samples_with_waits": self.with_waits,
            "top": self.events.most_common(3),
            "max_not_granted": self.max_not_granted,
        }


def describe_waits(w: dict[str, Any]) -> str:
    top = ", ".join(f"{ev} {n}" for ev, n in w["top"]) or "none"
    return (
        f"{w['samples_with_waits']}/{w['samples']} samples: {top}; "
        f"max not granted {w['max_not_granted']}"
    )


class Node:
    """One node: a session, an engine sized for its workers and a started WorkflowManager."""

    def __init__(self, dbname: str, node: str, workers: int) -> None:
        self.engine = create_system_engine(
            pg_url(dbname), pool_min=workers + 2, pool_max=workers + 10
        )
        with self.engine.begin() as conn:
            self.sessionid = open_session(
                conn, instancekey="bench", node=node, url=None, version="bench"
            )
        server = SimpleNamespace(
            engine=self.engine,
            options=Options({"autostart-interfaces": False}),
            events=EventBus(),
            sessionid=self.sessionid,
            omq=None,
            pools=None,
            logs=None,
            sensitive=None,
            auditor=None,
        )
        self.manager = WorkflowManager(poll_interval=0.5)
        self.manager.start(server)

    def run(self, instances: int) -> None:
        for _ in range(instances):
            self.manager.start_workflow(WORKFLOW)

    def close(self) -> None:
        """Stop, close the session (a node left ACTIVE would make the next configuration send
        wake-ups to nobody) and close the backends so that their statistics are flushed."""
        self.manager.stop()
        with self.engine.begin() as conn:
            close_session(conn, self.sessionid)
        self.engine.dispose()


def node_process(
    dbname: str,
    node: str,
    workers: int,
    instances: int,
    ready: Any,
    go: Any,
    done: Any,
) -> None:
    """A child node: ready once started, runs its instances on ``go`` until ``done``."""
    n = Node(dbname, node, workers * instances)
    ready.set()
    go.wait()
    n.run(instances)
    done.wait()
    n.close()


def wait_complete(poll: Engine, timeout: float) -> None:
    """Until no order is left that is not COMPLETE (earlier configurations' are all done)."""
    wi = t.workflow_instance
    left = select(func.count()).select_from(wi).where(wi.c.workflowstatus != "C")
    deadline = time.monotonic() + timeout
    while True:
        with poll.connect() as conn:  # read-only: ends in a rollback, not a commit
            if not int(conn.execute(left).scalar() or 0):
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"orders still not COMPLETE after {timeout:.0f} s")
        time.sleep(0.02)


def run_config(
    cfg: Config, admin: Engine, dbname: str, wfid: int, n: int, workers: int, batch: int
) -> dict[str, Any]:
    maker = create_system_engine(pg_url(dbname), pool_min=1, pool_max=2)
    for start in range(0, n, batch):
        create_orders(
            maker, wfid, [{"staticdata": {"i": i}} for i in range(start, min(n, start + batch))]
        )
    maker.dispose()
    vacuum = create_system_engine(pg_url(dbname), isolation_level="AUTOCOMMIT")
    with vacuum.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    vacuum.dispose()
    poll = create_system_engine(pg_url(dbname), pool_min=1, pool_max=2)
    sampler = WaitSampler(admin, dbname)
    timeout = max(300.0, n / 2)
    before = commits(admin, dbname)
    if cfg.nodes == 1:
        node = Node(dbname, "bench-0", workers * cfg.instances)
        sampler.start()
        t0 = time.perf_counter()
        node.run(cfg.instances)
        wait_complete(poll, timeout)
        t1 = time.perf_counter()
        sampler.stop()
        node.close()
    else:
        ctx = multiprocessing.get_context("spawn")
        go, done = ctx.Event(), ctx.Event()
        ready = [ctx.Event() for _ in range(cfg.nodes)]
        procs = [
            ctx.Process(
                target=node_process,
                args=(dbname, f"bench-{i}", workers, cfg.instances, ready[i], go, done),
            )
            for i in range(cfg.nodes)
        ]
        for p in procs:
            p.start()
        try:
            for p, r in zip(procs, ready, strict=True):
                while not r.wait(0.5):
                    if not p.is_alive():
                        raise RuntimeError(f"node process exited with code {p.exitcode}")
            sampler.start()
            t0 = time.perf_counter()
            go.set()
            wait_complete(poll, timeout)
            t1 = time.perf_counter()
            sampler.stop()
        finally:
            go.set()
            done.set()
            for p in procs:
                p.join(120)
                if p.is_alive():
                    p.kill()
                    p.join()
        bad = [p.exitcode for p in procs if p.exitcode != 0]
        if bad:
            raise RuntimeError(f"node processes exited with codes {bad}")
    poll.dispose()
    after = commits(admin, dbname)
    result: dict[str, Any] = {
        "config": cfg.label,
        "nodes": cfg.nodes,
        "instances": cfg.nodes * cfg.instances,
        "workers": workers,
        "orders": n,
        "process_s": round(t1 - t0, 3),
        "orders_per_s": round(n / (t1 - t0), 1),
        "waits": sampler.summary(),
    }
    if before is not None and after is not None:
        result["commits_per_order"] = round((after - before) / n, 2)
    return result


def run(configs: list[Config], n: int, workers: int, batch: int) -> list[dict[str, Any]]:
    dbname = f"qorus_scaling_{os.getpid()}"
    admin = create_system_engine(pg_url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {dbname}"))
        conn.execute(text(f"CREATE DATABASE {dbname}"))
    try:
        engine = create_system_engine(pg_url(dbname))
        schema.align(engine)
        for name in ("BenchA", "BenchB", "BenchC"):
            noop_step(engine, name)
        wfid = add_workflow(
            engine, WORKFLOW, ["BenchA", "BenchB", "BenchC"], options={"workflow-workers": workers}
        )
        engine.dispose()
        return [run_config(c, admin, dbname, wfid, n, workers, batch) for c in configs]
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"))
        admin.dispose()


def label(r: dict[str, Any]) -> str:
    if r["nodes"] > 1:
        return f"{r['nodes']} nodes"
    return f"{r['instances']} instance" + ("s" if r["instances"] > 1 else "")


def table(results: list[dict[str, Any]]) -> list[str]:
    base = next((r for r in results if r["config"] == "1"), results[0])
    lines = [HEADER]
    for r in results:
        r["ratio"] = round(r["orders_per_s"] / base["orders_per_s"], 2)
        cpo = r.get("commits_per_order")
        lines.append(
            f"{label(r):<14} {str(r['instances']) + ' x ' + str(r['workers']):>14} "
            f"{r['orders_per_s']:>9} {r['ratio']:>6.2f} "
            f"{'-' if cpo is None else f'{cpo:.2f}':>13}  {describe_waits(r['waits'])}"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=4000, help="orders per configuration (4000)")
    ap.add_argument("--workers", type=int, default=2, help="workflow-workers per instance (2)")
    ap.add_argument(
        "--configs",
        default="1,2,4,2nodes",
        help="comma-separated: K instances in one process, Mnodes processes (1,2,4,2nodes)",
    )
    ap.add_argument("--batch", type=int, default=500, help="orders per creation commit (500)")
    ap.add_argument("--json", action="store_true", help="also print the figures as a JSON line")
    args = ap.parse_args()
    configs = [parse_config(s) for s in args.configs.split(",") if s.strip()]
    results = run(configs, args.n, args.workers, args.batch)
    print("\n".join(table(results)), flush=True)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
