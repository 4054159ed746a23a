"""Daemon mode: detach from the terminal and report the start-up result to the parent.

The parent process waits on a pipe until the detached server says whether start-up worked,
then exits with the server's start-up exit code; so ``qorus`` in daemon mode still answers
3, 5, 7, ... when start-up fails.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


class Reporter:
    """The detached server's end of the pipe: one report, then closed."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def report(self, code: int, message: str) -> None:
        if self.fd < 0:
            return
        try:
            os.write(self.fd, f"{code}\n{message}".encode())
        finally:
            os.close(self.fd)
            self.fd = -1


def _parent_wait(fd: int) -> int:
    chunks = []
    while True:
        data = os.read(fd, 65536)
        if not data:
            break
        chunks.append(data)
    os.close(fd)
    text = b"".join(chunks).decode("utf-8", "replace")
    if not text:
        print("qorus: the server died during start-up; see its log file", file=sys.stderr)
        return 99
    code_text, _, message = text.partition("\n")
    if message:
        print(f"qorus: {message}", file=sys.stderr, flush=True)
    return int(code_text)


_parent_code: int | None = None


def detach(log_path: Path) -> Reporter | None:
    """Double-fork. In the original process: wait for the report and return None (the exit
    code is in :func:`parent_code`). In the detached server: return its :class:`Reporter`."""
    global _parent_code
    sys.stdout.flush()
    sys.stderr.flush()
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid > 0:
        os.close(wfd)
        os.waitpid(pid, 0)
        _parent_code = _parent_wait(rfd)
        return None
    os.close(rfd)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    os.umask(0o027)  # nothing the server writes is world-readable
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    out = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    return Reporter(wfd)


def parent_code() -> int:
    return 99 if _parent_code is None else _parent_code
