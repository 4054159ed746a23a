"""What validation produces and storage consumes: one checked definition per YAML file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qorus_core.loader.steps import Segments, StepGraph
from qorus_core.loader.yamlload import Doc
from qorus_core.model.refs import split_ref

__all__ = ["Definition", "resolved_list", "split_ref"]


@dataclass
class Definition:
    kind: str
    doc: Doc
    name: str
    version: str | None = None
    lang: str = "python"
    code: str | None = None
    code_path: Path | None = None
    class_name: str | None = None
    top_classes: dict[str, list[str]] = field(default_factory=dict)
    #: module-level classes -> the names their bodies define
    top_methods: dict[str, set[str]] = field(default_factory=dict)
    graph: StepGraph | None = None
    segments: Segments | None = None
    resolved: dict[str, str] = field(default_factory=dict)  # step ref as written -> name:version
    errors_name: str | None = None  # the errors definition a workflow's `errors:` names

    @property
    def data(self) -> dict[str, Any]:
        d: dict[str, Any] = self.doc.data
        return d

    @property
    def path(self) -> Path:
        return self.doc.path

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}" if self.version is not None else self.name

    @property
    def label(self) -> str:
        return f"{self.kind} {self.ref}"


def resolved_list(steps: Any, resolved: dict[str, str]) -> Any:
    """The ``steps`` list as written, each step reference replaced by its 'name:version'."""
    if isinstance(steps, list):
        return [resolved_list(s, resolved) for s in steps]
    return resolved.get(str(steps).strip(), steps)
