"""What a client is told when an operation fails: its own Qorus error as is; the database's
words and Python tracebacks only in the server log, tied to the answer by a reference."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from qorus_core.model.errors import NotFoundError
from qorus_server.api.errors import to_qorus_error


def _db_error() -> SQLAlchemyError:
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT secret_column FROM no_such_table"))
    except SQLAlchemyError as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError("the query did not fail")


def test_qorus_errors_pass_unchanged() -> None:
    err = NotFoundError("workflow order 5 does not exist", code="ORDER-NOT-FOUND")
    assert to_qorus_error(err, "GET /api/latest/orders/5") is err


def test_database_error_is_generic_for_the_client_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    exc = _db_error()
    with caplog.at_level(logging.ERROR, logger="qorus.http"):
        err = to_qorus_error(exc, "GET /api/latest/orders")
    answer = str(err.to_dict())
    assert err.code == "DB-ERROR" and err.http_status == 409
    for word in ("no_such_table", "secret_column", "SELECT", "sqlite", "SQL"):
        assert word not in answer
    ref = err.info["ref"]
    assert ref in err.desc
    [record] = caplog.records
    assert ref in record.getMessage() and "GET /api/latest/orders" in record.getMessage()
    assert record.exc_info is not None and "no_such_table" in str(record.exc_info[1])


def test_unexpected_error_is_500_without_traceback(caplog: pytest.LogCaptureFixture) -> None:
    try:
        {}["missing-key-with-detail"]
    except KeyError as exc:
        with caplog.at_level(logging.ERROR, logger="qorus.http"):
            err = to_qorus_error(exc, "PUT /api/latest/system")
    answer = str(err.to_dict())
    assert err.code == "INTERNAL-ERROR" and err.http_status == 500
    assert "missing-key-with-detail" not in answer and "KeyError" not in answer
    assert "Traceback" not in answer
    [record] = caplog.records
    assert err.info["ref"] in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is KeyError
