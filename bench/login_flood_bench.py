#!/usr/bin/env python3
"""A valid user's request latency while a flood of wrong passwords hits a real ``qorus``
under ``rbac-security`` (SQLite, loopback).

The flood runs in a process of its own: ``--addresses`` client addresses (127.0.2.x) send
``--per-address`` concurrent wrong passwords each. Meanwhile this process sends the valid
user's Basic requests (its password already verified once) one after another and prints their
p50, p99 and worst latency, and how the flood was answered (401 checked, 429 throttled, 503
no login thread free).

    PYTHONPATH=. python bench/login_flood_bench.py [--addresses 100] [--per-address 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from qorus_core import rbac
from qorus_core.db import schema
from qorus_core.db.engine import create_system_engine, sqlite_url

ROOT = Path(__file__).resolve().parents[1]
USER, PASSWORD = "admin", "Adm1n-Secret"

FLOOD = """
import asyncio, sys
from collections import Counter
import httpx

async def main(url, addresses, per):
    clients = [
        httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(local_address=f"127.0.2.{n + 1}"), timeout=600
        )
        for n in range(addresses)
    ]
    calls = [
        c.get(url, auth=("admin", f"wrong-{n}-{i}"))
        for n, c in enumerate(clients)
        for i in range(per)
    ]
    res = await asyncio.gather(*calls, return_exceptions=True)
    print(dict(Counter(getattr(r, "status_code", type(r).__name__) for r in res)))

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--addresses", type=int, default=100, help="at most 254")
    ap.add_argument("--per-address", type=int, default=3)
    a = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        omq = Path(tmp) / "omq"
        for sub in ("etc", "log", "var"):
            (omq / sub).mkdir(parents=True)
        engine = create_system_engine(sqlite_url(omq / "var" / "qorus.sqlite"))
        schema.align(engine)
        with engine.begin() as conn:
            rbac.add_user(conn, USER, PASSWORD, ["superuser"], policy=rbac.PasswordPolicy())
        engine.dispose()
        port = free_port()
        url = f"http://127.0.0.1:{port}/api/latest/system/ping"
        qorus = subprocess.Popen(
            [
                *(sys.executable, "-m", "qorus_cli.qorus", "-d", str(omq), "-f"),
                *(f"http-server=127.0.0.1:{port}", "rbac-security=true"),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with httpx.Client(timeout=600, auth=(USER, PASSWORD)) as c:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        if c.get(url).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline or qorus.poll() is not None:
                        raise SystemExit("qorus did not start")
                    time.sleep(0.1)
                flood = subprocess.Popen(
                    [sys.executable, "-c", FLOOD, url, str(a.addresses), str(a.per_address)],
                    env=env,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                lat: list[float] = []
                statuses: Counter[int] = Counter()
                while flood.poll() is None:
                    t0 = time.perf_counter()
                    statuses[c.get(url).status_code] += 1
                    lat.append(time.perf_counter() - t0)
                answers = flood.communicate()[0].strip()
        finally:
            qorus.terminate()
            qorus.wait(30)
    lat.sort()
    print(f"flood: {a.addresses} addresses x {a.per_address} wrong passwords: {answers}")
    print(
        f"valid user during the flood: {len(lat)} requests {dict(statuses)}, "
        f"p50 {statistics.median(lat) * 1000:.0f} ms, "
        f"p99 {lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000:.0f} ms, "
        f"worst {lat[-1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
