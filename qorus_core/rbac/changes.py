"""A change to a list of names: a replacement, or relative ``+name`` / ``-name`` edits (the
real tool's syntax for roles, permissions, groups and group members)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from qorus_core.rbac.errors import BAD_ARGUMENT, RbacError


@dataclass(frozen=True)
class ListChange:
    """``replace`` is the new list (None for a relative change); ``add`` / ``remove`` apply to
    the current list when relative."""

    replace: tuple[str, ...] | None = None
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()

    @classmethod
    def set_to(cls, names: Iterable[str]) -> ListChange:
        return cls(replace=tuple(dict.fromkeys(names)))

    @classmethod
    def adding(cls, names: Iterable[str]) -> ListChange:
        return cls(add=tuple(dict.fromkeys(names)))

    @classmethod
    def removing(cls, names: Iterable[str]) -> ListChange:
        return cls(remove=tuple(dict.fromkeys(names)))

    @classmethod
    def parse(cls, items: Iterable[str], what: str) -> ListChange:
        """``a,b`` replaces; ``+a,-b`` edits; mixing the two forms is an error."""
        items = [i.strip() for i in items if i.strip()]
        relative = {i[0] in "+-" for i in items}
        if len(relative) > 1:
            raise RbacError(
                f"{what}: cannot mix relative (+name, -name) and plain names: {','.join(items)}",
                code="ARG-ERROR",
                status=BAD_ARGUMENT,
            )
        if not items or relative == {False}:
            return cls.set_to(items)
        add = [i[1:].strip() for i in items if i[0] == "+"]
        remove = [i[1:].strip() for i in items if i[0] == "-"]
        if "" in add or "" in remove:
            raise RbacError(
                f"{what}: '+' or '-' without a name", code="ARG-ERROR", status=BAD_ARGUMENT
            )
        return cls(add=tuple(dict.fromkeys(add)), remove=tuple(dict.fromkeys(remove)))

    def names(self) -> tuple[str, ...]:
        """Every name the change mentions (to check that they exist)."""
        return (self.replace or ()) + self.add + self.remove

    def apply(self, current: Iterable[str]) -> list[str]:
        if self.replace is not None:
            return list(self.replace)
        out = [c for c in current if c not in self.remove]
        out += [a for a in self.add if a not in out]
        return out
