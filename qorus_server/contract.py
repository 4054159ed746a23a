"""What a component or an operation may use of the running server: one typed ``Protocol``.

Operations get the server as ``ctx.server`` and components as the argument of ``start``.
Both see it only through :class:`ServerContract`, so ``mypy --strict`` checks every use, and
nothing is optional by accident: :class:`~qorus_server.server.QorusServer` implements all of
it, and so does the test server (``tests/helpers/engine.py``). A member a component needs is
added here first, then to both implementations.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from qorus_core.crypto import SensitiveCipher
    from qorus_core.db.pools import SystemPools
    from qorus_core.omqdir import OmqDir
    from qorus_core.options import Options
    from qorus_server.api.registry import CallContext, Operation, Registry
    from qorus_server.audit import Auditor
    from qorus_server.engine.manager import WorkflowManager
    from qorus_server.events import EventBus
    from qorus_server.http.listeners import Listener
    from qorus_server.http.routes import RestRouter
    from qorus_server.logins import LoginGate
    from qorus_server.logs import Logs
    from qorus_server.services.manager import ServiceManager


@runtime_checkable
class Component(Protocol):
    """A part of the server started at start-up step 6 and stopped at shutdown step 3."""

    name: str

    def start(self, server: ServerContract) -> None: ...

    def stop(self) -> None: ...


@runtime_checkable
class ServerContract(Protocol):
    """The services of the running server (identity, options, pools, events, audit, RBAC
    logins, sessions, the registry and the started components)."""

    # identity
    omq: OmqDir
    options: Options
    version: str
    instance_key: str
    node: str
    hostname: str
    pid: int
    started: datetime
    # the database
    engine: Engine
    pools: SystemPools | None
    schema_id: str | None
    sessionid: int | None
    sensitive: SensitiveCipher | None
    # events, audit, logs
    events: EventBus
    auditor: Auditor
    logs: Logs
    log: logging.Logger
    # RBAC logins, the API, components, listeners
    logins: LoginGate
    registry: Registry
    router: RestRouter
    listeners: list[Listener]

    @property
    def components(self) -> list[Component]:
        """The started components in start order."""
        ...

    def component_health(self) -> dict[str, object]:
        """Each running component's health by its name (``system/health``)."""
        ...

    @property
    def stopping(self) -> bool: ...

    @property
    def workflows(self) -> WorkflowManager: ...

    @property
    def services(self) -> ServiceManager: ...

    @property
    def system_log_path(self) -> Path | None: ...

    def request_shutdown(self, reason: str = ...) -> None: ...

    def wait_shutdown(self, timeout: float | None = ...) -> bool: ...

    def audit_api_call(
        self,
        op: Operation,
        ctx: CallContext,
        args: Mapping[str, object],
        result: object,
        conn: Connection | None = ...,
    ) -> None: ...
