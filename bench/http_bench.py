#!/usr/bin/env python3
"""GET /api/latest/system/ping on a real ``qorus`` vs a bare Starlette app on the same ASGI
server (uvicorn, h11, asyncio loop), in the same run, loopback only.

Both servers run as their own processes; this process drives the load with a thread pool of
httpx clients (keep-alive), bounded by a request count and a time limit. Prints requests/s,
p50 and p99 latency of each and the ratios qorus / bare.

    PYTHONPATH=. python bench/http_bench.py [--requests 3000] [--concurrency 8] [--seconds 30]
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from qorus_core.db import schema
from qorus_core.db.engine import create_system_engine, sqlite_url

ROOT = Path(__file__).resolve().parents[1]
PATH = "/api/latest/system/ping"

BARE_APP = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def ping(request):
    return JSONResponse("OK")

app = Starlette(routes=[Route("/api/latest/system/ping", ping)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), http="h11", loop="asyncio",
            log_level="warning", access_log=False, lifespan="off")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url + PATH, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer in {timeout}s")


def load(url: str, requests: int, concurrency: int, seconds: float) -> dict[str, float]:
    per_worker = max(1, requests // concurrency)
    deadline = time.monotonic() + seconds

    def worker(_: int) -> list[float]:
        out: list[float] = []
        with httpx.Client(base_url=url, timeout=10) as c:
            for _i in range(per_worker):
                if time.monotonic() > deadline:
                    break
                t0 = time.perf_counter()
                r = c.get(PATH)
                out.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    raise SystemExit(f"{url}: HTTP {r.status_code}")
        return out

    load_threads = min(concurrency, 64)
    with ThreadPoolExecutor(load_threads) as pool:
        list(pool.map(worker, range(min(load_threads, 4))))  # warm-up: connections, caches
        t0 = time.perf_counter()
        lat = [x for chunk in pool.map(worker, range(concurrency)) for x in chunk]
        elapsed = time.perf_counter() - t0
    lat.sort()
    return {
        "requests": len(lat),
        "rps": len(lat) / elapsed,
        "p50_ms": statistics.median(lat) * 1000,
        "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=30.0, help="time limit per server")
    a = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        omq = Path(tmp) / "omq"
        for sub in ("etc", "var"):
            (omq / sub).mkdir(parents=True)
        engine = create_system_engine(sqlite_url(omq / "var" / "qorus.sqlite"))
        schema.align(engine)
        engine.dispose()
        qport, bport = free_port(), free_port()
        qorus = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "qorus_cli.qorus",
                "-d",
                str(omq),
                "-f",
                f"http-server=127.0.0.1:{qport}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        bare = subprocess.Popen(
            [sys.executable, "-c", BARE_APP, str(bport)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            qurl, burl = f"http://127.0.0.1:{qport}", f"http://127.0.0.1:{bport}"
            wait_ready(qurl, qorus)
            wait_ready(burl, bare)
            results = {
                "bare starlette": load(burl, a.requests, a.concurrency, a.seconds),
                "qorus": load(qurl, a.requests, a.concurrency, a.seconds),
            }
        finally:
            qorus.terminate()
            bare.terminate()
            qorus.wait(30)
            bare.wait(30)
    print(f"GET {PATH}: {a.requests} requests, {a.concurrency} clients, loopback, uvicorn h11")
    print(f"{'server':<16}{'requests':>10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name, r in results.items():
        print(
            f"{name:<16}{r['requests']:>10.0f}{r['rps']:>10.0f}{r['p50_ms']:>10.2f}"
            f"{r['p99_ms']:>10.2f}"
        )
    q, b = results["qorus"], results["bare starlette"]
    print(
        f"ratio qorus/bare: req/s {q['rps'] / b['rps']:.2f}, p50 {q['p50_ms'] / b['p50_ms']:.2f}, "
        f"p99 {q['p99_ms'] / b['p99_ms']:.2f}"
    )


if __name__ == "__main__":
    main()
