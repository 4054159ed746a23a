"""XML-RPC documents from clients, read within limits.

An XML-RPC document never needs a document type declaration, so any ``<!DOCTYPE`` is refused:
no entity is ever defined, expanded or fetched (no billion laughs, no external entities). The
nesting of elements and the number of values (``value`` and ``name`` elements) are counted
while parsing and refused past the limits, before the values are built.
"""

from __future__ import annotations

import xmlrpc.client
from typing import Any
from xml.parsers import expat

from qorus_core.bounded import LimitError, Limits

#: elements per level of value nesting: ``value``, ``array``/``struct``, ``data``/``member``
_ELEMENTS_PER_LEVEL = 3
_ENVELOPE = 5  # methodCall, params, param; the innermost value and its type element


class DoctypeError(LimitError):
    """A document type declaration (entities) in an XML-RPC document."""


def loads(data: bytes | str, limits: Limits) -> tuple[tuple[Any, ...], str | None]:
    """Like :func:`xmlrpc.client.loads` with builtin types: the params and the method name.

    LimitError (400) past the limits or for a DOCTYPE; ``xmlrpc.client.Error`` (a fault
    document) and ``expat.ExpatError`` (bad XML) as the standard function raises them.
    """
    target = xmlrpc.client.Unmarshaller(use_builtin_types=True)
    parser = expat.ParserCreate(None, None)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    max_elements = limits.max_depth * _ELEMENTS_PER_LEVEL + _ENVELOPE
    depth = 0
    values = 0

    def where() -> tuple[int, int]:
        return parser.CurrentLineNumber, parser.CurrentColumnNumber + 1

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal depth, values
        depth += 1
        if depth > max_elements:
            raise LimitError(
                f"the document is nested more than {limits.max_depth} values deep", *where()
            )
        if tag.rpartition(":")[2] in ("value", "name"):
            values += 1
            if values > limits.max_nodes:
                raise LimitError(f"the document has more than {limits.max_nodes} values", *where())
        target.start(tag, attrs)

    def end(tag: str) -> None:
        nonlocal depth
        depth -= 1
        target.end(tag)

    def doctype(*_args: object) -> int:
        raise DoctypeError(
            "the document has a DOCTYPE declaration; XML-RPC documents may not declare "
            "entities or a document type",
            *where(),
        )

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = target.data
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.ExternalEntityRefHandler = doctype
    parser.buffer_text = True
    target.xml(None, None)  # type: ignore[arg-type]  # expat hands out str: no decoding
    parser.Parse(data, True)
    return target.close(), target.getmethodname()
