"""Engine benchmark: N orders of a three-step no-op workflow, orders per second and database
commits per order (PostgreSQL ``pg_stat_database.xact_commit`` of the bench database).

    PYTHONPATH=. python bench/engine_bench.py --db postgresql -n 2000
    PYTHONPATH=. python bench/engine_bench.py --db sqlite -n 2000
    PYTHONPATH=. python bench/engine_bench.py --db postgresql --dbos-python VENV/bin/python

Orders are created in batches (``create_orders``, one commit per batch) before the workflow
starts; "orders/s" is the processing rate from the start of the execution instance until the
last order is COMPLETE; "end-to-end" includes creation. Commits per order count everything:
creation, claims, step commits. With ``--dbos-python`` the peer benchmark
``../shared/peer-bench/dbos_bench.py`` (DBOS 3.x, three steps, same N, same PostgreSQL) runs in
that interpreter right after ours, in the same run, and the ratio is printed; ``--dbos FILE``
reads a JSON line that dbos_bench.py wrote earlier instead. Set the DBOS venv up once:

    python3 -m venv VENV && VENV/bin/pip install "dbos>=3.4,<4" "psycopg[binary]"
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import URL, Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qorus_core.db import schema
from qorus_core.db import tables as t
from qorus_core.db.engine import create_system_engine, sqlite_url
from qorus_core.db.orders import create_orders
from qorus_core.db.sessions import open_session
from qorus_core.options import Options
from qorus_server.engine.manager import WorkflowManager
from qorus_server.events import EventBus
from tests.helpers.definitions import add_workflow, noop_step

PG_HOST = os.environ.get("QORUS_TEST_PG_HOST", "127.0.0.1")


def pg_url(db: str) -> URL:
    return URL.create(
        "postgresql+psycopg", username="postgres", host=PG_HOST, port=5432, database=db
    )


def commits(admin: Engine | None, dbname: str) -> int | None:
    if admin is None:
        return None
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_stat_force_next_flush()"))
    time.sleep(1.2)  # statistics reach the shared view on the next flush
    with admin.connect() as conn:
        return int(
            conn.execute(
                text("SELECT xact_commit FROM pg_stat_database WHERE datname = :d"), {"d": dbname}
            ).scalar()
            or 0
        )


def run(kind: str, n: int, workers: int, batch: int, slots: int = 0) -> dict[str, Any]:
    admin: Engine | None = None
    dbname = f"qorus_bench_{os.getpid()}"
    tmp = tempfile.TemporaryDirectory()
    if kind == "postgresql":
        admin = create_system_engine(pg_url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {dbname}"))
            conn.execute(text(f"CREATE DATABASE {dbname}"))
        url = pg_url(dbname)
    else:
        url = sqlite_url(Path(tmp.name) / "bench.sqlite")
    engine = create_system_engine(url, pool_min=workers + 2, pool_max=workers + 10)
    try:
        schema.align(engine)
        for name in ("BenchA", "BenchB", "BenchC"):
            noop_step(engine, name)
        wfid = add_workflow(
            engine,
            "BENCH",
            ["BenchA", "BenchB", "BenchC"],
            options={"workflow-workers": workers, "workflow-commit-slots": slots},
        )
        with engine.begin() as conn:
            sessionid = open_session(
                conn, instancekey="bench", node="bench", url=None, version="bench"
            )
        before = commits(admin, dbname)
        t0 = time.perf_counter()
        for start in range(0, n, batch):
            create_orders(
                engine,
                wfid,
                [{"staticdata": {"i": i}} for i in range(start, min(n, start + batch))],
            )
        t1 = time.perf_counter()
        server = SimpleNamespace(
            engine=engine,
            options=Options({"autostart-interfaces": False}),
            events=EventBus(),
            sessionid=sessionid,
            omq=None,
            pools=None,
            logs=None,
            sensitive=None,
            auditor=None,
        )
        manager = WorkflowManager(poll_interval=0.5)
        manager.start(server)
        t2 = time.perf_counter()
        manager.start_workflow("BENCH")
        wi = t.workflow_instance
        count_done = select(func.count()).select_from(wi).where(wi.c.workflowstatus == "C")
        while True:
            with engine.connect() as conn:
                done = int(conn.execute(count_done).scalar() or 0)
            if done >= n:
                break
            time.sleep(0.02)
        t3 = time.perf_counter()
        manager.stop()
        engine.dispose()  # closing the backends flushes their statistics
        after = commits(admin, dbname)
        result: dict[str, Any] = {
            "db": kind,
            "orders": n,
            "workers": workers,
            "commit_slots": slots,
            "create_s": round(t1 - t0, 3),
            "process_s": round(t3 - t2, 3),
            "orders_per_s": round(n / (t3 - t2), 1),
            "end_to_end_per_s": round(n / ((t1 - t0) + (t3 - t2)), 1),
        }
        if before is not None and after is not None:
            # the bench's own polling and the admin reads are read-only (rollbacks, not commits)
            result["commits_per_order"] = round((after - before) / n, 2)
        return result
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"))
            admin.dispose()
        tmp.cleanup()


PEER = Path(__file__).resolve().parents[2] / "shared" / "peer-bench" / "dbos_bench.py"


def run_dbos(python: str, n: int) -> Path:
    """Run the DBOS peer benchmark on the same PostgreSQL (database ``bench``) now."""
    import subprocess

    admin = create_system_engine(pg_url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = 'bench'")).first():
            conn.execute(text("CREATE DATABASE bench"))
    admin.dispose()
    out = Path(tempfile.mkdtemp()) / "dbos.json"
    subprocess.run(
        [python, str(PEER), "--mode", "start", "-n", str(n), "--json", str(out)],
        check=True,
        timeout=1800,
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("-n", type=int, default=2000, help="orders (default 2000)")
    ap.add_argument("--workers", type=int, default=4, help="workers of the execution instance")
    ap.add_argument(
        "--commit-slots",
        type=int,
        default=0,
        help="workflow-commit-slots of the workflow (0: every worker commits alone)",
    )
    ap.add_argument("--batch", type=int, default=500, help="orders per creation commit")
    ap.add_argument("--dbos", type=Path, help="JSON line written by dbos_bench.py --json")
    ap.add_argument("--dbos-python", help="run dbos_bench.py with this interpreter (DBOS venv)")
    args = ap.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    results = [run(k, args.n, args.workers, args.batch, args.commit_slots) for k in kinds]
    for r in results:
        line = (
            f"{r['db']:<10} {r['orders']} orders, {r['workers']} workers: "
            f"{r['orders_per_s']} orders/s processing, {r['end_to_end_per_s']} orders/s end-to-end"
        )
        if "commits_per_order" in r:
            line += f", {r['commits_per_order']} commits/order"
        print(line)
    peer_file = args.dbos or (run_dbos(args.dbos_python, args.n) if args.dbos_python else None)
    if peer_file:
        peer = json.loads(peer_file.read_text().strip().splitlines()[-1])
        pg = [r for r in results if r["db"] == "postgresql"]
        if pg:
            print(
                f"DBOS: {peer['wf_per_s']} workflows/s -> ratio "
                f"{pg[0]['orders_per_s'] / float(peer['wf_per_s']):.2f}x (processing), "
                f"{pg[0]['end_to_end_per_s'] / float(peer['wf_per_s']):.2f}x (end-to-end)"
            )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
