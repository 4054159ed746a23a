"""Interface kinds oload knows: one :class:`Kind` per ``type:`` of a definition file, registered
once, so that validating, storing, listing and deleting a kind needs no edit anywhere else."""

from __future__ import annotations

from qorus_core.loader.kinds.registry import Kind, all_kinds, get, names, register, unregister

__all__ = ["Kind", "all_kinds", "get", "names", "register", "unregister"]
