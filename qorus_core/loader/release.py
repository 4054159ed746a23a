"""Command-line arguments and ``.qrf`` release files -> the YAML files of one load, the SQL and
checks the releases ask for, and what each release brought (for ``oload -s``)."""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path

from qorus_core.loader.problems import Problems

REFRESH_COMMANDS = {
    "refresh-workflows": ("workflow",),
    "refresh-services": ("service",),
    "refresh-jobs": ("job",),
    "refresh-all": ("workflow", "service", "job"),
}
#: release commands of the real tool that concern Qore schema modules or checks we do not have
IGNORED_COMMANDS = ("sign-schema", "check-shutdown")
#: release commands run in the load transaction, in file order, before the definitions are stored
ACTION_COMMANDS = ("verify-schema", "omquser-exec-sql")


@dataclass(frozen=True)
class Action:
    """A release line that runs against the system datasource."""

    command: str  # one of ACTION_COMMANDS
    release: Path
    line: int
    path: Path | None = None  # the SQL file of omquser-exec-sql

    @property
    def where(self) -> str:
        return f"{self.release}:{self.line}"


@dataclass
class Inputs:
    yaml_files: list[Path] = field(default_factory=list)
    other_files: list[tuple[Path, str]] = field(default_factory=list)  # (file, where it came from)
    refresh: set[str] = field(default_factory=set)  # interface types to reset in the server
    releases: list[Path] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    #: release file -> what its own lines brought: ("file" | "release" | "sql", path)
    components: dict[Path, list[tuple[str, Path]]] = field(default_factory=dict)

    def add_yaml(self, path: Path) -> None:
        path = path.resolve()
        if path not in self.yaml_files:
            self.yaml_files.append(path)


def collect(args: list[str], problems: Problems) -> Inputs:
    """Files and directories (recursive) and release files, in the order given."""
    inp = Inputs()
    for arg in args:
        _add(Path(arg), inp, problems, origin=None)
    return inp


def _add(
    path: Path, inp: Inputs, problems: Problems, origin: str | None, rel: Path | None = None
) -> None:
    where = origin or str(path)
    if path.is_dir():
        found = sorted(p for p in path.rglob("*.yaml") if p.is_file())
        if not found:
            problems.warn(path, "directory holds no *.yaml files")
        for p in found:
            _note(inp, rel, "file", p)
            inp.add_yaml(p)
    elif not path.exists():
        if origin:
            problems.add(origin.rsplit(":", 1)[0], f"{path}: no such file", _line(origin))
        else:
            problems.add(path, "no such file or directory")
    elif path.suffix == ".qrf" or path.name.startswith("@"):
        _note(inp, rel, "release", path)
        _release(path, inp, problems)
    elif path.suffix in (".yaml", ".yml"):
        _note(inp, rel, "file", path)
        inp.add_yaml(path)
    else:
        _note(inp, rel, "file", path)
        inp.other_files.append((path.resolve(), where))


def _note(inp: Inputs, rel: Path | None, kind: str, path: Path) -> None:
    if rel is not None:
        inp.components.setdefault(rel, []).append((kind, path.resolve()))


def _line(origin: str) -> tuple[int, int] | None:
    tail = origin.rsplit(":", 1)[-1]
    return (int(tail), 1) if tail.isdigit() else None


def _release(path: Path, inp: Inputs, problems: Problems) -> None:
    resolved = path.resolve()
    if resolved in inp.releases:
        problems.add(path, "release file includes itself")
        return
    inp.releases.append(resolved)
    inp.components.setdefault(resolved, [])
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(path, f"cannot read the release file: {exc}")
        return
    for no, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        cmd, _, arg = line.partition(" ")
        arg = arg.strip()
        if cmd == "load":
            if not arg:
                problems.add(path, "'load' needs a file name", (no, 1))
                continue
            target = Path(arg) if Path(arg).is_absolute() else path.parent / arg
            if any(ch in arg for ch in "*?["):
                matches = sorted(glob.glob(str(target)))
                if not matches:
                    problems.add(path, f"'load' pattern {arg!r} matches no files", (no, 6))
                for m in matches:
                    _add(Path(m), inp, problems, f"{path}:{no}", resolved)
            else:
                _add(target, inp, problems, f"{path}:{no}", resolved)
        elif cmd in REFRESH_COMMANDS:
            inp.refresh.update(REFRESH_COMMANDS[cmd])
        elif cmd == "verify-schema":
            if arg:
                problems.add(path, "'verify-schema' takes no argument", (no, len(cmd) + 2))
                continue
            inp.actions.append(Action(cmd, path, no))
        elif cmd == "omquser-exec-sql":
            _exec_sql(path, resolved, no, arg, inp, problems)
        elif cmd in IGNORED_COMMANDS:
            continue
        else:
            problems.add(path, f"unrecognized release command {cmd!r}", (no, 1))


def _exec_sql(
    path: Path, resolved: Path, no: int, arg: str, inp: Inputs, problems: Problems
) -> None:
    if not arg:
        problems.add(path, "'omquser-exec-sql' needs a SQL file name", (no, 1))
        return
    if any(ch in arg for ch in "*?["):
        problems.add(path, "'omquser-exec-sql' takes one file, not a pattern", (no, 18))
        return
    target = Path(arg) if Path(arg).is_absolute() else path.parent / arg
    if not target.is_file():
        problems.add(path, f"{target}: no such SQL file", (no, 18))
        return
    _note(inp, resolved, "sql", target)
    inp.actions.append(Action("omquser-exec-sql", path, no, target.resolve()))
