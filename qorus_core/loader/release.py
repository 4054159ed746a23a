"""Command-line arguments and ``.qrf`` release files -> the YAML files of one load."""

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


@dataclass
class Inputs:
    yaml_files: list[Path] = field(default_factory=list)
    other_files: list[tuple[Path, str]] = field(default_factory=list)  # (file, where it came from)
    refresh: set[str] = field(default_factory=set)  # interface types to reset in the server
    releases: list[Path] = field(default_factory=list)

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


def _add(path: Path, inp: Inputs, problems: Problems, origin: str | None) -> None:
    where = origin or str(path)
    if path.is_dir():
        found = sorted(p for p in path.rglob("*.yaml") if p.is_file())
        if not found:
            problems.warn(path, "directory holds no *.yaml files")
        for p in found:
            inp.add_yaml(p)
    elif not path.exists():
        if origin:
            problems.add(origin.rsplit(":", 1)[0], f"{path}: no such file", _line(origin))
        else:
            problems.add(path, "no such file or directory")
    elif path.suffix == ".qrf" or path.name.startswith("@"):
        _release(path, inp, problems)
    elif path.suffix in (".yaml", ".yml"):
        inp.add_yaml(path)
    else:
        inp.other_files.append((path.resolve(), where))


def _line(origin: str) -> tuple[int, int] | None:
    tail = origin.rsplit(":", 1)[-1]
    return (int(tail), 1) if tail.isdigit() else None


def _release(path: Path, inp: Inputs, problems: Problems) -> None:
    resolved = path.resolve()
    if resolved in inp.releases:
        problems.add(path, "release file includes itself")
        return
    inp.releases.append(resolved)
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
                    _add(Path(m), inp, problems, f"{path}:{no}")
            else:
                _add(target, inp, problems, f"{path}:{no}")
        elif cmd in REFRESH_COMMANDS:
            inp.refresh.update(REFRESH_COMMANDS[cmd])
        elif cmd in IGNORED_COMMANDS:
            continue
        else:
            problems.add(path, f"unrecognized release command {cmd!r}", (no, 1))
