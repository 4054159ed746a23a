"""HTTP listeners from ``http-server`` and ``http-secure-server``: parse, bind, serve.

An entry is a port (every interface), ``host:port`` (``[::1]:port`` for IPv6) or a Unix socket
path (anything with a ``/``). A TLS entry may end in ``{cert=..;key=..;password=..}``; otherwise
``http-secure-certificate``, ``http-secure-private-key`` and
``http-secure-private-key-password`` apply. Sockets are bound by us at start-up step 7, so a
port in use is one clear error; each listener then runs as its own uvicorn server on the one
event loop, with uvicorn's own signal handling off (the server handles signals), a deadline for
request headers and a cap on open connections (:mod:`~qorus_server.http.connguard`), and
secrets masked in the access log (:mod:`~qorus_server.http.accesslog`).
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from qorus_core.model.errors import OptionError, QorusError
from qorus_core.omqdir import OmqDir
from qorus_core.options import Options, expand_omq
from qorus_core.options.values import split_top
from qorus_core.secrets import mask_text
from qorus_server.http import accesslog
from qorus_server.http.connguard import guarded_protocol


class ListenerError(QorusError):
    code = "LISTENER-ERROR"


@dataclass
class Listener:
    spec: str
    secure: bool
    host: str | None = None
    port: int | None = None
    path: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    password: str | None = field(default=None, repr=False)
    sock: socket.socket | None = None
    header_timeout: float = 10.0
    max_connections: int = 1000

    @property
    def shown(self) -> str:
        """The option entry as shown in answers, logs and errors (key password masked)."""
        return mask_text(self.spec)

    @property
    def family(self) -> str:
        return "unix" if self.path is not None else ("ipv6" if ":" in (self.host or "") else "ipv4")

    @property
    def address(self) -> str:
        if self.path is not None:
            return str(self.path)
        host = self.host or "0.0.0.0"
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        scheme = "https" if self.secure else "http"
        if self.path is not None:
            return f"unix:{self.path}"
        host = self.host if self.host not in (None, "0.0.0.0", "::") else socket.gethostname()
        assert host is not None
        host = f"[{host}]" if ":" in host else host
        return f"{scheme}://{host}:{self.port}"

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.shown,
            "address": self.address,
            "family": self.family,
            "host": self.host,
            "port": self.port,
            "path": str(self.path) if self.path else None,
            "ssl": self.secure,
            "url": self.url,
        }


def _parse_params(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in split_top(text, ";"):
        if not item.strip():
            continue
        k, eq, v = item.partition("=")
        if not eq:
            raise OptionError(mask_text(f"bad listener parameter {item!r} (expected name=value)"))
        out[k.strip().lower()] = v.strip()
    return out


def parse_listener(spec: str, secure: bool, omq: OmqDir, options: Options) -> Listener:
    """One listener from one option entry; OptionError when it cannot be understood."""
    text = spec.strip()
    shown = mask_text(text)
    params: dict[str, str] = {}
    if text.endswith("}") and "{" in text:
        text, _, rest = text.partition("{")
        params = _parse_params(rest[:-1])
        text = text.strip()
        if not secure:
            raise OptionError(
                f"HTTP listener {shown!r}: {{cert=..;key=..}} parameters belong in "
                "http-secure-server"
            )
    lst = Listener(
        spec=spec.strip(),
        secure=secure,
        header_timeout=float(options.get("http-header-timeout")),
        max_connections=int(options.get("http-max-connections")),
    )
    if "/" in text:
        lst.path = expand_omq(text, omq)
    else:
        host, port_text = None, text
        if text.startswith("["):
            host, _, port_text = text[1:].partition("]:")
        elif ":" in text:
            host, _, port_text = text.rpartition(":")
        try:
            port = int(port_text)
        except ValueError:
            raise OptionError(f"bad HTTP listener {shown!r}: no port number") from None
        if not 0 <= port <= 65535:
            raise OptionError(f"bad HTTP listener {shown!r}: port out of range")
        lst.host, lst.port = host or None, port
    if secure:
        cert = params.get("cert") or options.get("http-secure-certificate")
        key = params.get("key") or options.get("http-secure-private-key")
        lst.password = params.get("password") or options.get("http-secure-private-key-password")
        if not cert:
            raise OptionError(
                f"TLS listener {shown!r} has no certificate: set http-secure-certificate "
                "or add {cert=FILE}"
            )
        lst.cert = expand_omq(str(cert), omq)
        lst.key = expand_omq(str(key), omq) if key else None
    return lst


def parse_all(omq: OmqDir, options: Options) -> list[Listener]:
    out = [parse_listener(str(s), False, omq, options) for s in options.get("http-server")]
    out += [parse_listener(str(s), True, omq, options) for s in options.get("http-secure-server")]
    if not out:
        raise OptionError("no HTTP listener: set http-server or http-secure-server")
    return out


def bind(lst: Listener) -> socket.socket:
    """Bind and listen; ListenerError with the address and the reason on failure."""
    try:
        if lst.path is not None:
            if lst.path.exists() and stat.S_ISSOCK(lst.path.stat().st_mode):
                lst.path.unlink()  # a stale socket of an earlier run
            lst.path.parent.mkdir(parents=True, exist_ok=True)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(str(lst.path))
            os.chmod(lst.path, 0o660)
        else:
            host = lst.host or "0.0.0.0"
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            # IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say they are TCP;
            # without it a keep-alive answer waits ~40 ms for the client's delayed ACK
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.bind((host, lst.port or 0))
            if not lst.port:
                lst.port = int(sock.getsockname()[1])
        sock.listen(2048)
        sock.set_inheritable(False)
    except OSError as exc:
        raise ListenerError(f"cannot listen on {lst.address}: {exc.strerror or exc}") from None
    lst.sock = sock
    return sock


class UvicornServer(uvicorn.Server):
    """A uvicorn server that leaves signals to the Qorus server (several run on one loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def make_server(app: Any, lst: Listener) -> UvicornServer:
    """The uvicorn server of one listener; TLS material is loaded here (ListenerError)."""
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_config=None,
        access_log=True,
        proxy_headers=False,
        server_header=False,
        http=guarded_protocol(lst.header_timeout, lst.max_connections),
        loop="asyncio",
        ssl_certfile=str(lst.cert) if lst.cert else None,
        ssl_keyfile=str(lst.key) if lst.key else (str(lst.cert) if lst.cert else None),
        ssl_keyfile_password=lst.password,
    )
    accesslog.install()
    try:
        config.load()
    except Exception as exc:  # ssl.SSLError, OSError: a bad certificate or key
        raise ListenerError(
            mask_text(f"TLS listener {lst.shown!r}: cannot load certificate: {exc}")
        ) from None
    return UvicornServer(config)
