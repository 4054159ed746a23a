"""Test fixtures: a fresh system schema for every integration test on the database chosen by
``--db`` / ``QORUS_TEST_DB`` (sqlite, postgresql, mysql).

Speed: the schema is built once per run and then copied (SQLite: the file; PostgreSQL: a
``CREATE DATABASE ... TEMPLATE``); MariaDB has no templates, so its tables are emptied and the
reference rows put back before each test.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, text
from sqlalchemy.engine import URL, Engine

from qorus_core.db import refdata, schema
from qorus_core.db import tables as t
from qorus_core.db.engine import create_system_engine, sqlite_url

DBS = ("sqlite", "postgresql", "mysql")
PG_HOST = os.environ.get("QORUS_TEST_PG_HOST", "127.0.0.1")
MY_HOST = os.environ.get("QORUS_TEST_MYSQL_HOST", "127.0.0.1")
_counter = itertools.count()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        default=os.environ.get("QORUS_TEST_DB", "sqlite"),
        choices=DBS,
        help="database for integration tests (default: $QORUS_TEST_DB or sqlite)",
    )


def pg_url(db: str) -> URL:
    return URL.create(
        "postgresql+psycopg", username="postgres", host=PG_HOST, port=5432, database=db
    )


def my_url(db: str | None) -> URL:
    return URL.create(
        "mysql+pymysql",
        username="root",
        host=MY_HOST,
        port=3306,
        database=db,
        query={"charset": "utf8mb4"},
    )


def _unreachable(kind: str, exc: Exception) -> None:
    msg = f"{kind} is not reachable: {str(exc).splitlines()[0]}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{msg} (under CI=true this is a failure)", pytrace=False)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


class DbFactory:
    """Hands out fresh system schemas of one kind; remembers what to drop at the end."""

    def __init__(self, kind: str, base: Path) -> None:
        self.kind = kind
        self.base = base
        self.tag = f"qorus_test_{os.getpid()}"
        self.template: URL | None = None
        self.created: list[str] = []
        self._admin: Engine | None = None

    def setup(self) -> None:
        if self.kind == "sqlite":
            path = self.base / "template.sqlite"
            engine = create_system_engine(sqlite_url(path))
            schema.align(engine)
            engine.dispose()
            self.template = sqlite_url(path)
        elif self.kind == "postgresql":
            self._admin = create_system_engine(pg_url("postgres"), isolation_level="AUTOCOMMIT")
            try:
                with self._admin.connect() as c:
                    c.execute(text(f"DROP DATABASE IF EXISTS {self.tag}_tpl"))
                    c.execute(text(f"CREATE DATABASE {self.tag}_tpl"))
            except Exception as exc:
                _unreachable("PostgreSQL", exc)
            self.created.append(f"{self.tag}_tpl")
            engine = create_system_engine(pg_url(f"{self.tag}_tpl"))
            schema.align(engine)
            engine.dispose()
            self.template = pg_url(f"{self.tag}_tpl")
        else:
            self._admin = create_system_engine(my_url(None), isolation_level="AUTOCOMMIT")
            try:
                with self._admin.connect() as c:
                    c.execute(text(f"DROP DATABASE IF EXISTS {self.tag}"))
                    c.execute(text(f"CREATE DATABASE {self.tag} CHARACTER SET utf8mb4"))
            except Exception as exc:
                _unreachable("MariaDB/MySQL", exc)
            self.created.append(self.tag)
            engine = create_system_engine(my_url(self.tag))
            schema.align(engine)
            engine.dispose()
            self.template = my_url(self.tag)

    def fresh(self) -> URL:
        assert self.template is not None
        n = next(_counter)
        if self.kind == "sqlite":
            assert self.template.database
            dest = self.base / f"db{n}.sqlite"
            shutil.copyfile(self.template.database, dest)
            return sqlite_url(dest)
        assert self._admin is not None
        if self.kind == "postgresql":
            name = f"{self.tag}_{n}"
            with self._admin.connect() as c:
                c.execute(text(f"CREATE DATABASE {name} TEMPLATE {self.tag}_tpl"))
            self.created.append(name)
            return pg_url(name)
        self._empty_mysql()
        return self.template

    def _empty_mysql(self) -> None:
        engine = create_system_engine(self.template)  # type: ignore[arg-type]
        st = schema.status(engine)
        if st.newer or st.upgrade_due or len(st.counts) != len(schema.MAIN_TABLES):
            # an earlier test dropped or damaged the shared schema: build it again
            schema.drop(engine)
            schema.align(engine)
        with engine.begin() as conn:
            conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
            for table in t.metadata.sorted_tables:
                conn.execute(delete(table))
            conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
            refdata.apply(conn)
        engine.dispose()

    def drop(self, name: str) -> None:
        assert self._admin is not None
        with self._admin.connect() as c:
            if self.kind == "postgresql":
                c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                c.execute(text(f"DROP DATABASE IF EXISTS {name}"))

    def teardown(self) -> None:
        if self._admin is None:
            return
        for name in reversed(self.created):
            self.drop(name)
        self._admin.dispose()


@pytest.fixture(scope="session")
def db_factory(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DbFactory]:
    factory = DbFactory(db_kind, tmp_path_factory.mktemp("db"))
    factory.setup()
    yield factory
    factory.teardown()


@pytest.fixture
def db_url(db_factory: DbFactory) -> URL:
    """The URL of a fresh, current system schema with its reference rows."""
    return db_factory.fresh()


@pytest.fixture
def engine(db_url: URL) -> Iterator[Engine]:
    eng = create_system_engine(db_url, pool_min=1, pool_max=5)
    yield eng
    eng.dispose()


@pytest.fixture
def omq_dir(tmp_path: Path, db_url: URL) -> Path:
    """A fresh ``$OMQ_DIR`` whose options point the system datasource at the fresh schema."""
    root = tmp_path / "omq"
    for sub in ("etc", "log", "user", "var"):
        (root / sub).mkdir(parents=True)
    url = db_url.render_as_string(hide_password=False)
    (root / "etc" / "options").write_text(f"qorus.systemdb = {url}\n")
    return root
