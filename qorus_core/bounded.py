"""Size limits on structured input (YAML, JSON, XML values) that hold before the input grows.

A YAML alias is a reference: ten levels of nine-way aliases are a few hundred bytes of text
but billions of nodes once a consumer walks or encodes them. The YAML loader here counts
every node the way a consumer will see it, an alias weighing as much as the subtree it names,
without ever expanding it, and stops as soon as a limit is passed. JSON and XML have no
aliases, so their values are checked after parsing by one iterative walk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from qorus_core.model.errors import ValidationError


@dataclass(frozen=True)
class Limits:
    """``max_nodes``: values, hash keys and list elements, after alias expansion;
    ``max_depth``: nesting of lists and hashes (a list in a hash is two levels);
    ``max_text``: characters of scalar text after alias expansion (YAML only; a parsed JSON
    or XML text is never larger than its source)."""

    max_nodes: int
    max_depth: int
    max_text: int


#: limits of a YAML or JSON text inside an argument or an option value (the defaults of the
#: ``http-max-body-*`` options)
DEFAULT_LIMITS = Limits(max_nodes=500_000, max_depth=100, max_text=8 * 1024 * 1024)


class LimitError(ValidationError):
    """Input over a size limit (HTTP 400); ``line`` and ``column`` (1-based) where known."""

    def __init__(self, desc: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(desc)
        self.line = line
        self.column = column


def _where(mark: Any) -> tuple[int | None, int | None]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (None, None)


class BoundedLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses documents over ``limits`` while composing them.

    A running count holds the nodes and scalar characters of the document as if every alias
    were expanded: a node adds one, a scalar adds its length, an alias adds the size recorded
    for its anchor's node when that node was complete. An alias to a node still being composed
    (a recursive structure) is refused: expanded, it never ends.
    """

    def __init__(self, stream: str, limits: Limits) -> None:
        super().__init__(stream)
        self.limits = limits
        self._nodes = 0
        self._text = 0
        self._depth = 0
        self._sizes: dict[int, tuple[int, int]] = {}

    def _add(self, nodes: int, text: int, mark: Any) -> None:
        self._nodes += nodes
        self._text += text
        lim = self.limits
        if self._nodes > lim.max_nodes:
            raise LimitError(
                f"the document has more than {lim.max_nodes} nodes once its aliases are expanded",
                *_where(mark),
            )
        if self._text > lim.max_text:
            raise LimitError(
                f"the document has more than {lim.max_text} characters of text once its "
                "aliases are expanded",
                *_where(mark),
            )

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            size = self._sizes.get(id(node))
            if size is None:
                raise LimitError(
                    f"alias *{event.anchor} refers to a node that contains it (a recursive "
                    "structure)",
                    *_where(event.start_mark),
                )
            self._add(size[0], size[1], event.start_mark)
            return node
        level = isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent)
        self._depth += level
        if self._depth > self.limits.max_depth:
            raise LimitError(
                f"the document is nested more than {self.limits.max_depth} levels deep",
                *_where(event.start_mark),
            )
        nodes, text = self._nodes, self._text
        self._add(1, 0, event.start_mark)
        node = super().compose_node(parent, index)
        if isinstance(node, yaml.ScalarNode):
            self._add(0, len(node.value), event.start_mark)
        self._depth -= level
        if getattr(event, "anchor", None) is not None and node is not None:
            self._sizes[id(node)] = (self._nodes - nodes, self._text - text)
        return node


def load_yaml(text: str, limits: Limits) -> Any:
    """``yaml.safe_load`` within ``limits``: LimitError (with the line) when over them;
    yaml.YAMLError for bad syntax, as ``safe_load``."""
    loader = BoundedLoader(text, limits)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def check_tree(value: Any, limits: Limits, what: str = "the document") -> None:
    """LimitError when a parsed value (lists and hashes, no shared parts) has more nodes or
    deeper nesting than ``limits``. Iterative, and stops at the first excess."""
    count = 0
    stack: list[tuple[Any, int]] = [(value, 1)]  # a value and the level a list or hash has
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > limits.max_nodes:
            raise LimitError(f"{what} has more than {limits.max_nodes} nodes")
        if isinstance(item, Mapping):
            children: Any = item.values()
            count += len(item)  # the keys
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > limits.max_depth:
            raise LimitError(f"{what} is nested more than {limits.max_depth} levels deep")
        stack.extend((child, depth + 1) for child in children)
