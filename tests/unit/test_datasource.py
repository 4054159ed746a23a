"""Datasource strings: the Qore form and SQLAlchemy URLs; errors never show a password."""

from __future__ import annotations

import pytest

from qorus_core.db.engine import mask, parse_datasource
from qorus_core.model.errors import DatasourceError


def test_pgsql_qore_form() -> None:
    url = parse_datasource("pgsql:omq/secret@omqdb%db.example:5433")
    assert url.drivername == "postgresql+psycopg"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "omq",
        "secret",
        "db.example",
        5433,
        "omqdb",
    )
    assert "secret" not in mask(url)


def test_mysql_qore_form_defaults_host_and_charset() -> None:
    url = parse_datasource("mysql:root/@qorus")
    assert url.drivername == "mysql+pymysql"
    assert url.host == "localhost"
    assert url.query["charset"] == "utf8mb4"


def test_encoding_and_options_are_accepted() -> None:
    url = parse_datasource("pgsql:u/p@db(utf8)%h:5432{min=3,max=10}")
    assert url.database == "db"
    assert url.query == {"min": "3", "max": "10"}


def test_oracle_uses_service_name() -> None:
    url = parse_datasource("oracle:omq/omq@ORCLPDB1%dbhost:1521")
    assert url.drivername == "oracle+oracledb"
    assert url.query["service_name"] == "ORCLPDB1"
    assert url.database is None


def test_sqlite_path() -> None:
    url = parse_datasource("sqlite:/tmp/x/qorus.sqlite")
    assert url.drivername == "sqlite"
    assert url.database == "/tmp/x/qorus.sqlite"


def test_sqlalchemy_url_passes_through() -> None:
    url = parse_datasource("postgresql+psycopg://a:b@h/d")
    assert url.host == "h" and url.password == "b"


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("garbage", "cannot parse datasource"),
        ("foo:u/p@db%h:1", "unsupported datasource driver 'foo'"),
        ("pgsql:u/p@%h:1", "names no database"),
        ("pgsql:u/p@db%h:port", "cannot parse datasource"),
    ],
)
def test_bad_strings(spec: str, fragment: str) -> None:
    with pytest.raises(DatasourceError, match=fragment):
        parse_datasource(spec)


def test_bad_string_error_masks_password() -> None:
    with pytest.raises(DatasourceError) as info:
        parse_datasource("nodriver:omq/topsecret@db%h:x")
    assert "topsecret" not in str(info.value)
