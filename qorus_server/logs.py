"""Log files named by the ``*logfile-template`` options, and their rotation.

Contract: :class:`Logs` is ``server.logs``. ``logs.system`` is the system log
(``OMQ-$instance-qorus-core.log`` by ``logfile-template``), ``logs.http`` the HTTP access
log (``$name`` = ``HTTP``); ``logs.get_logger("WF"|"SVC"|"JOB", name)`` opens (once) the log of
one workflow, service or job by ``wf-``/``svc-``/``job-logfile-template``; ``logs.rotate()``
renames every open log ``X`` to ``X.1`` (``X.1`` to ``X.2``, ...), keeps ``max-log-files`` old
files and reopens ``X``. Loggers are plain :mod:`logging` loggers that do not propagate.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import threading
from pathlib import Path
from string import Template

from qorus_core.model.errors import QorusError
from qorus_core.omqdir import SHARED_DIR_MODE, OmqDir, make_private_dir
from qorus_core.options import Options
from qorus_core.secrets import mask_text

SYSTEM_NAME = "qorus-core"
HTTP_NAME = "HTTP"
KINDS = {"WF": "wf-logfile-template", "SVC": "svc-logfile-template", "JOB": "job-logfile-template"}
FORMAT = "%(asctime)s.%(msecs)03d T%(thread)d [%(levelname)s]: %(message)s"
DATEFMT = "%Y-%m-%d %H:%M:%S"


class LogFileError(QorusError):
    """A log file or the log directory cannot be written (start-up exit code 4)."""

    code = "LOG-FILE-ERROR"


LOG_FILE_MODE = 0o640
"""Mode of new log files: the owner writes, the owner's group may read."""


class MaskingFormatter(logging.Formatter):
    """Every log line, traceback included, passes the one secret masker before it is written."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files are created 0640 (also after each rotation)."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, LOG_FILE_MODE)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)  # always appends


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.:" else "_" for c in name)


class Logs:
    """Every log file of this instance."""

    def __init__(self, omq: OmqDir, options: Options, level: int = logging.INFO) -> None:
        self.omq = omq
        self.options = options
        self.level = level
        self.dir = options.logdir(omq)
        self.instance = str(options.get("instance-key"))
        self._handlers: dict[str, logging.handlers.RotatingFileHandler] = {}
        self._lock = threading.Lock()
        try:
            make_private_dir(self.dir, SHARED_DIR_MODE)
        except OSError as exc:
            raise LogFileError(f"cannot create log directory {self.dir}: {exc.strerror}") from None
        self.system = self._open("qorus.system", self.path("logfile-template", SYSTEM_NAME))
        self.http = self._open("qorus.http", self.path("logfile-template", HTTP_NAME))

    def path(self, template_option: str, name: str) -> Path:
        template = Template(str(self.options.get(template_option)))
        return self.dir / template.safe_substitute(instance=self.instance, name=_safe(name))

    @property
    def system_path(self) -> Path:
        return Path(self._handlers["qorus.system"].baseFilename)

    def _open(self, logger_name: str, path: Path) -> logging.Logger:
        with self._lock:
            logger = logging.getLogger(logger_name)
            if logger_name not in self._handlers:
                try:
                    handler = PrivateRotatingFileHandler(
                        path, backupCount=int(self.options.get("max-log-files")), encoding="utf-8"
                    )
                except OSError as exc:
                    raise LogFileError(f"cannot open log file {path}: {exc.strerror}") from None
                handler.setFormatter(MaskingFormatter(FORMAT, DATEFMT))
                logger.addHandler(handler)
                logger.setLevel(self.level)
                logger.propagate = False
                self._handlers[logger_name] = handler
            return logger

    def get_logger(self, kind: str, name: str) -> logging.Logger:
        """The logger of one interface: kind ``WF``, ``SVC`` or ``JOB``, name of the interface."""
        option = KINDS.get(kind.upper())
        if option is None:
            raise ValueError(f"unknown log kind {kind!r} (WF, SVC or JOB)")
        return self._open(f"qorus.{kind.upper()}.{name}", self.path(option, name))

    def files(self) -> list[Path]:
        with self._lock:
            return [Path(h.baseFilename) for h in self._handlers.values()]

    def rotate(self) -> list[str]:
        """Rotate every open log, keeping ``max-log-files`` old files; returns the log paths."""
        keep = int(self.options.get("max-log-files"))
        out = []
        with self._lock:
            for handler in self._handlers.values():
                handler.backupCount = keep
                handler.acquire()
                try:
                    if keep > 0:
                        handler.doRollover()
                    else:  # nothing kept: start the file afresh
                        handler.close()
                        Path(handler.baseFilename).write_bytes(b"")
                        handler.stream = handler._open()
                finally:
                    handler.release()
                out.append(handler.baseFilename)
        return out

    def close(self) -> None:
        with self._lock:
            for name, handler in self._handlers.items():
                logging.getLogger(name).removeHandler(handler)
                handler.close()
            self._handlers.clear()
