"""References to versioned interfaces as written by users: ``name`` or ``name:version``."""

from __future__ import annotations


def split_ref(ref: str) -> tuple[str, str | None]:
    """'name:version' -> (name, version); 'name' -> (name, None). Both parts are stripped; an
    empty version after the colon stays '' so callers can tell ``name:`` from ``name``."""
    name, sep, version = ref.partition(":")
    return name.strip(), (version.strip() if sep else None)
