"""The quick start: a working system with the demo integration, 100 orders, watched live.

Every step is idempotent, so running it again reuses what is there: the schema is aligned, the
demo release reloaded (unchanged objects are not touched), and a running server is reused.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import click
from rich.console import Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from qorus_cli.common import console, fail, guarded, load_env
from qorus_core.client import QorusClient, QorusRestError, ServerUnreachable
from qorus_core.db import schema
from qorus_core.db.engine import check_connection, mask
from qorus_core.loader import load
from qorus_core.model.status import OrderStatus
from qorus_core.omqdir import OmqDir
from qorus_core.options import Options
from qorus_core.system import open_system_engine

TOOL = "quickstart"
WORKFLOW = "ORDER-FULFILMENT"
FINAL = {s.api_name for s in (OrderStatus.COMPLETE, OrderStatus.ERROR, OrderStatus.CANCELED)}
_STYLES = {
    OrderStatus.COMPLETE.api_name: "green",
    OrderStatus.ERROR.api_name: "red",
    OrderStatus.RETRY.api_name: "yellow",
}
SKUS = [("SKU-1", 19.9), ("SKU-2", 4.5), ("SKU-3", 120.0), ("SKU-4", 7.25)]
#: the demo's service: ReserveStock reserves every order's lines with it
INVENTORY = "order-inventory"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-d", "--qorus-dir", envvar="OMQ_DIR", show_envvar=True, help="$OMQ_DIR to use.")
@click.option(
    "-n",
    "--orders",
    default=100,
    show_default=True,
    envvar="QORUS_QUICKSTART_ORDERS",
    show_envvar=True,
    help="How many demo orders to submit.",
)
@click.option(
    "-c",
    "--clients",
    default=8,
    show_default=True,
    type=click.IntRange(1, 64),
    envvar="QORUS_QUICKSTART_CLIENTS",
    show_envvar=True,
    help="How many orders are submitted at once (as that many REST clients would).",
)
@click.option(
    "--timeout",
    default=300.0,
    show_default=True,
    envvar="QORUS_QUICKSTART_TIMEOUT",
    show_envvar=True,
    help="Seconds to wait for the orders to finish.",
)
@guarded(TOOL, 2)
def main(qorus_dir: str | None, orders: int, clients: int, timeout: float) -> None:
    """Set up $OMQ_DIR, the schema and the demo release, start qorus, run demo orders."""
    omq, options = load_env(qorus_dir)
    omq.ensure()
    _prepare_schema(omq, options)
    client = QorusClient.from_env(omq, options=options)
    _ensure_server(omq, client)
    _ensure_running(client)
    start = time.monotonic()
    ids = _submit(client, orders, clients)
    counts = _watch(client, ids, start + timeout)
    elapsed = time.monotonic() - start
    _summary(client, ids, counts, elapsed)


def _prepare_schema(omq: OmqDir, options: Options) -> None:
    engine = open_system_engine(omq, options)
    check_connection(engine)
    made = schema.align(engine)
    console.print(
        f"[green]✓[/] system schema {'created' if made else 'current'} in {mask(engine.url)}"
    )
    release = _release_file()
    result = load(engine, [str(release)])
    changed = [o for o in result.outcomes if o.status != "unchanged"]
    console.print(
        f"[green]✓[/] demo release {release.parent}: {len(result.outcomes)} definitions"
        + (f", {len(changed)} new or updated" if changed else ", all current")
    )
    engine.dispose()


def _release_file() -> Path:
    path = Path(__file__).resolve().parents[1] / "releases" / "demo" / "demo.qrf"
    if not path.is_file():
        fail(TOOL, f"the demo release is missing: {path}", 2)
    return path


def _ensure_server(omq: OmqDir, client: QorusClient) -> None:
    try:
        client.get("system/ping")
        console.print(f"[green]✓[/] qorus is already running at {client.shown_url}")
        return
    except ServerUnreachable:
        pass
    except QorusRestError as exc:
        fail(TOOL, f"the server at {client.shown_url} answered {exc.err}: {exc.desc}", 2)
    console.print(f"starting qorus (OMQ_DIR={omq.root}) ...")
    res = subprocess.run(
        [sys.executable, "-m", "qorus_cli.qorus", "-d", str(omq.root)],
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode != 0:
        fail(TOOL, f"qorus did not start (exit {res.returncode}): {res.stderr.strip()}", 2)
    for _ in range(100):
        try:
            client.get("system/ping")
            console.print(f"[green]✓[/] qorus is running at {client.shown_url}")
            return
        except ServerUnreachable:
            time.sleep(0.1)
    fail(TOOL, f"qorus started but does not answer at {client.shown_url}", 2)


def _ensure_running(client: QorusClient) -> None:
    """The demo workflow autostarts; start an execution instance if none is running."""
    running = [e for e in client.get("exec") if e.get("name") == WORKFLOW]
    if not running:
        client.put(f"workflows/{WORKFLOW}", action="start")


def _order(run: str, i: int) -> dict[str, Any]:
    picked = [(sku, 1 + (i + k) % 3, price) for k, (sku, price) in enumerate(SKUS[: 1 + i % 4])]
    lines = [{"sku": sku, "qty": qty, "price": price} for sku, qty, price in picked]
    total = round(sum(qty * price for _, qty, price in picked), 2)
    return {
        "order_id": f"{run}-{i:04d}",
        "customer_id": f"C{i % 17:03d}",
        "lines": lines,
        "total": total,
    }


def _submit(client: QorusClient, count: int, clients: int) -> list[int]:
    run = uuid.uuid4().hex[:8]
    ids: list[int] = [0] * count

    def submit(i: int) -> None:
        order = _order(run, i)
        res = client.post(
            f"workflows/{WORKFLOW}",
            action="createOrder",
            staticdata=order,
            orderkeys={"order_id": order["order_id"], "customer_id": order["customer_id"]},
        )
        ids[i] = int(res["workflow_instanceid"])

    with (
        Progress(
            TextColumn("submitting orders"), BarColumn(), MofNCompleteColumn(), console=console
        ) as bar,
        ThreadPoolExecutor(max_workers=clients) as pool,
    ):
        task = bar.add_task("submit", total=count)
        for done in as_completed([pool.submit(submit, i) for i in range(count)]):
            done.result()  # a refused order stops the quickstart with its error
            bar.advance(task)
    console.print(f"[green]✓[/] {count} orders submitted by {clients} clients (run {run})")
    return ids


def _statuses(client: QorusClient, ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for i in range(0, len(ids), 100):
        chunk = ids[i : i + 100]
        rows = client.get("orders", ids=",".join(map(str, chunk)), limit=len(chunk))
        out.update({int(r["workflow_instanceid"]): str(r["workflowstatus"]) for r in rows})
    return out


def _view(counts: Counter[str], total: int, bar: Progress) -> Group:
    table = Table(title=f"{total} {WORKFLOW} orders", title_justify="left", min_width=36)
    table.add_column("status")
    table.add_column("orders", justify="right")
    for status, n in sorted(counts.items()):
        style = _STYLES.get(status, "")
        table.add_row(f"[{style}]{status}[/]" if style else status, str(n))
    return Group(bar, table)


def _watch(client: QorusClient, ids: list[int], deadline: float) -> Counter[str]:
    bar = Progress(
        TextColumn("orders final"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    )
    task = bar.add_task("done", total=len(ids))
    counts: Counter[str] = Counter()
    with Live(_view(counts, len(ids), bar), console=console, refresh_per_second=8) as live:
        while True:
            counts = Counter(_statuses(client, ids).values())
            done = sum(n for s, n in counts.items() if s in FINAL)
            bar.update(task, completed=done)
            live.update(_view(counts, len(ids), bar))
            if done >= len(ids) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    return counts


def _inventory(client: QorusClient) -> None:
    """The figures of the inventory service the orders reserved their stock with."""
    try:
        figures = client.put(f"services/{INVENTORY}/figures", action="call")
        info = client.get(f"services/{INVENTORY}")
    except QorusRestError as exc:
        console.print(f"[yellow]{INVENTORY}:[/] {exc.err}: {exc.desc}", highlight=False)
        return
    stock = ", ".join(f"{sku} {n}" for sku, n in sorted(figures["stock"].items()))
    stats = info.get("stats") or {}
    console.print(
        f"service {INVENTORY} ({info.get('status')}): {figures['reservations']} reservations, "
        f"{figures['restocks']} restocks; stock left: {stock}; "
        f"{stats.get('calls', 0)} method calls",
        highlight=False,
    )


def _summary(client: QorusClient, ids: list[int], counts: Counter[str], elapsed: float) -> None:
    complete = counts.get(OrderStatus.COMPLETE.api_name, 0)
    console.print()
    console.print(
        f"[bold]{complete} of {len(ids)} orders COMPLETE[/] in {elapsed:.1f} s "
        f"from the first submission ({len(ids) / max(elapsed, 0.001):.0f} orders/s end to end)"
    )
    if complete != len(ids):
        console.print(f"[yellow]not complete:[/] {dict(counts)}")
    _inventory(client)
    url = client.shown_url
    hints = [
        (f"qrest workflows/{WORKFLOW}", "the workflow and its order counts"),
        (f"qrest orders/{ids[0]}", "one order with its steps"),
        (f"qrest services/{INVENTORY}", "the inventory service, its state and call figures"),
        (f"qrest put services/{INVENTORY}/figures/call", "the stock left"),
        ("qrest orders statuses=ERROR", "orders in ERROR"),
        ("qrest exec", "running workflow execution instances"),
        ("qrest put system/shutdown", "stop the server"),
    ]
    width = max(len(cmd) for cmd, _ in hints) + 3
    console.print(
        "\nThe server keeps running. Try it with qrest"
        + ("" if url == "http://localhost:8001" else f" (add -u {url} or set QORUS_URL)")
        + ":",
        highlight=False,
    )
    for cmd, what in hints:
        console.print(f"  {cmd.ljust(width)}{what}", highlight=False)
    console.print(
        f"  qrest post workflows/{WORKFLOW}/createOrder \\\n"
        "      staticdata='{order_id: X1, customer_id: C1, "
        "lines: [{sku: SKU-1, qty: 1, price: 2.5}], total: 2.5}'",
        highlight=False,
        markup=False,
    )
    if complete != len(ids):
        sys.exit(1)


if __name__ == "__main__":
    main()
