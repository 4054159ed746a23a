"""Real ``qorus`` processes in fresh ``$OMQ_DIR``s on free loopback ports, and the REST calls
the tests make to them (each asserts the expected HTTP status)."""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    for k in ("QORUS_URL", "QORUS_USER", "QORUS_PASS", "QORUS_TOKEN", "OMQ_DIR"):
        e.pop(k, None)
    e["NETRC"] = os.devnull
    return e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tool(
    name: str, *args: str, timeout: float = 60, **kw: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"qorus_cli.{name}", *args],
        env=kw.pop("env", None) or env(),  # type: ignore[arg-type]
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class Qorus:
    """One ``qorus -f`` process."""

    def __init__(self, omq: Path, port: int, overrides: Sequence[str] = ()) -> None:
        self.omq = omq
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        args = list(overrides)
        if not any(a.startswith("http-server=") for a in args):
            args.insert(0, f"http-server=127.0.0.1:{port}")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "qorus_cli.qorus", "-d", str(omq), "-f", *args],
            env=env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_ready(self, timeout: float = 30.0, url: str | None = None, **client: object) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise AssertionError(f"qorus exited {self.proc.returncode}: {err}{out}")
            try:
                r = httpx.get(f"{url or self.url}/api/latest/system/ping", timeout=2, **client)  # type: ignore[arg-type]
                if r.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("qorus did not answer in time")

    def wait_exit(self, timeout: float = 30.0) -> tuple[int, str]:
        _out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, err

    def terminate(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGTERM)
        return self.wait_exit()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        if self.proc.stdout is not None and not self.proc.stdout.closed:
            self.proc.communicate()


def run_qorus(omq: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``qorus -f`` expected to exit during start-up."""
    return tool("qorus", "-d", str(omq), "-f", *args, timeout=timeout)


# ---------------------------------------------------------------------- a server of a test module


def new_omq(
    base: Path,
    db_factory: Any,
    data: Path | None = None,
    subs: Sequence[str] = ("etc", "log", "user", "var"),
) -> Path:
    """A fresh ``$OMQ_DIR`` at ``base/omq`` (with the folders ``subs``) on a fresh database of
    ``db_factory``; with ``data``, those definitions copied to ``base/data`` and loaded."""
    omq = base / "omq"
    for sub in subs:
        (omq / sub).mkdir(parents=True)
    url = db_factory.fresh().render_as_string(hide_password=False)
    (omq / "etc" / "options").write_text(f"qorus.systemdb = {url}\n")
    if data is not None:
        shutil.copytree(data, base / "data")
        res = tool("oload", "--qorus-dir", str(omq), str(base / "data"))
        assert res.returncode == 0, res.stderr + res.stdout
    return omq


def user_tool(omq: Path, *args: str) -> None:
    """``user_tool`` on ``omq`` (one transaction), which must succeed."""
    res = tool("user_tool", "--qorus-dir", str(omq), *args)
    assert res.returncode == 0, res.stderr


@contextmanager
def running(omq: Path, *overrides: str, **ready: Any) -> Iterator[Qorus]:
    """A server on ``omq`` on a free port, ready (``ready``: the arguments of
    :meth:`Qorus.wait_ready`, e.g. ``auth``), killed at the end."""
    q = Qorus(omq, free_port(), overrides)
    try:
        q.wait_ready(**ready)
        yield q
    finally:
        q.kill()


def basic_auth(user: str, password: str) -> dict[str, str]:
    """The HTTP Basic ``Authorization`` header of ``user``."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# ---------------------------------------------------------------------- REST calls


def api(server: Qorus, path: str) -> str:
    return f"{server.url}/api/latest/{path}"


def get(server: Qorus, path: str, **params: Any) -> Any:
    r = httpx.get(api(server, path), params=params, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def put(server: Qorus, path: str, **body: Any) -> Any:
    r = httpx.put(api(server, path), json=body, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def create(server: Qorus, wf: str, **body: Any) -> int:
    r = httpx.post(api(server, f"workflows/{wf}?action=createOrder"), json=body, timeout=30)
    assert r.status_code == 201, r.text
    return int(r.json()["workflow_instanceid"])


def wait_status(server: Qorus, wfiid: int, want: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        info: dict[str, Any] = get(server, f"orders/{wfiid}")
        if info["workflowstatus"] == want:
            return info
        if time.monotonic() > deadline:
            raise AssertionError(f"order {wfiid} is {info['workflowstatus']}, not {want}")
        time.sleep(0.1)
