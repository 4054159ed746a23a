"""Benchmark: load 1,000 definitions (800 steps, 200 workflows of 4 steps) with oload's engine on
SQLite and PostgreSQL, and print definitions per second (first load and an unchanged reload).

    PYTHONPATH=. python bench/oload_bench.py [--steps 800] [--workflows 200] [--pg-host 127.0.0.1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL

from qorus_core.db import schema
from qorus_core.db.engine import create_system_engine, sqlite_url
from qorus_core.loader import load

STEP = """type: step
name: {name}
version: "1.0"
desc: benchmark step {name}
lang: python
steptype: NORMAL
code: {name}.py
"""
CODE = """from wf import QorusNormalStep


class {name}(QorusNormalStep):
    def primary(self):
        wfapi.updateDynamicData({{"{name}": True}})
"""


def generate(root: Path, steps: int, workflows: int) -> int:
    for i in range(steps):
        name = f"BenchStep{i}"
        (root / f"{name}.qstep.yaml").write_text(STEP.format(name=name))
        (root / f"{name}.py").write_text(CODE.format(name=name))
    for w in range(workflows):
        s = [f"BenchStep{(w * 4 + k) % steps}:1.0" for k in range(4)]
        steps_yaml = f'["{s[0]}", ["{s[1]}", "{s[2]}"], "{s[3]}"]'
        (root / f"BENCH-WF-{w}.qwf.yaml").write_text(
            f'type: workflow\nname: BENCH-WF-{w}\nversion: "1.0"\ndesc: benchmark\n'
            f"keylist: [id]\nsteps: {steps_yaml}\n"
        )
    return steps + workflows


def run(label: str, url: URL, root: Path, n: int) -> None:
    engine = create_system_engine(url, pool_min=1, pool_max=2)
    schema.align(engine)
    for what in ("first load", "unchanged reload"):
        t0 = time.perf_counter()
        res = load(engine, [str(root)])
        dt = time.perf_counter() - t0
        assert len(res.outcomes) == n
        print(f"{label:<11} {what:<17} {n} definitions in {dt:6.2f} s = {n / dt:8.1f} def/s")
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=800)
    ap.add_argument("--workflows", type=int, default=200)
    ap.add_argument("--pg-host", default="127.0.0.1")
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "defs"
        root.mkdir()
        n = generate(root, args.steps, args.workflows)
        run("SQLite", sqlite_url(Path(tmp) / "bench.sqlite"), root, n)
        if args.no_pg:
            return
        admin_url = URL.create(
            "postgresql+psycopg", username="postgres", host=args.pg_host, database="postgres"
        )
        admin = create_system_engine(admin_url, isolation_level="AUTOCOMMIT")
        db = "qorus_oload_bench"
        try:
            with admin.connect() as c:
                c.execute(text(f"DROP DATABASE IF EXISTS {db}"))
                c.execute(text(f"CREATE DATABASE {db}"))
        except Exception as exc:
            print(f"PostgreSQL  skipped: {str(exc).splitlines()[0]}")
            return
        try:
            run("PostgreSQL", admin_url.set(database=db), root, n)
        finally:
            with admin.connect() as c:
                c.execute(text(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
            admin.dispose()


if __name__ == "__main__":
    main()
