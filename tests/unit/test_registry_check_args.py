"""The registry's argument check (``Operation.check_args``) answers as ``inspect``'s binding
does for every shape of handler, with or without its shortcut: required, optional, keyword
only and ``**kwargs`` arguments, and an argument named like the call context."""

from __future__ import annotations

import inspect
import itertools
from typing import Any

import pytest

from qorus_core.model.errors import ValidationError
from qorus_server.api.registry import Operation


def plain(ctx: Any, id: Any, version: Any = None) -> None: ...
def open_ended(ctx: Any, id: Any, version: Any = None, **fields: Any) -> None: ...
def keyword_only(ctx: Any, *, flag: Any = False, name: Any) -> None: ...
def positional(ctx: Any, id: Any, /, other: Any = None) -> None: ...
def varargs(ctx: Any, *items: Any, id: Any = None) -> None: ...
def nothing(ctx: Any) -> None: ...


NAMES = ["id", "version", "flag", "name", "other", "x", "ctx"]


@pytest.mark.parametrize("fn", [plain, open_ended, keyword_only, positional, varargs, nothing])
def test_the_check_agrees_with_binding(fn: Any) -> None:
    sig = inspect.signature(fn)
    op = Operation(name=fn.__name__, handler=fn)
    for n in range(4):
        for names in itertools.combinations(NAMES, n):
            args = dict.fromkeys(names, 1)
            try:
                sig.bind(None, **args)
                expected = True
            except TypeError:
                expected = False
            try:
                op.check_args(args)
                got = True
            except ValidationError:
                got = False
            assert got == expected, (fn.__name__, args)
