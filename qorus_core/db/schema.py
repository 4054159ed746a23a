"""Create, upgrade, inspect and drop the system schema (what ``schema-tool`` does).

Alembic owns the DDL (``migrations/`` beside this module, shipped inside the package so that
an installed wheel can create its schema); :mod:`qorus_core.db.refdata` owns the reference
rows. Both run in one transaction where the database allows transactional DDL (PostgreSQL,
SQLite).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection, Engine

from qorus_core.db import refdata
from qorus_core.db import tables as t
from qorus_core.db.dialects import dialect_for
from qorus_core.db.engine import mask
from qorus_core.model.errors import SchemaError

SCHEMA_DIR = Path(__file__).resolve().parent / "migrations"

#: Tables whose row counts the status shows.
MAIN_TABLES = (
    t.workflows,
    t.steps,
    t.services,
    t.jobs,
    t.workflow_instance,
    t.step_instance,
    t.job_instance,
    t.users,
    t.roles,
    t.permissions,
    t.groups,
    t.sessions,
    t.audit_events,
)

DIALECTS = ("oracle", "postgresql", "mysql", "sqlite")


def alembic_config() -> Config:
    if not (SCHEMA_DIR / "env.py").is_file():
        raise SchemaError(f"the schema migrations are missing from {SCHEMA_DIR}")
    cfg = Config()
    cfg.set_main_option("script_location", str(SCHEMA_DIR))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


@dataclass
class SchemaStatus:
    datasource: str
    revision: str | None
    head: str
    version: str | None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return self.revision is not None

    @property
    def newer(self) -> bool:
        """The schema was made by a newer release than this one."""
        return self.revision is not None and not _known_revision(self.revision)

    @property
    def upgrade_due(self) -> bool:
        return self.revision != self.head or self.version != refdata.SCHEMA_VERSION


def _known_revision(rev: str) -> bool:
    script = ScriptDirectory.from_config(alembic_config())
    return any(s.revision == rev for s in script.walk_revisions())


def status(engine: Engine, all_tables: bool = False) -> SchemaStatus:
    """The schema's state; row counts of the main tables, or of every table with ``all_tables``."""
    with engine.connect() as conn:
        rev = current_revision(conn)
        st = SchemaStatus(mask(engine.url), rev, head_revision(), None)
        if rev is None:
            return st
        st.version = refdata.get_schema_version(conn)
        present = set(inspect(conn).get_table_names())
        for table in t.metadata.sorted_tables if all_tables else MAIN_TABLES:
            if table.name in present:
                st.counts[table.name] = conn.execute(
                    select(func.count()).select_from(table)
                ).scalar_one()
        return st


def check_current(engine: Engine) -> None:
    """Refuse to run on a missing, outdated or newer schema (the server and tools call this)."""
    st = status(engine)
    if not st.exists:
        raise SchemaError(f"no system schema in {st.datasource}; create it with 'schema-tool -V'")
    if st.newer:
        raise SchemaError(
            f"the system schema in {st.datasource} is from a newer release "
            f"(revision {st.revision}); this release knows up to {st.head}"
        )
    if st.upgrade_due:
        raise SchemaError(
            f"the system schema in {st.datasource} needs an upgrade; run 'schema-tool -V'"
        )


def align(engine: Engine) -> bool:
    """Create or upgrade the schema and its reference rows; False when it was already current."""
    st = status(engine)
    if st.newer:
        raise SchemaError(
            f"the system schema in {st.datasource} is from a newer release "
            f"(revision {st.revision}); this release knows up to {st.head}: not touching it"
        )
    if not st.upgrade_due:
        return False
    cfg = alembic_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            refdata.apply(conn)
    except Exception:
        if not st.exists and not dialect_for(engine).transactional_ddl:
            # DDL is not transactional there: take back the half-made schema
            drop(engine)
        raise
    return True


def drop(engine: Engine) -> list[str]:
    """Drop every table of the system schema (and Alembic's version table); returns their names."""
    with engine.begin() as conn:
        present = set(inspect(conn).get_table_names())
        dropped = [tb.name for tb in reversed(t.metadata.sorted_tables) if tb.name in present]
        t.metadata.drop_all(conn, checkfirst=True)
        if "alembic_version" in present:
            conn.execute(text("DROP TABLE alembic_version"))
            dropped.append("alembic_version")
    return dropped


def offline_sql(dialect: str) -> str:
    """The DDL that ``align`` would run on an empty schema of a dialect, with no connection."""
    if dialect not in DIALECTS:
        raise SchemaError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    buf = io.StringIO()
    cfg = alembic_config()
    cfg.attributes["dialect"] = dialect
    cfg.attributes["output_buffer"] = buf
    cfg.output_buffer = buf
    command.upgrade(cfg, "head", sql=True)
    return buf.getvalue()


def pending_sql(engine: Engine) -> str:
    """The DDL that ``align`` would run on this database now (``--dry-run``)."""
    st = status(engine)
    if st.revision == st.head:
        return ""
    buf = io.StringIO()
    cfg = alembic_config()
    cfg.attributes["dialect"] = engine.dialect.name
    cfg.attributes["output_buffer"] = buf
    cfg.output_buffer = buf
    start = f"{st.revision}:head" if st.revision else "head"
    command.upgrade(cfg, start, sql=True)
    return buf.getvalue()


def verify(conn: Connection) -> list[str]:
    """What is wrong with the schema on this connection compared with this release's tables
    (missing tables or columns, another revision or version); empty when it matches."""
    found: list[str] = []
    rev = current_revision(conn)
    head = head_revision()
    if rev != head:
        found.append(f"the schema is at revision {rev or 'none'}, this release at {head}")
    version = refdata.get_schema_version(conn) if rev else None
    if rev and version != refdata.SCHEMA_VERSION:
        found.append(f"the schema version is {version}, this release's {refdata.SCHEMA_VERSION}")
    insp = inspect(conn)
    present = set(insp.get_table_names())
    for table in t.metadata.sorted_tables:
        if table.name not in present:
            found.append(f"table {table.name} is missing")
            continue
        have = {c["name"].lower() for c in insp.get_columns(table.name)}
        missing = [c.name for c in table.columns if c.name.lower() not in have]
        if missing:
            found.append(f"table {table.name} lacks column {', '.join(missing)}")
    return found
