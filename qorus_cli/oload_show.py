"""``oload -s [RELEASE]``: the releases loaded, or what one release brought, as Rich tables."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from qorus_cli.common import console, fail
from qorus_core.db import releases
from qorus_core.db.engine import READONLY
from qorus_core.loader import release as release_file
from qorus_core.loader.delete_id import MAX_ID
from qorus_core.loader.problems import Problems

TOOL = "oload"
#: longest release argument echoed back in an error
_SHOWN = 120
_ID = re.compile(r"[0-9]{1,19}")


def _t(value: object) -> Text:
    """Plain text: names and paths are never read as Rich markup."""
    if value is None:
        return Text("")
    if hasattr(value, "strftime"):
        return Text(f"{value:%Y-%m-%d %H:%M:%S}")
    return Text(str(value))


def show_release(engine: Any, which: str) -> None:
    """No argument: every release loaded. An id or a release file name: that release (the
    latest load of that name). A release file never loaded: what it would load and run."""
    with engine.connect().execution_options(**{READONLY: True}) as conn:
        if not which:
            _list(releases.list_releases(conn))
            return
        found = None
        if _ID.fullmatch(which) and int(which) <= MAX_ID:
            found = releases.get_release(conn, int(which))
        if found is None:
            named = releases.list_releases(conn, Path(which).name)
            if named:
                found = releases.get_release(conn, named[-1].releaseid)
    if found is not None:
        _one(found)
        return
    path = Path(which)
    if path.suffix == ".qrf" and path.is_file():
        _preview(path)
        return
    shown = which if len(which) <= _SHOWN else which[:_SHOWN] + "..."
    fail(TOOL, escape(f"no release {shown!r} was loaded (give an id or a release file name)"), 1)


def _list(rows: list[releases.Release]) -> None:
    if not rows:
        console.print("no releases loaded")
        return
    table = Table(title=f"releases loaded ({len(rows)})")
    for col in ("id", "release", "loaded", "by", "host", "components", "source"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            _t(r.releaseid),
            _t(r.name),
            _t(r.created),
            _t(r.loaded_by),
            _t(r.hostname),
            _t(r.count),
            _t(r.source),
        )
    console.print(table)


def _one(r: releases.Release) -> None:
    head = Table(title=Text(f"release {r.name} (id {r.releaseid})"), show_header=False)
    head.add_row("source", _t(r.source))
    head.add_row("loaded", _t(r.created))
    head.add_row("by", _t(r.loaded_by))
    head.add_row("host", _t(r.hostname))
    console.print(head)
    table = Table(title=f"components ({len(r.components)})")
    for col in ("type", "name", "version", "id", "file"):
        table.add_column(col, overflow="fold")
    for c in r.components:
        table.add_row(
            _t(c.component_type), _t(c.name), _t(c.version), _t(c.objectid), _t(c.filename)
        )
    console.print(table)


def _preview(path: Path) -> None:
    """A release file not loaded yet: its files, nested releases and release lines."""
    problems = Problems()
    inputs = release_file.collect([str(path)], problems)
    table = Table(title=Text(f"release file {path.name} (not loaded)"))
    for col in ("release", "type", "file"):
        table.add_column(col, overflow="fold")
    for rel in inputs.releases:
        for kind, comp in inputs.components.get(rel, []):
            table.add_row(_t(rel.name), _t(kind), _t(comp))
    for act in inputs.actions:
        table.add_row(_t(act.release.name), _t(act.command), _t(act.path or f"line {act.line}"))
    console.print(table)
    for p in problems.items:
        console.print(Text(f"error: {p}"), style="red")
    if problems:
        fail(TOOL, f"{len(problems)} errors in release file {escape(str(path))}", 1)
