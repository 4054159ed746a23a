"""The one registration site of interface kinds (type name -> validator, storer, deleter,
lister). The built-in kinds register themselves from :mod:`.builtin` on first use, which keeps
the loader modules free of import cycles: they look kinds up at call time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from qorus_core.loader.delete import Deleter, DeleteSpec
    from qorus_core.loader.model import Definition
    from qorus_core.loader.problems import Problems
    from qorus_core.loader.schemas import F
    from qorus_core.loader.store import Store

#: (column titles, rows) of ``oload -L TYPE``
Listing = tuple[list[str], list[list[Any]]]
CheckFn = Callable[["Definition", "Problems"], None]
StoreFn = Callable[["Store", "Definition"], tuple[int | None, str]]
DeleteFn = Callable[["Deleter", "DeleteSpec"], None]
ListFn = Callable[[Connection], Listing]
#: (definition, library lookup: class name -> (top classes, names they define) or None,
#: problems): checks of a coded definition's class that need its library classes
CodeCheckFn = Callable[
    [
        "Definition",
        Callable[[str], "tuple[dict[str, list[str]], dict[str, set[str]]] | None"],
        "Problems",
    ],
    None,
]


@dataclass(frozen=True)
class Kind:
    """What oload does with definitions of one ``type:``.

    ``store`` upserts one checked definition (the caller owns the transaction) and answers
    (id or None, "new" | "updated" | "unchanged"); ``delete`` removes what a ``-X`` spec names,
    refusing what would break other data; ``list`` answers ``oload -L``."""

    name: str
    store: StoreFn
    delete: DeleteFn
    list: ListFn
    #: checks that need only the file (after its keys were checked against ``record``)
    check: CheckFn | None = None
    #: allowed YAML keys; None: the record of the same name in :mod:`..schemas`
    record: Mapping[str, F] | None = None
    versioned: bool = False
    #: has code that runs in the server (read and checked against its API base class)
    coded: bool = False
    #: the API class a coded definition's class must derive from (None: no check)
    api_base: Callable[[Definition], str | None] | None = None
    #: checks of the class that follow its bases into library classes (after ``api_base``)
    check_code: CodeCheckFn | None = None
    #: storage stage: what a definition refers to has a lower stage and is stored first
    stage: int = 0
    #: the table and id column of its objects, for ``--delete-id`` (None: not by id)
    table: Table | None = None
    idcol: str | None = None
    #: other names ``oload -L`` accepts
    aliases: tuple[str, ...] = ()


_KINDS: dict[str, Kind] = {}
_loaded = False


def _ensure() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        from qorus_core.loader.kinds import builtin

        builtin.register_all()


def register(kind: Kind) -> None:
    """Add (or replace) a kind; the one call a new kind needs."""
    _ensure()
    _KINDS[kind.name] = kind


def unregister(name: str) -> None:
    _ensure()
    _KINDS.pop(name, None)


def get(name: str) -> Kind | None:
    _ensure()
    return _KINDS.get(name)


def all_kinds() -> list[Kind]:
    """Every kind, in registration order."""
    _ensure()
    return list(_KINDS.values())


def names() -> tuple[str, ...]:
    return tuple(k.name for k in all_kinds())
