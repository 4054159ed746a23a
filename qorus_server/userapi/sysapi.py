"""What ``UserApi`` reaches of the running server: its own REST API in-process
(``callRestApi``), synchronous orders (``execSynchronousWorkflow``) and the system info.

REST paths are resolved by the server's router exactly as the HTTP layer resolves them
(:mod:`qorus_server.http.dispatch`), then run through the ONE registry as the system: no
login and no RBAC (the caller is interface code already running in the server).
"""

from __future__ import annotations

import platform
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from qorus_core.db.engine import mask
from qorus_core.model.errors import QorusError, ValidationError

from . import context

if TYPE_CHECKING:
    from qorus_server.contract import ServerContract

EDITION = "Community"


def _server() -> ServerContract:
    server = context.runtime().server
    if server is None:
        raise QorusError(
            "the REST API is not available here (no running server)", code="SYSTEM-ERROR"
        )
    return server


def call_rest_api(method: str, path: str, args: Mapping[str, Any] | None = None) -> Any:
    """Call ``METHOD path`` of the server's REST API in-process; the operation's result.

    ``path`` is ``system/ping``, ``/api/latest/...`` or ``/api/vN/...``, with an optional
    ``?action=X&arg=value`` query; ``args`` are the body arguments. Errors raise the
    operation's QorusError (a path that names nothing: its 404/405/501 RestRouteError)."""
    from qorus_server.api.registry import CallContext
    from qorus_server.http.dispatch import resolve_call, split_internal_path

    verb = str(method).strip().upper()
    if verb not in ("GET", "PUT", "POST", "DELETE"):
        raise ValidationError(f"callRestApi: unknown HTTP method {method!r}")
    if args is not None and not isinstance(args, Mapping):
        raise ValidationError(
            f"callRestApi: the arguments must be a hash, got {type(args).__name__}"
        )
    server = _server()
    segs, call_args = split_internal_path(str(path))
    action = call_args.pop("action", None)
    call_args.update(dict(args or {}))
    op, call_args = resolve_call(server.router, verb, segs, call_args, action)
    ctx = CallContext(
        server=server,
        user=None,
        args=call_args,
        transport="internal",
        source="UserApi",
        request=f"REST {verb} {path}"[:400],
    )
    return server.registry.call(op, ctx, call_args)


def call_service(name: str, method: str, args: tuple[Any, ...]) -> Any:
    """Call a method of a service in-process as the system (no RBAC); the service is loaded
    first when it is not loaded. Errors raise the method's error (409) or the manager's."""
    if not isinstance(name, str) or not isinstance(method, str):
        raise ValidationError("callService(name, method, *args): name and method are strings")
    return _server().services.call_from_code(name, method, list(args))


def exec_synchronous(
    name: str | int, version: str | None, fields: Mapping[str, Any]
) -> dict[str, object]:
    rt = context.runtime()
    if rt.exec_sync is None:
        raise QorusError(
            "synchronous execution needs the running workflow engine", code="SYSTEM-ERROR"
        )
    return rt.exec_sync(name, version, fields)


def system_info() -> dict[str, object]:
    """The real ``getSystemInfo`` keys this implementation has (``python-version`` stands in
    for ``qore-version``); without a server, what the runtime knows."""
    rt = context.runtime()
    info: dict[str, object] = {
        "instance-key": rt.options.get("instance-key"),
        "session-id": rt.sessionid,
        "node": rt.options.get("node"),
        "omq_dir": str(rt.omq.root) if rt.omq else None,
    }
    server = rt.server
    if server is not None and "system.info" in server.registry:
        from qorus_server.api.registry import CallContext

        info.update(server.registry.call("system.info", CallContext(server=server), {}))
    version = str(info.get("omq-version") or "")
    info["omq-version-code"] = _version_code(version)
    info["python-version"] = platform.python_version()
    url = rt.engine.url
    info["omq-schema"] = mask(url)
    info["omq-driver"] = url.get_backend_name()
    info["threads"] = threading.active_count()
    info["edition"] = EDITION
    return info


def _version_code(version: str) -> int | None:
    parts = version.split(".")
    try:
        major, minor, patch = (int("".join(c for c in p if c.isdigit()) or 0) for p in parts[:3])
    except ValueError:
        return None
    if len(parts) < 3:
        return None
    return major * 10000 + minor * 100 + patch
