"""The system schema on a real database: migrations equal the MetaData, reference rows, align,
drop, the newer-release guard."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.engine import Engine

from qorus_core.db import refdata, schema
from qorus_core.db import tables as t
from qorus_core.model.errors import SchemaError

pytestmark = pytest.mark.integration


def test_migrations_produce_exactly_the_metadata(engine: Engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, t.metadata)
    assert diff == []


def test_reference_rows(engine: Engine) -> None:
    with engine.connect() as conn:
        perms = dict(
            conn.execute(select(t.permissions.c.name, t.permissions.c.permission_type)).all()
        )
        assert set(refdata.system_permissions()) <= set(perms)
        assert {perms[p] for p in refdata.system_permissions()} == {"SYSTEM"}
        includes = set(conn.execute(select(t.permission_includes)).all())
        assert ("WORKFLOW-CONTROL", "WORKFLOW-ORDER-CONTROL") in includes
        assert ("WORKFLOW-EXEC-CONTROL", "START-WORKFLOW") in includes
        roles = set(conn.execute(select(t.roles.c.role)).scalars())
        assert roles == {"superuser", "operator", "read-only", "remote", "maintenance"}
        default = conn.execute(select(t.groups).where(t.groups.c.groupid == 0)).one()
        assert default.name == "DEFAULT" and default.enabled
        codes = dict(
            conn.execute(
                select(t.audit_event_codes.c.audit_event_code, t.audit_event_codes.c.name)
            ).all()
        )
        assert codes[21] == "SOURCE-FILE-LOADED" and len(codes) == 22
        errors = dict(
            conn.execute(
                select(t.global_workflow_errors.c.error, t.global_workflow_errors.c.status)
            ).all()
        )
        assert errors["SOCKET-TIMEOUT"] == "RETRY"
        assert conn.execute(select(t.sessions.c.sessionid)).scalars().all() == [0]
        assert refdata.get_schema_version(conn) == refdata.SCHEMA_VERSION


def test_audit_events_columns(engine: Engine) -> None:
    cols = [c["name"] for c in inspect(engine).get_columns("audit_events")]
    assert cols == [
        "audit_eventid",
        "related_audit_eventid",
        "workflowid",
        "workflow_instanceid",
        "stepid",
        "ind",
        "jobid",
        "job_instanceid",
        "serviceid",
        "audit_event_code",
        "audit_user_event",
        "reason",
        "who",
        "source",
        "info1",
        "info2",
        "created",
    ]


def _row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            tb.name: conn.execute(select(func.count()).select_from(tb)).scalar_one()
            for tb in t.metadata.sorted_tables
        }


def test_align_twice_changes_nothing(engine: Engine) -> None:
    before = _row_counts(engine)
    assert schema.align(engine) is False
    assert _row_counts(engine) == before
    # reference rows are re-applied idempotently even when forced
    with engine.begin() as conn:
        refdata.apply(conn)
    assert _row_counts(engine) == before


def test_status_reports_current_schema(engine: Engine) -> None:
    st = schema.status(engine)
    assert st.exists and not st.newer and not st.upgrade_due
    assert st.counts["roles"] == 5
    schema.check_current(engine)


def test_newer_schema_is_refused_and_untouched(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    before = _row_counts(engine)
    with pytest.raises(SchemaError, match="newer release"):
        schema.align(engine)
    with pytest.raises(SchemaError, match="newer release"):
        schema.check_current(engine)
    assert _row_counts(engine) == before


def test_old_schema_version_is_upgraded(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(t.system_properties)
            .where(t.system_properties.c.keyname == refdata.SCHEMA_VERSION_KEY)
            .values(value="5.0.0")
        )
    assert schema.status(engine).upgrade_due
    with pytest.raises(SchemaError, match="needs an upgrade"):
        schema.check_current(engine)
    assert schema.align(engine) is True
    assert not schema.status(engine).upgrade_due


def test_drop_then_create(engine: Engine) -> None:
    dropped = schema.drop(engine)
    assert "workflow_instance" in dropped and "alembic_version" in dropped
    assert not schema.status(engine).exists
    assert inspect(engine).get_table_names() == []
    assert schema.align(engine) is True
    assert schema.status(engine).counts["permissions"] == len(refdata.system_permissions())
