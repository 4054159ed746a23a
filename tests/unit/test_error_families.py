"""One table of Qorus error families: each exception type's HTTP status and RPC fault code,
and the gateway-neutral error answer built from it."""

from __future__ import annotations

from qorus_core.model.errors import (
    ERROR_FAMILIES,
    AuthenticationError,
    NotFoundError,
    QorusError,
    family,
)
from qorus_server.api.errors import PoolExhaustedError, error_answer
from qorus_server.hash_pool import LoginBusyError
from qorus_server.http.limits import BodyTooLargeError
from qorus_server.http.routes import RestRouteError
from qorus_server.login_throttle import LoginThrottledError


def test_each_family_is_one_type_with_a_distinct_status_and_fault() -> None:
    assert len({f.http_status for f in ERROR_FAMILIES}) == len(ERROR_FAMILIES)
    assert len({f.rpc_fault for f in ERROR_FAMILIES}) == len(ERROR_FAMILIES)
    for fam in ERROR_FAMILIES:
        assert fam.type.http_status == fam.http_status
        assert family(fam.type("x")) is fam


def test_server_errors_belong_to_their_family() -> None:
    assert family(LoginThrottledError("x", 3)).http_status == 429
    assert family(LoginBusyError("x")).http_status == 503
    assert family(PoolExhaustedError("x")).http_status == 503
    assert family(BodyTooLargeError("x")).http_status == 413
    assert family(QorusError("x", code="ANY")).type is QorusError


def test_error_answer_carries_status_fault_and_headers() -> None:
    ans = error_answer(AuthenticationError("who?"), "GET /api/latest/system")
    assert ans.http_status == 401 and ans.rpc_fault == family(ans.error).rpc_fault
    assert ans.headers == {"www-authenticate": 'Basic realm="Qorus"'}
    assert ans.body == {"err": "AUTHENTICATION-ERROR", "desc": "who?"}
    ans = error_answer(LoginThrottledError("slow down", 7), "POST /api/latest/public/login")
    assert ans.headers == {"retry-after": "7"}
    ans = error_answer(RestRouteError(405, "METHOD-NOT-ALLOWED", "no", ["GET"]), "PUT /api/x")
    assert ans.headers == {"allow": "GET"} and ans.http_status == 405
    ans = error_answer(NotFoundError("gone"), "GET /api/latest/orders/1")
    assert ans.http_status == 404 and ans.headers == {}
    ans = error_answer(ValueError("boom"), "GET /api/latest/system")
    assert ans.http_status == 500 and ans.body["err"] == "INTERNAL-ERROR"
