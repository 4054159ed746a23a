"""XML-RPC at ``/RPC2``, as Python's ``xmlrpc.client.ServerProxy`` speaks it.

The document is parsed by :mod:`qorus_server.http.xmlbody` (no DOCTYPE, so no entity is ever
defined or fetched; nesting and value counts bounded). Params are positional (see
:mod:`qorus_server.api.rpc` for how they meet the operation's parameters); ``<nil/>`` is None
both ways, ``dateTime.iso8601`` a datetime, ``base64`` bytes, structs dicts, arrays lists;
integers beyond 32 bits are answered as text (XML-RPC ``int`` is 32-bit). An error is a fault:
``faultCode`` the fault code of the error's family, ``faultString`` ``ERROR-CODE:
description``. The answer is always HTTP 200 but for a request refused before its body is read
(401, 405, 408, 413, 415, 503).
"""

from __future__ import annotations

import re
import xmlrpc.client

from starlette.requests import Request
from starlette.responses import Response

from qorus_core.bounded import LimitError
from qorus_core.model.errors import RpcInvalidRequestError, RpcParseError
from qorus_server.http import codec, limits, xmlbody
from qorus_server.http.rpc_common import Caller, Fault, RpcGateway, fault

XML = "text/xml"
#: characters XML 1.0 cannot carry
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def fault_document(f: Fault) -> bytes:
    text = xmlrpc.client.dumps(
        xmlrpc.client.Fault(f.code, _NOT_XML.sub("?", f.message)),
        methodresponse=True,
        encoding="utf-8",
    )
    return text.encode("utf-8")


class XmlRpcGateway(RpcGateway):
    name = "XML-RPC"
    transport = "xml-rpc"

    def refusal(self, request: Request, f: Fault) -> Response:
        return Response(fault_document(f), media_type=XML)

    def _parse(self, raw: bytes) -> tuple[tuple[object, ...], str | None]:
        if not raw.strip():
            raise RpcParseError("the request body is empty: send an XML-RPC methodCall")
        try:
            return xmlbody.loads(raw, limits.body_limits(self.server.options))
        except LimitError as exc:
            at = f" (line {exc.line}, column {exc.column})" if exc.line else ""
            raise RpcParseError(f"the XML-RPC request is refused: {exc.desc}{at}") from None
        except Exception as exc:  # expat's errors, bad values (ints, dates, base64), faults
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RpcParseError(f"cannot parse the XML-RPC request: {text[:300]}") from None

    async def serve(self, request: Request, raw: bytes, caller: Caller) -> Response:
        method: str | None = None
        try:
            params, method = self._parse(raw)
            if method is None:
                raise RpcInvalidRequestError("the document is not a methodCall with a methodName")
            result = await self.invoke(caller, method, params)
            body = xmlrpc.client.dumps(
                (codec.plain(result, xml=True),),
                methodresponse=True,
                allow_none=True,
                encoding="utf-8",
            ).encode("utf-8")
        except Exception as exc:
            body = fault_document(fault(exc, self.where(method)))
        return Response(body, media_type=XML)
