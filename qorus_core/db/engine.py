"""The system datasource: a Qore-style datasource string or an SQLAlchemy URL to an Engine.

Qore form: ``driver:user/pass@db(encoding)%host:port{option=value,...}`` with the drivers
``pgsql``, ``mysql``, ``oracle`` and ``sqlite``/``sqlite3`` (for SQLite the ``db`` part is the
file path). Anything containing ``://`` is taken as an SQLAlchemy URL.
"""

from __future__ import annotations

import os
import re
import select
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, SQLAlchemyError

from qorus_core.db import dberror
from qorus_core.model.errors import DatasourceError
from qorus_core.secrets import mask_text, mask_url

_QORE_RE = re.compile(
    r"""^(?P<driver>[A-Za-z0-9_]+):
        (?:(?P<user>[^/@]*)(?:/(?P<password>[^@]*))?@)?
        (?P<db>[^%{(]*)
        (?:\((?P<encoding>[^)]*)\))?
        (?:%(?P<host>[^:{]+)(?::(?P<port>\d+))?)?
        (?:\{(?P<opts>[^}]*)\})?$""",
    re.X,
)

_DRIVERS = {
    "pgsql": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "oracle": "oracle+oracledb",
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
}

#: The connection option a read-only unit of work sets so SQLite opens a shared transaction.
READONLY = "qorus_readonly"


def parse_datasource(spec: str) -> URL:
    """Turn a datasource string into an SQLAlchemy URL, or raise DATASOURCE-ERROR."""
    spec = spec.strip()
    if "://" in spec:
        try:
            return make_url(spec)
        except (ArgumentError, ValueError) as exc:  # ValueError: a port that is no number
            raise DatasourceError(
                mask_text(f"cannot parse datasource URL {spec!r}: {exc}")
            ) from None
    m = _QORE_RE.match(spec)
    if not m:
        raise DatasourceError(
            f"cannot parse datasource {mask_text(spec)!r}: expected "
            "'driver:user/pass@db%host:port' or an SQLAlchemy URL"
        )
    driver = m["driver"].lower()
    if driver not in _DRIVERS:
        raise DatasourceError(
            f"unsupported datasource driver {driver!r} (supported: pgsql, mysql, oracle, sqlite)"
        )
    db = m["db"]
    if not db:
        raise DatasourceError(f"datasource {mask_text(spec)!r} names no database")
    query: dict[str, str] = {}
    for opt in filter(None, (m["opts"] or "").split(",")):
        key, _, value = opt.partition("=")
        query[key.strip()] = value.strip()
    drivername = _DRIVERS[driver]
    if drivername == "sqlite":
        return URL.create("sqlite", database=str(Path(db).expanduser()))
    if drivername.startswith("mysql"):
        query.setdefault("charset", "utf8mb4")
    if drivername.startswith("oracle"):
        query.setdefault("service_name", db)
        db = ""
    return URL.create(
        drivername,
        username=m["user"] or None,
        password=m["password"] or None,
        host=m["host"] or "localhost",
        port=int(m["port"]) if m["port"] else None,
        database=db or None,
        query=query,
    )


def sqlite_url(path: Path) -> URL:
    return URL.create("sqlite", database=str(path))


def mask(url: URL) -> str:
    """The URL as text with its password hidden, for messages and status output."""
    return mask_url(url)


def prepare_sqlite_file(path: Path) -> None:
    """Refuse a database whose folder is missing (a mistyped path must not create folders),
    and create a new database file private (0600); SQLite gives its ``-wal`` and ``-shm``
    files the mode of the database file."""
    folder = path.parent
    if not folder.is_dir():
        raise DatasourceError(
            f"SQLite database {path}: folder {folder} does not exist; create it first or "
            "correct the path in qorus.systemdb"
        )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise DatasourceError(f"cannot create SQLite database {path}: {exc.strerror}") from None
    os.close(fd)


def create_system_engine(url: URL, pool_min: int = 3, pool_max: int = 40, **kwargs: Any) -> Engine:
    """An Engine with the per-dialect settings the engine rules need."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
            prepare_sqlite_file(Path(url.database))
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=max(pool_min, 1),
            max_overflow=max(pool_max - pool_min, 0),
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    opts: dict[str, Any] = {
        "pool_size": max(pool_min, 1),
        "max_overflow": max(pool_max - pool_min, 0),
        # PostgreSQL: the cheaper liveness check of _check_on_checkout instead
        "pool_pre_ping": backend != "postgresql",
    }
    if backend in ("mysql", "mariadb", "postgresql"):
        opts["isolation_level"] = "READ COMMITTED"
    if backend == "postgresql" and "connect_timeout" not in url.query:
        # a database host that stopped answering fails a connect instead of hanging it
        opts["connect_args"] = {"connect_timeout": 10}
    opts.update(kwargs)
    engine = create_engine(url, **opts)
    if backend == "postgresql" and not opts["pool_pre_ping"]:
        _check_on_checkout(engine)
    return engine


#: a pooled connection idle longer than this is pinged (a round trip) at its checkout
PING_IDLE_SECONDS = 30.0
_IDLE_SINCE = "qorus_idle_since"


def _has_input(dbapi_conn: Any) -> bool:
    """Whether the server sent something on an idle connection (a FATAL before it closed it:
    a restart, ``pg_terminate_backend``) or it is closed; True when that cannot be told."""
    try:
        if getattr(dbapi_conn, "closed", False):
            return True
        poller = select.poll()
        poller.register(dbapi_conn.fileno(), select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except Exception:
        return True


def _check_on_checkout(engine: Engine) -> None:
    """Pessimistic disconnect handling without a round trip per checkout: a connection
    checked in less than :data:`PING_IDLE_SECONDS` ago on whose socket nothing arrived since
    is taken as alive; any other is pinged, and a dead one is replaced by the pool (a request
    never gets a connection that a database restart or ``pg_terminate_backend`` closed)."""
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    def _on_connect(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if (
            since is not None
            and time.monotonic() - since < PING_IDLE_SECONDS
            and not _has_input(dbapi_conn)
        ):
            return
        try:
            dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError(f"pooled connection is dead: {exc}") from exc


def _configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, foreign keys; writers take the lock at BEGIN so they never deadlock."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        readonly = conn.get_execution_options().get(READONLY, False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def check_connection(engine: Engine) -> None:
    """Open one connection, or raise DATASOURCE-ERROR with one clear, password-free line."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise DatasourceError(
            f"cannot open system datasource {mask(engine.url)}: {dberror.reason(exc)}"
        ) from None
    except OSError as exc:
        raise DatasourceError(f"cannot open system datasource {mask(engine.url)}: {exc}") from None


def ping(conn: Connection) -> None:
    """One round trip to the database on ``conn`` (health checks); raises when it fails."""
    conn.execute(text("SELECT 1"))
