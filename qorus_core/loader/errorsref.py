"""A workflow's ``errors:`` -> the errors definition it means.

Real Qorus files name the errors *file* (``errors: my-errors.qerrors.yaml``); older qorus-py
files named the errors definition (``errors: my-errors``). Both are accepted. The value is
only ever compared with the files of this load and the files recorded by earlier loads: no
file is opened, so ``../`` or an absolute path cannot reach anything outside the load.

Resolution, first match wins:

1. the name of an errors definition (this load, then the schema);
2. a path, relative to the workflow's directory (or absolute), equal to the file of an errors
   definition (this load, then the schema);
3. a bare file name (no directory part) equal to the base name of exactly one errors file
   (this load, then the schema).
"""

from __future__ import annotations

import os.path
from dataclasses import dataclass
from pathlib import Path, PurePath

#: longest value shown in a message (the rest is elided)
_SHOWN = 120


@dataclass(frozen=True)
class ErrorsFile:
    """An errors definition and the file it came from."""

    name: str
    source: str

    @property
    def file_name(self) -> str:
        return PurePath(self.source).name


class ErrorsRefError(Exception):
    """``errors:`` names nothing, or several errors files."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def shown(value: str) -> str:
    """``value`` quoted for a message, elided when long."""
    if len(value) > _SHOWN:
        value = value[:_SHOWN] + "..."
    return repr(value)


def _has_dir(ref: str) -> bool:
    return "/" in ref or "\\" in ref or ref in (".", "..")


def _one(found: list[ErrorsFile], ref: str, where: str) -> ErrorsFile | None:
    names = sorted({f.name for f in found})
    if len(names) > 1:
        files = ", ".join(f"{f.name} ({f.source})" for f in sorted(found, key=lambda f: f.name))
        raise ErrorsRefError(
            f"errors file {shown(ref)} is ambiguous: {where} it matches the errors "
            f"definitions {files}; name the definition instead (errors: {names[0]})"
        )
    return next((f for f in found if f.name == names[0]), None) if names else None


def resolve(
    ref: str, workflow_path: Path, loaded: list[ErrorsFile], stored: list[ErrorsFile]
) -> str:
    """The name of the errors definition that ``errors: ref`` of the workflow at
    ``workflow_path`` means; ErrorsRefError when there is none (or several)."""
    if not ref.strip() or "\0" in ref:
        raise ErrorsRefError(f"errors {shown(ref)} is not a file name")
    for group in (loaded, stored):
        for f in group:
            if f.name == ref:
                return f.name
    # lexical only: the file system is never asked about the value
    target = os.path.normpath(os.path.join(workflow_path.parent, ref))
    for group, where in ((loaded, "in this load"), (stored, "in the schema")):
        hit = _one([f for f in group if os.path.normpath(f.source) == target], ref, where)
        if hit is not None:
            return hit.name
    if not _has_dir(ref):
        for group, where in ((loaded, "in this load"), (stored, "in the schema")):
            hit = _one([f for f in group if f.file_name == ref], ref, where)
            if hit is not None:
                return hit.name
    raise ErrorsRefError(
        f"errors file {shown(ref)} is not in this load nor in the schema: give it to oload "
        "with the workflow (a 'type: errors' file), or name its errors definition"
    )
