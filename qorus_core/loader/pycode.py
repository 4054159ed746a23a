"""Static checks of interface code: it compiles, defines its class, derives from the right base.

User code is never executed here: ``compile()`` checks the syntax and ``ast`` finds the class and
follows its bases through the module and through library classes named by ``classes:``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

#: (type, steptype, arraytype) -> the API base classes the interface class must derive from
STEP_BASES = {
    ("NORMAL", "NONE"): "QorusNormalStep",
    ("NORMAL", "SERIES"): "QorusNormalArrayStep",
    ("ASYNC", "NONE"): "QorusAsyncStep",
    ("ASYNC", "SERIES"): "QorusAsyncArrayStep",
    ("SUBWORKFLOW", "NONE"): "QorusSubworkflowStep",
    ("SUBWORKFLOW", "SERIES"): "QorusSubworkflowArrayStep",
    ("EVENT", "NONE"): "QorusEventStep",
    ("EVENT", "SERIES"): "QorusEventArrayStep",
}
TYPE_BASES = {"service": "QorusService", "job": "QorusJob", "workflow": "QorusWorkflow"}


class CodeError(Exception):
    """The code does not compile; ``line`` / ``column`` are in the code file (1-based)."""

    def __init__(self, message: str, line: int | None, column: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def parse(source: str, filename: str) -> ast.Module:
    """Compile (syntax and compile-time errors) and return the module's AST."""
    try:
        compile(source, filename, "exec", dont_inherit=True)
        return ast.parse(source, filename)
    except SyntaxError as exc:
        raise CodeError(exc.msg, exc.lineno, exc.offset) from None
    except ValueError as exc:  # e.g. null bytes
        raise CodeError(str(exc), None, None) from None


def _base_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _base_name(node.value)
    return None


def top_classes(tree: ast.Module) -> dict[str, list[str]]:
    """Classes defined at module level -> the names of their bases."""
    out: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            out[node.name] = [n for n in map(_base_name, node.bases) if n]
    return out


def top_methods(tree: ast.Module) -> dict[str, set[str]]:
    """Classes defined at module level -> the names their bodies define (methods, class
    attributes), without following their bases."""
    out: dict[str, set[str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        names: set[str] = set()
        for item in node.body:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                names.add(item.name)
            elif isinstance(item, ast.Assign):
                names.update(t.id for t in item.targets if isinstance(t, ast.Name))
            elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                names.add(item.target.id)
        out[node.name] = names
    return out


#: what a library lookup answers: the top classes of that code and the names they define
CodeInfo = tuple[dict[str, list[str]], dict[str, set[str]]]


def defines(
    classes: dict[str, list[str]],
    methods: dict[str, set[str]],
    name: str,
    attr: str,
    library: Callable[[str], CodeInfo | None],
    known: dict[str, set[str]],
) -> bool | None:
    """Whether class ``name`` defines ``attr`` itself or through its bases (this module,
    then library classes); ``known`` gives the names of API classes (``QorusService``).
    None when a base cannot be followed (imported from elsewhere): nobody can tell."""
    seen: set[str] = set()
    todo = [(name, classes, methods)]
    unknown = False
    while todo:
        cls, scope, defs = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        if cls in known:
            if attr in known[cls]:
                return True
            continue
        if cls in scope:
            if attr in defs.get(cls, set()):
                return True
            todo.extend((b, scope, defs) for b in scope[cls])
            continue
        lib = library(cls)
        if lib is not None and cls in lib[0]:
            lib_classes, lib_methods = lib
            if attr in lib_methods.get(cls, set()):
                return True
            todo.extend((b, lib_classes, lib_methods) for b in lib_classes[cls])
            continue
        if cls != "object":
            unknown = True
    return None if unknown else False


def derives_from(
    classes: dict[str, list[str]],
    name: str,
    base: str,
    library: Callable[[str], dict[str, list[str]] | None],
) -> bool:
    """Whether class ``name`` derives from ``base``: via classes of this module, or via the
    library classes (``library(class_name)`` gives the top classes of that library class's code,
    None when it is unknown)."""
    seen: set[str] = set()
    todo = [(name, classes)]
    while todo:
        cls, scope = todo.pop()
        if cls == base:
            return True
        if cls in seen:
            continue
        seen.add(cls)
        if cls in scope:
            todo.extend((b, scope) for b in scope[cls])
            continue
        lib = library(cls)
        if lib is not None and cls in lib:
            todo.extend((b, lib) for b in lib[cls])
    return False
