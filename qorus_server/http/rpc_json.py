"""JSON-RPC at ``/JSON``: 2.0 requests (``{"jsonrpc": "2.0", "method", "params", "id"}``),
1.1 (``"version": "1.1"``) and 1.0 ones (neither), each answered in its own version.

A 2.0 request without ``id`` is a notification: it runs, and nothing is answered for it. A
list is a batch of at most ``rpc-max-batch`` requests, run one after the other and answered
as a list in the same order; a batch (or a single request) with nothing to answer gets 204
and no body. An error is ``{"code", "message": "ERROR-CODE: description", "data": {err,
desc}}`` (1.x: ``{"name": "JSONRPCError", "code", "message", "error": {err, desc}}``) with the
fault code of the error's family (:mod:`qorus_core.model.errors`): -32700 parse error, -32600
invalid request, -32601 method not found, -32602 invalid params, -32003 AUTHORIZATION-ERROR...
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from qorus_core.bounded import check_tree
from qorus_core.model.errors import RpcInvalidRequestError, RpcParseError, ValidationError
from qorus_server.http import codec, limits
from qorus_server.http.rpc_common import Caller, Fault, RpcGateway, fault

JSON = "application/json"


def _envelope(version: str, id_: object, key: str, value: object) -> dict[str, object]:
    if version == "2.0":
        return {"jsonrpc": "2.0", key: value, "id": id_}
    if version == "1.1":
        return {"version": "1.1", key: value, "id": id_}
    out: dict[str, object] = {"result": None, "error": None, "id": id_}
    out[key] = value
    return out


def error_object(version: str, f: Fault) -> dict[str, object]:
    if version == "2.0":
        return {"code": f.code, "message": f.message, "data": f.data}
    return {"name": "JSONRPCError", "code": f.code, "message": f.message, "error": f.data}


def _error(version: str, id_: object, f: Fault) -> bytes:
    return codec.encode(_envelope(version, id_, "error", error_object(version, f)), JSON)[0]


def _version(item: dict[str, object]) -> str:
    if "jsonrpc" in item:
        if item["jsonrpc"] != "2.0":
            raise RpcInvalidRequestError('"jsonrpc" must be "2.0"')
        return "2.0"
    if "version" in item:
        if item["version"] != "1.1":
            raise RpcInvalidRequestError('"version" must be "1.1" (or give "jsonrpc": "2.0")')
        return "1.1"
    return "1.0"


class JsonRpcGateway(RpcGateway):
    name = "JSON-RPC"
    transport = "json-rpc"

    def refusal(self, request: Request, f: Fault) -> Response:
        return Response(_error("2.0", None, f), media_type=JSON)

    def _parse(self, raw: bytes) -> object:
        if not raw.strip():
            raise RpcParseError("the request body is empty: send a JSON-RPC request")
        try:
            value = json.loads(raw.decode("utf-8"))
        except RecursionError:
            raise RpcParseError("the JSON request is nested too deep") from None
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
            raise RpcParseError(f"the request is not valid JSON: {exc}") from None
        try:
            check_tree(value, limits.body_limits(self.server.options), "the JSON request")
        except ValidationError as exc:
            raise RpcParseError(exc.desc) from None
        return value

    async def serve(self, request: Request, raw: bytes, caller: Caller) -> Response:
        try:
            doc = self._parse(raw)
            if isinstance(doc, list):
                self._check_batch(doc)
        except Exception as exc:
            return Response(_error("2.0", None, fault(exc, self.where(None))), media_type=JSON)
        if isinstance(doc, list):
            parts = [await self._one(item, caller) for item in doc]
            answers = [p for p in parts if p is not None]
            body = b"[" + b",".join(answers) + b"]" if answers else None
        else:
            body = await self._one(doc, caller)
        if body is None:
            return Response(status_code=204)
        return Response(body, media_type=JSON)

    def _check_batch(self, doc: list[object]) -> None:
        if not doc:
            raise RpcInvalidRequestError("an empty batch: a batch is a list of requests")
        cap = int(self.server.options.get("rpc-max-batch"))
        if len(doc) > cap:
            raise RpcInvalidRequestError(
                f"a batch holds at most {cap} requests (option rpc-max-batch), this one "
                f"{len(doc)}; none of them was run"
            )

    async def _one(self, item: object, caller: Caller) -> bytes | None:
        """The encoded answer to one request, None for a notification."""
        version, id_, notify, method = "2.0", None, False, None
        try:
            if not isinstance(item, dict):
                raise RpcInvalidRequestError(
                    f"a request must be an object, got {type(item).__name__}"
                )
            version = _version(item)
            if "id" in item:
                if item["id"] is not None and (
                    isinstance(item["id"], bool) or not isinstance(item["id"], str | int | float)
                ):
                    raise RpcInvalidRequestError('"id" must be a text, a number or null')
                id_ = item["id"]
            method = item.get("method")
            if not isinstance(method, str):
                raise RpcInvalidRequestError(
                    f'"method" must be a text, got {type(method).__name__}'
                )
            notify = version == "2.0" and "id" not in item
            params = item.get("params")
            if params is not None and not isinstance(params, list | dict):
                raise ValidationError(
                    f'"params" must be a list or an object, got {type(params).__name__}'
                )
            result = await self.invoke(caller, method, params)
            if notify:
                return None
            return codec.encode(_envelope(version, id_, "result", result), JSON)[0]
        except Exception as exc:
            f = fault(exc, self.where(method))
            return None if notify else _error(version, id_, f)
