#!/usr/bin/env python3
"""No-op calls per second over REST (``GET /api/latest/system/ping``), JSON-RPC and XML-RPC
(``omq.system.ping``) against one real ``qorus`` in the same run, loopback only, with each
protocol's ratio to the REST rate.

The server runs as its own process (SQLite, RBAC off); this process drives the load with a
thread pool of httpx clients (keep-alive), bounded by a request count and a time limit per
protocol. A service method call over JSON-RPC (``omq.system.service.info.getSystemInfo``, the
shipped ``info`` system service, through the operation ``services.call``) is measured too when
the server has a service manager; otherwise the table says so.

    PYTHONPATH=. python bench/rpc_bench.py [--requests 3000] [--concurrency 8] [--seconds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import xmlrpc.client
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_bench import free_port, wait_ready

from qorus_core.db import schema
from qorus_core.db.engine import create_system_engine, sqlite_url

ROOT = Path(__file__).resolve().parents[1]

Call = Callable[[httpx.Client], None]


def rest_ping(c: httpx.Client) -> None:
    r = c.get("/api/latest/system/ping")
    if r.status_code != 200 or r.json() != "OK":
        raise SystemExit(f"REST: HTTP {r.status_code} {r.text[:200]}")


JSON_BODY = json.dumps({"jsonrpc": "2.0", "method": "omq.system.ping", "id": 1}).encode()


def json_ping(c: httpx.Client) -> None:
    r = c.post("/JSON", content=JSON_BODY, headers={"content-type": "application/json"})
    if r.status_code != 200 or r.json().get("result") != "OK":
        raise SystemExit(f"JSON-RPC: HTTP {r.status_code} {r.text[:200]}")


SERVICE_BODY = json.dumps(
    {"jsonrpc": "2.0", "method": "omq.system.service.info.getSystemInfo", "id": 1}
).encode()


def json_service(c: httpx.Client) -> None:
    r = c.post("/JSON", content=SERVICE_BODY, headers={"content-type": "application/json"})
    result = r.json().get("result") if r.status_code == 200 else None
    if not isinstance(result, dict) or "instance-key" not in result:
        raise SystemExit(f"JSON-RPC service call: HTTP {r.status_code} {r.text[:200]}")


XML_BODY = xmlrpc.client.dumps((), "omq.system.ping").encode()


def xml_ping(c: httpx.Client) -> None:
    r = c.post("/RPC2", content=XML_BODY, headers={"content-type": "text/xml"})
    if r.status_code != 200 or xmlrpc.client.loads(r.content)[0][0] != "OK":
        raise SystemExit(f"XML-RPC: HTTP {r.status_code} {r.text[:200]}")


def load(
    url: str, call: Call, requests: int, concurrency: int, seconds: float, warmup: bool = True
) -> dict[str, float]:
    per_worker = max(1, requests // concurrency)
    deadline = time.monotonic() + seconds

    def worker(_: int) -> list[float]:
        out: list[float] = []
        with httpx.Client(base_url=url, timeout=10) as c:
            for _i in range(per_worker):
                if time.monotonic() > deadline:
                    break
                t0 = time.perf_counter()
                call(c)
                out.append(time.perf_counter() - t0)
        return out

    threads = min(concurrency, 64)
    with ThreadPoolExecutor(threads) as pool:
        if warmup:
            list(pool.map(worker, range(min(threads, 4))))  # warm-up: connections, caches
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


def has_service_manager(url: str) -> bool:
    with httpx.Client(base_url=url, timeout=10) as c:
        body = {"jsonrpc": "2.0", "method": "system.listMethods", "id": 1}
        names = c.post("/JSON", json=body).json().get("result", [])
    return any(n.startswith("omq.user.service.") for n in names)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=30.0, help="time limit per protocol")
    a = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        omq = Path(tmp) / "omq"
        for sub in ("etc", "var"):
            (omq / sub).mkdir(parents=True)
        engine = create_system_engine(sqlite_url(omq / "var" / "qorus.sqlite"))
        schema.align(engine)
        engine.dispose()
        port = free_port()
        listener = f"http-server=127.0.0.1:{port}"
        qorus = subprocess.Popen(
            [sys.executable, "-m", "qorus_cli.qorus", "-d", str(omq), "-f", listener],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_ready(url, qorus)
            results = {
                name: load(url, call, a.requests, a.concurrency, a.seconds)
                for name, call in (
                    ("REST", rest_ping),
                    ("JSON-RPC", json_ping),
                    ("XML-RPC", xml_ping),
                )
            }
            services = has_service_manager(url)
            if services:
                results["JSON-svc"] = load(url, json_service, a.requests, a.concurrency, a.seconds)
        finally:
            qorus.terminate()
            qorus.wait(30)
    print(
        f"no-op calls (system ping): {a.requests} requests, {a.concurrency} clients, "
        "loopback, uvicorn h11, SQLite, RBAC off"
    )
    print(
        f"{'protocol':<12}{'requests':>10}{'calls/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'/REST':>8}"
    )
    rest = results["REST"]["rps"]
    for name, r in results.items():
        print(
            f"{name:<12}{r['requests']:>10.0f}{r['rps']:>10.0f}{r['p50_ms']:>10.2f}"
            f"{r['p99_ms']:>10.2f}{r['rps'] / rest:>8.2f}"
        )
    if services:
        print("JSON-svc: a service method over JSON-RPC (omq.system.service.info.getSystemInfo)")
    else:
        print(
            "service method (omq.user.service...): not measured, this server has no service "
            "manager (operation services.call)"
        )


if __name__ == "__main__":
    main()
