"""The guides stay true: every option a tool's --help shows is documented, every link resolves."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import click
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOOLS = ["qorus", "oload", "schema_tool", "user_tool", "qrest", "ostart", "ostop"]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _text() -> str:
    return "\n".join(p.read_text() for p in DOCS)


def _anchors(path: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings."""
    out = set()
    fence = False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            fence = not fence
        if fence or not line.startswith("#"):
            continue
        title = line.lstrip("#").strip().lower()
        title = re.sub(r"[^\w\- ]", "", title)
        out.add(title.replace(" ", "-"))
    return out


@pytest.mark.parametrize("tool", TOOLS)
def test_every_help_option_is_documented(tool: str) -> None:
    command = importlib.import_module(f"qorus_cli.{tool}").main
    assert isinstance(command, click.Command)
    text = _text()
    missing = []
    for param in command.params:
        if not isinstance(param, click.Option) or param.hidden:
            continue
        opts = [o for o in param.opts + param.secondary_opts if o not in ("-h", "--help")]
        if not opts:
            continue
        if not any(re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", text) for o in opts):
            missing.append("/".join(opts))
    assert not missing, f"{tool}: options shown by --help but in no guide: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_relative_link_resolves(doc: Path) -> None:
    broken = []
    for target in LINK.findall(doc.read_text()):
        if re.match(r"^[a-z]+:", target):
            continue
        path_part, _, anchor = target.partition("#")
        path = (doc.parent / path_part).resolve() if path_part else doc
        missing_anchor = bool(anchor) and path.suffix == ".md" and anchor not in _anchors(path)
        if not path.exists() or missing_anchor:
            broken.append(target)
    assert not broken, f"{doc.name}: broken links {broken}"
