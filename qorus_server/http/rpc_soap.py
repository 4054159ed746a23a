"""``/SOAP``: not supported by this version; answered 501 in the format the client's Accept
header asks for (JSON, YAML or XML), without reading the request body."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from qorus_core.model.errors import QorusError
from qorus_server.http import codec, limits


class SoapNotSupportedError(QorusError):
    """SOAP calls (HTTP 501)."""

    code = "NOT-IMPLEMENTED"
    http_status = 501


async def soap(request: Request) -> Response:
    err = SoapNotSupportedError(
        "SOAP is not supported by this version; use REST (/api), JSON-RPC (/JSON), "
        "XML-RPC (/RPC2) or YAML-RPC (/YAML)"
    )
    body, ctype = codec.encode(err.to_dict(), codec.choose(request.headers.get("accept")))
    resp = Response(body, status_code=err.http_status, headers={"content-type": ctype})
    return limits.close_if_unread(request, resp)
