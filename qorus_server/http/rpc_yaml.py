"""YAML-RPC at ``/YAML``, the Qore protocol: the request is a YAML hash ``{method: NAME,
params: ...}`` (params a list: positional; a hash: named; a single value: one positional
param; none: no params), the answer ``{result: VALUE}`` or ``{error: {name: YAMLRPCError,
code, message: "ERROR-CODE: description", error: {err, desc}}}``, both
``application/x-yaml``; dates and binary data travel as YAML timestamps and ``!!binary``.

The body is read by the bounded loader (:func:`qorus_core.bounded.load_yaml`: aliases counted
as expanded without expanding them, nesting and text bounded). The answer is HTTP 200 but for
a request refused before its body is read (401, 405, 408, 413, 415, 503).
"""

from __future__ import annotations

import yaml
from starlette.requests import Request
from starlette.responses import Response

from qorus_core.bounded import LimitError, load_yaml
from qorus_core.model.errors import RpcInvalidRequestError, RpcParseError
from qorus_server.http import codec, limits
from qorus_server.http.rpc_common import Caller, Fault, RpcGateway, fault


def error_document(f: Fault) -> bytes:
    error = {"name": "YAMLRPCError", "code": f.code, "message": f.message, "error": f.data}
    return codec.encode({"error": error}, codec.YAML)[0]


def _answer(body: bytes) -> Response:
    return Response(body, headers={"content-type": f"{codec.YAML}; charset=utf-8"})


class YamlRpcGateway(RpcGateway):
    name = "YAML-RPC"
    transport = "yaml-rpc"

    def refusal(self, request: Request, f: Fault) -> Response:
        return _answer(error_document(f))

    def _parse(self, raw: bytes) -> object:
        if not raw.strip():
            raise RpcParseError("the request body is empty: send {method: NAME, params: [...]}")
        try:
            return load_yaml(raw.decode("utf-8"), limits.body_limits(self.server.options))
        except LimitError as exc:
            at = f" (line {exc.line}, column {exc.column})" if exc.line else ""
            raise RpcParseError(f"the YAML-RPC request is refused: {exc.desc}{at}") from None
        except RecursionError:
            raise RpcParseError("the YAML-RPC request is nested too deep") from None
        except (UnicodeDecodeError, yaml.YAMLError, ValueError) as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RpcParseError(f"cannot parse the YAML-RPC request: {text[:300]}") from None

    async def serve(self, request: Request, raw: bytes, caller: Caller) -> Response:
        method: object = None
        try:
            doc = self._parse(raw)
            if not isinstance(doc, dict):
                raise RpcInvalidRequestError(
                    f"a YAML-RPC request is a hash {{method: NAME, params: [...]}}, "
                    f"got {type(doc).__name__}"
                )
            method = doc.get("method")
            result = await self.invoke(caller, method, doc.get("params"))
            body = codec.encode({"result": result}, codec.YAML)[0]
        except Exception as exc:
            body = error_document(fault(exc, self.where(method)))
        return _answer(body)
