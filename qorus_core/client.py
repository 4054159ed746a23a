"""THE REST client of every online tool (``qrest``, ``ostart``, ``ostop``, ``oload -R``,
``user-tool -s``).

Where things come from, first match wins:

* URL: the ``url`` argument, ``QORUS_URL``, option ``qorus-client.client-url``. ``unix:/path``
  talks HTTP over a Unix socket.
* Authentication: ``user:pass`` (the ``user`` argument), ``QORUS_USER`` / ``QORUS_PASS``, the
  ``~/.netrc`` entry of the host, or a token (``token`` argument or ``QORUS_TOKEN``; sent as
  the ``Qorus-Token`` header).
* Proxy: ``proxy`` argument, option ``qorus-client.proxy-url``.

:meth:`QorusClient.request` returns the decoded answer; a REST error raises
:class:`QorusRestError` (``err``, ``desc``, ``status``), a connection failure
:class:`ServerUnreachable`. A path without a leading ``/`` gets the ``/api/latest/`` prefix.
"""

from __future__ import annotations

import json
import netrc
import os
import ssl
import xmlrpc.client
from collections.abc import Mapping
from typing import Any

import httpx
import yaml

from qorus_core.bounded import DEFAULT_LIMITS, load_yaml
from qorus_core.model.errors import QorusError
from qorus_core.omqdir import OmqDir
from qorus_core.options import Options
from qorus_core.secrets import mask_text

API_PREFIX = "/api/latest/"


class QorusRestError(QorusError):
    """The server answered a REST error: ``err`` (the Qorus error code), ``desc``, ``status``."""

    def __init__(self, status: int, err: str, desc: str, info: Any = None) -> None:
        super().__init__(desc, code=err, info=info)
        self.status = status
        self.http_status = status

    @property
    def err(self) -> str:
        return self.code


class ServerUnreachable(QorusError):
    """No answer: the server is down, the URL is wrong, or the connection broke."""

    code = "SERVER-UNREACHABLE"


def api_path(path: str) -> str:
    """``system/ping`` -> ``/api/latest/system/ping``; ``/api/...`` and ``/...`` stay as given."""
    if path.startswith("/"):
        return path
    if path.startswith("api/"):
        return "/" + path
    return API_PREFIX + path


class QorusClient:
    def __init__(
        self,
        url: str | None = None,
        *,
        user: str | None = None,
        token: str | None = None,
        proxy: str | None = None,
        headers: Mapping[str, str] | None = None,
        verify: bool | str | ssl.SSLContext = True,
        timeout: float = 120.0,
        connect_timeout: float = 30.0,
        options: Options | None = None,
    ) -> None:
        opts = options or Options()
        self.url = (
            url or os.environ.get("QORUS_URL") or str(opts.get("qorus-client.client-url"))
        ).rstrip("/")
        proxy = proxy or opts.get("qorus-client.proxy-url") or None
        auth: httpx.Auth | tuple[str, str] | None = None
        hdrs = {"Accept": "application/json"}
        self._credentials: tuple[str, str] | None = None
        if user:
            name, _, password = user.partition(":")
            auth = self._credentials = (name, password)
        elif os.environ.get("QORUS_USER"):
            auth = (os.environ["QORUS_USER"], os.environ.get("QORUS_PASS", ""))
            self._credentials = auth
        else:
            token = token or os.environ.get("QORUS_TOKEN")
            if token:
                hdrs["Qorus-Token"] = token
            elif _netrc_present():
                auth = httpx.NetRCAuth(_netrc_path())
        hdrs.update(headers or {})
        if isinstance(verify, str):  # a CA bundle file
            verify = ssl.create_default_context(cafile=verify)
        base = self.url
        transport: httpx.HTTPTransport | None = None
        if base.startswith("unix:"):
            transport = httpx.HTTPTransport(uds=base[5:])
            base = "http://localhost"
        self.http = httpx.Client(
            base_url=base,
            auth=auth,
            headers=hdrs,
            proxy=None if transport else proxy,
            transport=transport,
            verify=verify,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            trust_env=False,
        )

    @property
    def shown_url(self) -> str:
        """The server URL as shown in messages (a password in it masked)."""
        return mask_text(self.url)

    @classmethod
    def from_env(
        cls, omq: OmqDir | None = None, options: Options | None = None, **kw: Any
    ) -> QorusClient:
        """A client whose defaults come from ``$OMQ_DIR/etc/options`` when it can be read."""
        if options is None and omq is not None:
            from qorus_core.options import load_options

            try:
                options = load_options(omq)
            except QorusError:
                options = None
        opts = options
        if opts is not None:
            kw.setdefault("timeout", float(opts.get("qorus-client.timeout")))
            kw.setdefault("connect_timeout", float(opts.get("qorus-client.connect-timeout")))
        return cls(options=opts, **kw)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> QorusClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        args: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """Call the REST API. GET sends ``args`` as the query; other methods as a JSON body
        (``body`` replaces them when given)."""
        method = method.upper()
        params: dict[str, Any] | None = None
        content: bytes | None = None
        headers = {}
        if method == "GET" and args:
            params = {k: _query_value(v) for k, v in args.items()}
        elif body is not None or args:
            content = json.dumps(
                body if body is not None else dict(args or {}), default=str
            ).encode()
            headers["Content-Type"] = "application/json"
        try:
            resp = self.http.request(
                method, api_path(path), params=params, content=content, headers=headers
            )
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise ServerUnreachable(
                mask_text(f"cannot reach the server at {self.url}: {reason}")
            ) from None
        return self._decode(resp)

    @staticmethod
    def _decode(resp: httpx.Response) -> Any:
        data: Any = None
        if resp.content:
            data = _parse_answer(resp.headers.get("content-type", ""), resp.text)
        if resp.status_code >= 400:
            if isinstance(data, dict) and "err" in data:
                raise QorusRestError(
                    resp.status_code, str(data["err"]), str(data.get("desc", "")), data.get("info")
                )
            text = data if isinstance(data, str) else json.dumps(data)
            raise QorusRestError(resp.status_code, f"HTTP-{resp.status_code}", text.strip())
        return data

    @property
    def has_token(self) -> bool:
        """True when requests carry a ``Qorus-Token`` header."""
        return "Qorus-Token" in self.http.headers

    def login_token(self) -> bool:
        """Trade this client's user name and password (``user`` argument, ``QORUS_USER`` or
        the ``~/.netrc`` entry of the host) for a login token (``POST public/login``) that
        later requests send instead; False when there is no password to trade. The token
        outlives a change of that password until the server reloads RBAC."""
        creds = self._credentials or _netrc_credentials(self.http.base_url.host)
        if creds is None:
            return False
        answer = self.post("public/login", user=creds[0], **{"pass": creds[1]})
        token = answer.get("token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise QorusRestError(200, "LOGIN-ERROR", "public/login answered no token")
        self.http.auth = httpx.Auth()  # the base class adds nothing: the token replaces it
        self.http.headers["Qorus-Token"] = token
        return True

    def get(self, path: str, **args: Any) -> Any:
        return self.request("GET", path, args)

    def put(self, path: str, **args: Any) -> Any:
        return self.request("PUT", path, args)

    def post(self, path: str, **args: Any) -> Any:
        return self.request("POST", path, args)

    def delete(self, path: str, **args: Any) -> Any:
        return self.request("DELETE", path, args)


def _parse_answer(content_type: str, text: str) -> Any:
    """The answer by its Content-Type (JSON, YAML or XML-RPC XML); text when it is none. A YAML
    answer is parsed within the limits of a request body (an alias bomb from a hostile server
    is a LimitError, not a hung client)."""
    mime = content_type.split(";", 1)[0].strip().lower()
    try:
        if "yaml" in mime:
            return load_yaml(text, DEFAULT_LIMITS)
        if mime in ("text/xml", "application/xml"):
            params, _ = xmlrpc.client.loads(text, use_builtin_types=True)
            return params[0] if params else None
        return json.loads(text)
    except (ValueError, yaml.YAMLError, xmlrpc.client.Error):
        return text


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


def _netrc_path() -> str:
    return os.environ.get("NETRC") or os.path.expanduser("~/.netrc")


def _netrc_present() -> bool:
    return os.path.isfile(_netrc_path())


def _netrc_credentials(host: str) -> tuple[str, str] | None:
    if not host or not _netrc_present():
        return None
    try:
        entry = netrc.netrc(_netrc_path()).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return None
    if entry is None or not entry[0]:
        return None
    return entry[0], entry[2] or ""
