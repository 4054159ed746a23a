"""Request bodies and answers in JSON, YAML or XML-RPC-encoded XML, by Content-Type / Accept.

XML bodies and answers use the XML-RPC value encoding (Python's :mod:`xmlrpc.client`): an
answer is a ``methodResponse`` with one param; a body may be any XML-RPC document whose first
param is the value (``methodCall`` or ``methodResponse``).
"""

from __future__ import annotations

import datetime as _dt
import json
import xmlrpc.client
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import yaml

from qorus_core.bounded import DEFAULT_LIMITS, LimitError, Limits, check_tree, load_yaml
from qorus_core.model.errors import ValidationError
from qorus_server.http import xmlbody
from qorus_server.http.negotiate import weighted

JSON = "application/json"
YAML = "application/x-yaml"
XML = "text/xml"
FORM = "application/x-www-form-urlencoded"

_YAML_TYPES = frozenset({"application/x-yaml", "text/x-yaml", "application/yaml", "text/yaml"})
_XML_TYPES = frozenset({"text/xml", "application/xml"})
_JSON_TYPES = frozenset({"application/json", "text/json"})
_XMLRPC_MAX = 2**31 - 1


def media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


def kind_of(mime: str) -> str | None:
    if mime in _JSON_TYPES or mime.endswith("+json"):
        return JSON
    if mime in _YAML_TYPES:
        return YAML
    if mime in _XML_TYPES:
        return XML
    if mime == FORM:
        return FORM
    return None


def decode_body(content_type: str | None, raw: bytes, limits: Limits = DEFAULT_LIMITS) -> Any:
    """The body as a value; an empty body is None. Bad syntax, and a body over ``limits``
    (nodes after YAML alias expansion, nesting depth), is INVALID-ARGUMENT (400)."""
    if not raw.strip():
        return None
    mime = media_type(content_type)
    kind = kind_of(mime) if mime else JSON
    if kind is None:
        raise ValidationError(
            f"unsupported Content-Type {mime!r}: use application/json, "
            "application/x-yaml or text/xml",
            code="UNSUPPORTED-MEDIA-TYPE",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"the request body is not UTF-8: {exc}") from None
    try:
        if kind == YAML:
            return load_yaml(text, limits)
        if kind == XML:
            params, _method = xmlbody.loads(raw, limits)
            return params[0] if params else None
        if kind == JSON or text.lstrip().startswith("{"):  # curl -d '{...}', no Content-Type
            value = json.loads(text)
            check_tree(value, limits)
            return value
        return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=limits.max_nodes))
    except LimitError as exc:
        at = f" (line {exc.line}, column {exc.column})" if exc.line else ""
        raise LimitError(f"the {kind} request body is refused: {exc.desc}{at}") from None
    except RecursionError:
        raise LimitError(
            f"the {kind} request body is nested more than {limits.max_depth} levels deep"
        ) from None
    except (ValueError, yaml.YAMLError, xmlrpc.client.Error) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValidationError(f"cannot parse the {kind} request body: {first}") from None
    except Exception as exc:  # expat raises its own error types
        raise ValidationError(f"cannot parse the {kind} request body: {exc}") from None


def choose(accept: str | None) -> str:
    """The answer format for an Accept header: the best of JSON, YAML, XML; JSON by default."""
    best: tuple[float, int, str] | None = None
    for pos, (mime, q) in enumerate(weighted(accept)):
        kind = kind_of(mime)
        if kind in (JSON, YAML, XML) and q > 0 and (best is None or (q, -pos) > best[:2]):
            best = (q, -pos, kind)
    return best[2] if best else JSON


def plain(value: object, *, xml: bool = False) -> Any:
    """Values every format can carry: tuples/sets as lists, Decimal as float, str dict keys."""
    if isinstance(value, Mapping):
        return {str(k): plain(v, xml=xml) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v, xml=xml) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str) and type(value) is not str:
        return str.__str__(value)  # a StrEnum status: YAML and XML-RPC know only plain str
    if isinstance(value, int) and xml and not -_XMLRPC_MAX - 1 <= value <= _XMLRPC_MAX:
        return str(value)  # XML-RPC ints are 32-bit
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value.isoformat()
    return value


def _json_default(value: object) -> Any:
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"{type(value).__name__} cannot be sent as JSON")


def encode(value: object, kind: str) -> tuple[bytes, str]:
    """The answer body and its Content-Type."""
    if kind == YAML:
        text = yaml.safe_dump(plain(value), default_flow_style=False, sort_keys=False)
        return text.encode("utf-8"), f"{YAML}; charset=utf-8"
    if kind == XML:
        text = xmlrpc.client.dumps(
            (plain(value, xml=True),), methodresponse=True, allow_none=True, encoding="utf-8"
        )
        return text.encode("utf-8"), f"{XML}; charset=utf-8"
    data = json.dumps(plain(value), default=_json_default, separators=(",", ":"))
    return data.encode("utf-8"), JSON
