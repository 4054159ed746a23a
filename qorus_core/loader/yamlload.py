"""YAML reading that keeps where every value was written, so errors can say file:line:column."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from qorus_core.bounded import BoundedLoader, LimitError, Limits

#: The largest definition file oload reads: nodes and characters of text counted with every
#: alias expanded (a 600-byte alias bomb is billions of nodes), and nesting depth.
LIMITS = Limits(max_nodes=200_000, max_depth=200, max_text=64 * 1024 * 1024)
MAX_FILE_SIZE = 64 * 1024 * 1024

Key = tuple[str | int, ...]


@dataclass
class Doc:
    """A parsed YAML document and the 1-based (line, column) of each value by its key path."""

    path: Path
    data: Any
    marks: dict[Key, tuple[int, int]] = field(default_factory=dict)

    def mark(self, *key: str | int) -> tuple[int, int]:
        """Where ``key`` was written; the nearest enclosing value when it is missing."""
        k: Key = tuple(key)
        while k not in self.marks and k:
            k = k[:-1]
        return self.marks.get(k, (1, 1))


class YamlError(Exception):
    """A file that is not valid YAML; carries the position the parser reported."""

    def __init__(self, message: str, line: int | None, column: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class YamlLimitError(YamlError):
    """A file over :data:`LIMITS` (or :data:`MAX_FILE_SIZE`): refused before it is expanded."""


def _walk(node: yaml.Node, key: Key, marks: dict[Key, tuple[int, int]]) -> None:
    marks[key] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for knode, vnode in node.value:
            name = knode.value if isinstance(knode, yaml.ScalarNode) else str(knode.start_mark)
            _walk(vnode, (*key, name), marks)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*key, i), marks)


def parse_text(text: str, path: Path, limits: Limits = LIMITS) -> Doc:
    loader = BoundedLoader(text, limits)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = exc.problem or exc.context or "invalid YAML"
        ctx = exc.context_mark
        if exc.context and ctx is not None and ctx is not mark:
            msg += f" ({exc.context} at line {ctx.line + 1}, column {ctx.column + 1})"
        raise YamlError(
            msg, mark.line + 1 if mark else None, mark.column + 1 if mark else None
        ) from None
    except LimitError as exc:
        raise YamlLimitError(exc.desc, exc.line, exc.column) from None
    except yaml.YAMLError as exc:
        raise YamlError(str(exc).splitlines()[0], None, None) from None
    finally:
        loader.dispose()
    marks: dict[Key, tuple[int, int]] = {}
    if node is not None:
        _walk(node, (), marks)
    return Doc(path, data, marks)


def parse_file(path: Path) -> Doc:
    size = path.stat().st_size
    if size > MAX_FILE_SIZE:
        raise YamlLimitError(
            f"the file has {size} bytes; the most oload reads is {MAX_FILE_SIZE}", 1, 1
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(f"not UTF-8 text ({exc.reason})", None, None) from None
    return parse_text(text, path)
