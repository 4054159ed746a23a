"""``qorus_server`` builds no SQL: every statement of the system schema lives in
``qorus_core/db`` (so a new dialect or an Oracle quirk is changed in one place).

The scan is by syntax tree, not by text, so ``dict.update(...)`` and the like do not count:
it fails on an import of a statement builder from SQLAlchemy (``select``, ``insert``,
``update``, ``delete``, ``text``), on ``sa.select(...)`` through an imported ``sqlalchemy``
module, on ``exec_driver_sql(...)``, and on any import of the table definitions
(``qorus_core.db.tables*``): without tables no statement of the system schema can be built.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "qorus_server"

BUILDERS = frozenset({"select", "insert", "update", "delete", "text"})


def _is_sqlalchemy(module: str | None) -> bool:
    return module is not None and (module == "sqlalchemy" or module.startswith("sqlalchemy."))


def _is_tables(module: str) -> bool:
    return module.startswith("qorus_core.db.tables")


def findings(source: str, filename: str) -> list[str]:
    """What in one module builds or runs SQL, as ``file:line: what`` lines."""
    tree = ast.parse(source, filename)
    found: list[str] = []
    sa_aliases: set[str] = set()

    def hit(node: ast.AST, what: str) -> None:
        found.append(f"{filename}:{getattr(node, 'lineno', 0)}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_sqlalchemy(alias.name):
                    sa_aliases.add(alias.asname or alias.name.split(".")[0])
                if _is_tables(alias.name):
                    hit(node, f"imports {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            module = node.module or ""
            if _is_sqlalchemy(module):
                for alias in node.names:
                    if alias.name in BUILDERS:
                        hit(node, f"imports {alias.name} from {module}")
            if _is_tables(module):
                hit(node, f"imports from {module}")
            elif module == "qorus_core.db":
                for alias in node.names:
                    if alias.name.startswith("tables"):
                        hit(node, f"imports qorus_core.db.{alias.name}")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        func = node.func
        if func.attr == "exec_driver_sql":
            hit(node, "exec_driver_sql(...)")
        root = func.value
        while isinstance(root, ast.Attribute):
            root = root.value
        if func.attr in BUILDERS and isinstance(root, ast.Name) and root.id in sa_aliases:
            hit(node, f"{root.id}...{func.attr}(...)")
    return found


def _sources() -> list[Path]:
    return sorted(SERVER.rglob("*.py"))


def test_qorus_server_builds_no_sql() -> None:
    found: list[str] = []
    for path in _sources():
        found += findings(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert not found, "SQL belongs in qorus_core/db:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        "from sqlalchemy import select",
        "from sqlalchemy.sql import text as t",
        "import sqlalchemy as sa\nsa.update(x)",
        "import sqlalchemy\nsqlalchemy.sql.expression.delete(x)",
        "from qorus_core.db import tables as t",
        "from qorus_core.db.tables_orders import order_instance_keys",
        "import qorus_core.db.tables",
        "conn.exec_driver_sql('SELECT 1')",
    ],
)
def test_the_scan_sees_sql(source: str) -> None:
    assert findings(source, "m.py")


@pytest.mark.parametrize(
    "source",
    [
        "d = {}\nd.update(x=1)",
        "from sqlalchemy.engine import Connection, Engine",
        "from sqlalchemy.exc import SQLAlchemyError",
        "from qorus_core.db import interfaces\ninterfaces.workflow_ids(conn)",
        "s = set()\ns.text('x')",
    ],
)
def test_the_scan_ignores_what_is_not_sql(source: str) -> None:
    assert not findings(source, "m.py")
