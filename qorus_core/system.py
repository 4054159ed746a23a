"""The system datasource in force for an ``$OMQ_DIR``: what every offline tool opens first."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, Engine

from qorus_core.db.engine import create_system_engine, parse_datasource, sqlite_url
from qorus_core.db.pools import SystemPools, open_pools, pool_sizes
from qorus_core.omqdir import OmqDir, make_private_dir
from qorus_core.options import Options


def system_url(omq: OmqDir, options: Options, datasource: str | None = None) -> URL:
    """``datasource`` (a tool's ``-D``), else ``qorus.systemdb``, else the embedded SQLite file.

    ``$OMQ_DIR/var`` is the one folder made for an SQLite database; any other missing folder
    is an error when the engine is made (a mistyped path must not create folders).
    """
    spec = datasource or options.get("systemdb")
    url = parse_datasource(str(spec)) if spec else sqlite_url(omq.default_sqlite)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        folder = Path(url.database).resolve().parent
        if folder == omq.var.resolve():
            make_private_dir(omq.var)
    return url


def open_system_engine(omq: OmqDir, options: Options, datasource: str | None = None) -> Engine:
    return create_system_engine(
        system_url(omq, options, datasource),
        pool_min=int(options.get("system-pool-minimum")),
        pool_max=int(options.get("system-pool-maximum")),
    )


def open_system_pools(omq: OmqDir, options: Options) -> SystemPools:
    """The server's separate API, engine and heartbeat pools (see :mod:`qorus_core.db.pools`)."""
    return open_pools(system_url(omq, options), pool_sizes(options))
