"""The server's three connection pools on the system datasource: API, engine and heartbeat.

One shared pool let the workers of many execution instances take every connection, so that
API requests, logins and the session heartbeat timed out behind them. The budget
``system-pool-maximum`` is therefore split into separate SQLAlchemy engines on the same URL:
``api-pool-maximum`` connections for requests (a short ``api-pool-timeout`` wait, then 503),
:data:`HEARTBEAT_POOL` for the heartbeat and the stale-session watcher, and the rest for the
workflow engine, whose workers queue for a connection for up to ``dsp-error-timeout``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.engine import URL, Engine

from qorus_core.db.engine import create_system_engine
from qorus_core.model.errors import OptionError

#: connections of the heartbeat pool: one beat and one stale-session check at most
HEARTBEAT_POOL = 2
#: fewest connections the engine pool may be left with
MIN_ENGINE_POOL = 2


class _OptionsLike(Protocol):
    def get(self, name: str) -> Any: ...


@dataclass(frozen=True)
class PoolSizes:
    minimum: int
    api: int
    engine: int
    heartbeat: int
    api_timeout: float
    engine_timeout: float


def pool_sizes(options: _OptionsLike) -> PoolSizes:
    """Split ``system-pool-maximum``; OPTION-ERROR when the engine would be left too few."""
    total = int(options.get("system-pool-maximum"))
    api = int(options.get("api-pool-maximum")) or max(2, total // 4)
    engine = total - api - HEARTBEAT_POOL
    if engine < MIN_ENGINE_POOL:
        raise OptionError(
            f"system-pool-maximum ({total}) leaves the workflow engine {engine} connection(s) "
            f"after api-pool-maximum ({api}) and the heartbeat ({HEARTBEAT_POOL}); it needs "
            f"at least {MIN_ENGINE_POOL}: raise system-pool-maximum or lower api-pool-maximum"
        )
    return PoolSizes(
        minimum=int(options.get("system-pool-minimum")),
        api=api,
        engine=engine,
        heartbeat=HEARTBEAT_POOL,
        api_timeout=float(options.get("api-pool-timeout")),
        engine_timeout=int(options.get("dsp-error-timeout")) / 1000.0,
    )


@dataclass(frozen=True)
class SystemPools:
    """``api`` serves requests (it is ``server.engine``), ``engine`` the execution instances,
    ``heartbeat`` the session heartbeat; an in-memory SQLite database is one shared engine."""

    api: Engine
    engine: Engine
    heartbeat: Engine

    def dispose(self) -> None:
        for eng in {id(e): e for e in (self.api, self.engine, self.heartbeat)}.values():
            eng.dispose()


def open_pools(url: URL, sizes: PoolSizes) -> SystemPools:
    def make(size: int, timeout: float) -> Engine:
        # a connection opened under load stays open up to the pool's size: an overflow
        # connection would be closed at its return and opened again by the next request
        # (a PostgreSQL connection costs more than most requests)
        return create_system_engine(url, pool_min=size, pool_max=size, pool_timeout=timeout)

    api = make(sizes.api, sizes.api_timeout)
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return SystemPools(api, api, api)  # separate engines would be separate databases
    return SystemPools(
        api,
        make(sizes.engine, sizes.engine_timeout),
        make(sizes.heartbeat, sizes.api_timeout),
    )
