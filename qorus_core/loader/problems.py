"""Load problems: every error of a run is collected, then reported together."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qorus_core.model.errors import QorusError


@dataclass(frozen=True)
class Problem:
    """One error, located as precisely as we can (file, then line and column for YAML)."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


@dataclass
class Problems:
    items: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    #: (type, name) of definitions rejected in this run -> their file (for clearer references)
    rejected: dict[tuple[str, str], Path] = field(default_factory=dict)

    def add(
        self,
        path: str | Path,
        message: str,
        mark: tuple[int, int] | None = None,
    ) -> None:
        line, col = mark if mark else (None, None)
        self.items.append(Problem(str(path), message, line, col))

    def warn(self, path: str | Path, message: str, mark: tuple[int, int] | None = None) -> None:
        line, col = mark if mark else (None, None)
        self.warnings.append(Problem(str(path), message, line, col))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)


class LoadError(QorusError):
    """Raised when a run has validation errors; ``problems`` holds all of them."""

    code = "OLOAD-ERROR"
    http_status = 400

    def __init__(self, problems: list[Problem]) -> None:
        n = len(problems)
        super().__init__(f"{n} error{'s' if n != 1 else ''}: nothing was loaded", info=None)
        self.problems = problems
