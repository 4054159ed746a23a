"""The system services shipped with the product (``releases/system``): loaded by
``schema-tool -V`` and, when the schema lacks them, by the server at start-up.

They are ordinary definition files (``servicetype: SYSTEM``) written with the same Python
service API users use, loaded by the real loader; loading them again changes nothing unless
their files changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from qorus_core.loader.run import load

#: where the system release lives in a source tree (an installed wheel has no releases/)
SYSTEM_RELEASE = Path(__file__).resolve().parents[2] / "releases" / "system"


@dataclass
class SystemReleaseResult:
    """What a run did: the definitions it stored (``loaded``: new or updated) and the
    ones already current."""

    loaded: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)


def definition_files(root: Path = SYSTEM_RELEASE) -> list[Path]:
    """The definition files of the system release (empty when it is not here)."""
    if not root.is_dir():
        return []
    return sorted(root.glob("*.yaml"))


def _missing(engine: Engine, files: list[Path]) -> bool:
    """Whether a system service of the release is not in the schema (by name)."""
    names = {f.name.split("-", 1)[0] for f in files if f.name.endswith(".qsd.yaml")}
    if not names:
        return False
    with engine.connect() as conn:
        have = set(
            conn.execute(
                select(t.services.c.name).where(
                    t.services.c.service_type == "SYSTEM", t.services.c.name.in_(sorted(names))
                )
            ).scalars()
        )
    return bool(names - have)


def ensure_system_services(
    engine: Engine, *, only_missing: bool = False, root: Path = SYSTEM_RELEASE
) -> SystemReleaseResult | None:
    """Load the system release; with ``only_missing``, only when one of its services is
    not in the schema. None when there is no system release here or nothing was due."""
    files = definition_files(root)
    if not files:
        return None
    if only_missing and not _missing(engine, files):
        return None
    result = load(engine, [str(f) for f in files])
    out = SystemReleaseResult()
    for o in result.outcomes:
        label = o.definition.label
        (out.current if o.status == "unchanged" else out.loaded).append(label)
    return out
