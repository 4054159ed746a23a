"""initial system schema

Revision ID: 0001
Revises:
Create Date: 2026-11-30 05:50:50.651521
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, oracle

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_event_codes",
        sa.Column("audit_event_code", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.String(length=240), nullable=True),
        sa.PrimaryKeyConstraint("audit_event_code", name=op.f("pk_audit_event_codes")),
        sa.UniqueConstraint("name", name=op.f("uq_audit_event_codes_name")),
    )
    op.create_table(
        "classes",
        sa.Column(
            "classid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False, start=1),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("version", sa.String(length=80), nullable=False),
        sa.Column(
            "description",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column("author", sa.String(length=240), nullable=True),
        sa.Column("language", sa.String(length=40), nullable=False),
        sa.Column("class_name", sa.String(length=160), nullable=True),
        sa.Column(
            "code",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "source",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("classid", name=op.f("pk_classes")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_classes_name_version")),
    )
    op.create_table(
        "error_definitions",
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("error", sa.String(length=240), nullable=False),
        sa.Column(
            "description",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column("severity", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("business", sa.Boolean(), nullable=True),
        sa.Column("retry_delay", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=20), nullable=True),
        sa.Column(
            "source",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("name", "error", name=op.f("pk_error_definitions")),
    )
    op.create_table(
        "error_files",
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column(
            "description",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "source",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_error_files")),
    )
    op.create_table(
        "global_workflow_errors",
        sa.Column("error", sa.String(length=240), nullable=False),
        sa.Column(
            "description",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column("severity", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("business", sa.Boolean(), nullable=True),
        sa.Column("retry_delay", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=20), nullable=True),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("error", name=op.f("pk_global_workflow_errors")),
    )
    op.create_table(
        "groups",
        sa.Column(
            "groupid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False, start=1),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column(
            "description",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("groupid", name=op.f("pk_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_groups_name")),
    )
    op.create_table(
        "jobs",
        sa.Column(
            "jobid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False, start=1),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("version", sa.String(length=80), nullable=False),
        sa.Column(
            "description",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column("author", sa.String(length=240), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("run_skipped", sa.Boolean(), nullable=False),
        sa.Column("single_instance", sa.Boolean(), nullable=False),
        sa.Column(
            "expiry_date",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.Column("minute", sa.String(length=240), nullable=True),
        sa.Column("hour", sa.String(length=240), nullable=True),
        sa.Column("day", sa.String(length=240), nullable=True),
        sa.Column("month", sa.String(length=240), nullable=True),
        sa.Column("wday", sa.String(length=240), nullable=True),
        sa.Column("recurring", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=40), nullable=False),
        sa.Column("class_name", sa.String(length=160), nullable=True),
        sa.Column(
            "code",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "classes",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "config_items",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "sessionid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "last_executed",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "last_executed_job_instanceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "next_trigger",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "persistent_state",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "source",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("jobid", name=op.f("pk_jobs")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_jobs_name_version")),
    )
    op.create_table(
        "permissions",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("permission_type", sa.String(length=10), nullable=False),
        sa.Column("description", sa.String(length=240), nullable=True),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_permissions")),
    )
    op.create_table(
        "queues",
        sa.Column(
            "queueid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False, start=1),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column(
            "description",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "source",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("queueid", name=op.f("pk_queues")),
        sa.UniqueConstraint("name", name=op.f("uq_queues_name")),
    )
    op.create_table(
        "releases",
        sa.Column(
            "releaseid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False, start=1),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=240), nullable=False),
        sa.Column(
            "source",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column("loaded_by", sa.String(length=160), nullable=True),
        sa.Column("hostname", sa.String(length=160), nullable=True),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("releaseid", name=op.f("pk_releases")),
    )
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_releases_name"), ["name"], unique=False)

    op.create_table(
        "roles",
        sa.Column("role", sa.String(length=80), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("description", sa.String(length=240), nullable=True),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("role", name=op.f("pk_roles")),
    )
    op.create_table(
        "services",
        sa.Column(
            "serviceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False, start=1),
            nullable=False,
        ),
        sa.Column("service_type", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("version", sa.String(length=80), nullable=False),
        sa.Column(
            "description",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column("author", sa.String(length=240), nullable=True),
        sa.Column("autostart", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=40), nullable=False),
        sa.Column("class_name", sa.String(length=160), nullable=True),
        sa.Column(
            "code",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "classes",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "resources",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "config_items",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "options",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "source",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("serviceid", name=op.f("pk_services")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_services_name_version")),
    )
    op.create_table(
        "sessions",
        sa.Column(
            "sessionid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False, start=1),
            nullable=False,
        ),
        sa.Column("instancekey", sa.String(length=80), nullable=False),
        sa.Column("node", sa.String(length=160), nullable=False),
        sa.Column("hostname", sa.String(length=160), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("pidstart", sa.String(length=80), nullable=True),
        sa.Column("url", sa.String(length=250), nullable=True),
        sa.Column("version", sa.String(length=40), nullable=True),
        sa.Column("sessionstatus", sa.String(length=20), nullable=False),
        sa.Column(
            "started",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "heartbeat",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "ended",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("sessionid", name=op.f("pk_sessions")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sessions_instancekey_sessionstatus"),
            ["instancekey", "sessionstatus"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_sessions_sessionstatus"), ["sessionstatus"], unique=False
        )

    op.create_table(
        "system_properties",
        sa.Column("domain", sa.String(length=80), nullable=False),
        sa.Column("keyname", sa.String(length=160), nullable=False),
        sa.Column(
            "value",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("domain", "keyname", name=op.f("pk_system_properties")),
    )
    op.create_table(
        "users",
        sa.Column("username", sa.String(length=160), nullable=False),
        sa.Column("name", sa.String(length=240), nullable=True),
        sa.Column("password", sa.String(length=400), nullable=True),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_users")),
    )
    op.create_table(
        "workflow_event_types",
        sa.Column(
            "workflow_event_typeid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False, start=1),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column(
            "description",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "source",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("workflow_event_typeid", name=op.f("pk_workflow_event_types")),
        sa.UniqueConstraint("name", name=op.f("uq_workflow_event_types_name")),
    )
    op.create_table(
        "workflows",
        sa.Column(
            "workflowid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False, start=1),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("version", sa.String(length=80), nullable=False),
        sa.Column(
            "description",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column("author", sa.String(length=240), nullable=True),
        sa.Column("autostart", sa.Integer(), nullable=False),
        sa.Column("max_instances", sa.Integer(), nullable=True),
        sa.Column("sla_threshold", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("deprecated", sa.Boolean(), nullable=False),
        sa.Column(
            "steps_def",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column("language", sa.String(length=40), nullable=False),
        sa.Column("class_name", sa.String(length=160), nullable=True),
        sa.Column(
            "code",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "classes",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column("errors_name", sa.String(length=160), nullable=True),
        sa.Column(
            "options",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column("staticdata_type", sa.String(length=240), nullable=True),
        sa.Column(
            "custom_statuses",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "config_items",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "source",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("workflowid", name=op.f("pk_workflows")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_workflows_name_version")),
    )
    with op.batch_alter_table("workflows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workflows_name"), ["name"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column(
            "audit_eventid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False, start=1),
            nullable=False,
        ),
        sa.Column(
            "related_audit_eventid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "workflowid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "workflow_instanceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("stepid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("ind", sa.Integer(), nullable=True),
        sa.Column("jobid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "job_instanceid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("serviceid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("audit_event_code", sa.Integer(), nullable=False),
        sa.Column("audit_user_event", sa.String(length=80), nullable=True),
        sa.Column(
            "reason",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "who",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "source",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "info1",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "info2",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["audit_event_code"],
            ["audit_event_codes.audit_event_code"],
            name=op.f("fk_audit_events_audit_event_code_audit_event_codes"),
        ),
        sa.PrimaryKeyConstraint("audit_eventid", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_events_audit_event_code"), ["audit_event_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_events_created"), ["created"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_events_job_instanceid"), ["job_instanceid"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_events_jobid"), ["jobid"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_events_related_audit_eventid"),
            ["related_audit_eventid"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_audit_events_serviceid"), ["serviceid"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_events_workflow_instanceid"), ["workflow_instanceid"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_audit_events_workflowid"), ["workflowid"], unique=False
        )

    op.create_table(
        "group_jobs",
        sa.Column("groupid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("jobid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["groupid"], ["groups.groupid"], name=op.f("fk_group_jobs_groupid_groups")
        ),
        sa.ForeignKeyConstraint(["jobid"], ["jobs.jobid"], name=op.f("fk_group_jobs_jobid_jobs")),
        sa.PrimaryKeyConstraint("groupid", "jobid", name=op.f("pk_group_jobs")),
    )
    op.create_table(
        "group_services",
        sa.Column("groupid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "serviceid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["groupid"], ["groups.groupid"], name=op.f("fk_group_services_groupid_groups")
        ),
        sa.ForeignKeyConstraint(
            ["serviceid"], ["services.serviceid"], name=op.f("fk_group_services_serviceid_services")
        ),
        sa.PrimaryKeyConstraint("groupid", "serviceid", name=op.f("pk_group_services")),
    )
    op.create_table(
        "group_workflows",
        sa.Column("groupid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "workflowid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["groupid"], ["groups.groupid"], name=op.f("fk_group_workflows_groupid_groups")
        ),
        sa.ForeignKeyConstraint(
            ["workflowid"],
            ["workflows.workflowid"],
            name=op.f("fk_group_workflows_workflowid_workflows"),
        ),
        sa.PrimaryKeyConstraint("groupid", "workflowid", name=op.f("pk_group_workflows")),
    )
    op.create_table(
        "job_instance",
        sa.Column(
            "job_instanceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False, start=1),
            nullable=False,
        ),
        sa.Column("jobid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "sessionid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("jobstatus", sa.String(length=1), nullable=False),
        sa.Column(
            "info",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "state_data",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "started",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "completed",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(["jobid"], ["jobs.jobid"], name=op.f("fk_job_instance_jobid_jobs")),
        sa.PrimaryKeyConstraint("job_instanceid", name=op.f("pk_job_instance")),
    )
    with op.batch_alter_table("job_instance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_job_instance_jobid_started"), ["jobid", "started"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_job_instance_jobstatus_sessionid"),
            ["jobstatus", "sessionid"],
            unique=False,
        )

    op.create_table(
        "permission_includes",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("includes", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["includes"],
            ["permissions.name"],
            name=op.f("fk_permission_includes_includes_permissions"),
        ),
        sa.ForeignKeyConstraint(
            ["name"], ["permissions.name"], name=op.f("fk_permission_includes_name_permissions")
        ),
        sa.PrimaryKeyConstraint("name", "includes", name=op.f("pk_permission_includes")),
    )
    op.create_table(
        "release_components",
        sa.Column(
            "releaseid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("component_type", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=240), nullable=False),
        sa.Column("version", sa.String(length=80), nullable=True),
        sa.Column("objectid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "filename",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["releaseid"],
            ["releases.releaseid"],
            name=op.f("fk_release_components_releaseid_releases"),
        ),
        sa.PrimaryKeyConstraint("releaseid", "seq", name=op.f("pk_release_components")),
    )
    op.create_table(
        "role_groups",
        sa.Column("role", sa.String(length=80), nullable=False),
        sa.Column("groupid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["groupid"], ["groups.groupid"], name=op.f("fk_role_groups_groupid_groups")
        ),
        sa.ForeignKeyConstraint(["role"], ["roles.role"], name=op.f("fk_role_groups_role_roles")),
        sa.PrimaryKeyConstraint("role", "groupid", name=op.f("pk_role_groups")),
    )
    op.create_table(
        "role_permissions",
        sa.Column("role", sa.String(length=80), nullable=False),
        sa.Column("permission", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["permission"],
            ["permissions.name"],
            name=op.f("fk_role_permissions_permission_permissions"),
        ),
        sa.ForeignKeyConstraint(
            ["role"], ["roles.role"], name=op.f("fk_role_permissions_role_roles")
        ),
        sa.PrimaryKeyConstraint("role", "permission", name=op.f("pk_role_permissions")),
    )
    op.create_table(
        "segment_dependencies",
        sa.Column(
            "workflowid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("segmentid", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("dependson_segmentid", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["workflowid"],
            ["workflows.workflowid"],
            name=op.f("fk_segment_dependencies_workflowid_workflows"),
        ),
        sa.PrimaryKeyConstraint(
            "workflowid", "segmentid", "dependson_segmentid", name=op.f("pk_segment_dependencies")
        ),
    )
    op.create_table(
        "service_methods",
        sa.Column(
            "service_methodid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False, start=1),
            nullable=False,
        ),
        sa.Column(
            "serviceid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column(
            "description",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column("locktype", sa.String(length=20), nullable=False),
        sa.Column("write", sa.Boolean(), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["serviceid"],
            ["services.serviceid"],
            name=op.f("fk_service_methods_serviceid_services"),
        ),
        sa.PrimaryKeyConstraint("service_methodid", name=op.f("pk_service_methods")),
        sa.UniqueConstraint("serviceid", "name", name=op.f("uq_service_methods_serviceid_name")),
    )
    op.create_table(
        "service_state_data",
        sa.Column(
            "serviceid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "data",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["serviceid"],
            ["services.serviceid"],
            name=op.f("fk_service_state_data_serviceid_services"),
        ),
        sa.PrimaryKeyConstraint("serviceid", name=op.f("pk_service_state_data")),
    )
    op.create_table(
        "steps",
        sa.Column(
            "stepid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False, start=1),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("version", sa.String(length=80), nullable=False),
        sa.Column(
            "description",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column("author", sa.String(length=240), nullable=True),
        sa.Column("steptype", sa.String(length=20), nullable=False),
        sa.Column("arraytype", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=40), nullable=False),
        sa.Column("class_name", sa.String(length=160), nullable=True),
        sa.Column("base_class_name", sa.String(length=160), nullable=True),
        sa.Column(
            "code",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "classes",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "config_items",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column("queueid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "workflow_event_typeid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "source",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["queueid"], ["queues.queueid"], name=op.f("fk_steps_queueid_queues")
        ),
        sa.ForeignKeyConstraint(
            ["workflow_event_typeid"],
            ["workflow_event_types.workflow_event_typeid"],
            name=op.f("fk_steps_workflow_event_typeid_workflow_event_types"),
        ),
        sa.PrimaryKeyConstraint("stepid", name=op.f("pk_steps")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_steps_name_version")),
    )
    op.create_table(
        "user_roles",
        sa.Column("username", sa.String(length=160), nullable=False),
        sa.Column("role", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["role"], ["roles.role"], name=op.f("fk_user_roles_role_roles")),
        sa.ForeignKeyConstraint(
            ["username"], ["users.username"], name=op.f("fk_user_roles_username_users")
        ),
        sa.PrimaryKeyConstraint("username", "role", name=op.f("pk_user_roles")),
    )
    op.create_table(
        "workflow_errors",
        sa.Column(
            "workflowid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("error", sa.String(length=240), nullable=False),
        sa.Column(
            "description",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column("severity", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("business", sa.Boolean(), nullable=True),
        sa.Column("retry_delay", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=20), nullable=True),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["workflowid"],
            ["workflows.workflowid"],
            name=op.f("fk_workflow_errors_workflowid_workflows"),
        ),
        sa.PrimaryKeyConstraint("workflowid", "error", name=op.f("pk_workflow_errors")),
    )
    op.create_table(
        "workflow_instance",
        sa.Column(
            "workflow_instanceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False, start=1),
            nullable=False,
        ),
        sa.Column(
            "workflowid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("workflowstatus", sa.String(length=1), nullable=False),
        sa.Column("workflowstatus_orig", sa.String(length=1), nullable=True),
        sa.Column(
            "status_sessionid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "parent_workflow_instanceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("subworkflow", sa.Boolean(), nullable=False),
        sa.Column("synchronous", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column(
            "scheduled",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "retry_trigger",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Integer(), nullable=False),
        sa.Column("note_count", sa.Integer(), nullable=False),
        sa.Column("business_error", sa.Boolean(), nullable=False),
        sa.Column("custom_status", sa.String(length=1), nullable=True),
        sa.Column("operator_lock", sa.String(length=100), nullable=True),
        sa.Column(
            "started",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "completed",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["workflowid"],
            ["workflows.workflowid"],
            name=op.f("fk_workflow_instance_workflowid_workflows"),
        ),
        sa.PrimaryKeyConstraint("workflow_instanceid", name=op.f("pk_workflow_instance")),
    )
    with op.batch_alter_table("workflow_instance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_instance_modified"), ["modified"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_workflow_instance_parent_workflow_instanceid"),
            ["parent_workflow_instanceid"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_workflow_instance_started"), ["started"], unique=False)
        batch_op.create_index(
            batch_op.f(
                "ix_workflow_instance_workflowid_workflowstatus_priority_workflow_instanceid"
            ),
            ["workflowid", "workflowstatus", "priority", "workflow_instanceid"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_workflow_instance_workflowstatus_status_sessionid"),
            ["workflowstatus", "status_sessionid"],
            unique=False,
        )

    op.create_table(
        "workflow_keys",
        sa.Column(
            "workflowid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("keyname", sa.String(length=160), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflowid"],
            ["workflows.workflowid"],
            name=op.f("fk_workflow_keys_workflowid_workflows"),
        ),
        sa.PrimaryKeyConstraint("workflowid", "keyname", name=op.f("pk_workflow_keys")),
    )
    op.create_table(
        "error_instance",
        sa.Column(
            "error_instanceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False, start=1),
            nullable=False,
        ),
        sa.Column(
            "workflow_instanceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("stepid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("ind", sa.Integer(), nullable=True),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("retry", sa.Boolean(), nullable=False),
        sa.Column("error", sa.String(length=240), nullable=False),
        sa.Column(
            "description",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "info",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column("business_error", sa.Boolean(), nullable=False),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["workflow_instanceid"],
            ["workflow_instance.workflow_instanceid"],
            name=op.f("fk_error_instance_workflow_instanceid_workflow_instance"),
        ),
        sa.PrimaryKeyConstraint("error_instanceid", name=op.f("pk_error_instance")),
    )
    with op.batch_alter_table("error_instance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_error_instance_workflow_instanceid"),
            ["workflow_instanceid"],
            unique=False,
        )

    op.create_table(
        "job_errors",
        sa.Column(
            "job_errorid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False, start=1),
            nullable=False,
        ),
        sa.Column(
            "job_instanceid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("error", sa.String(length=240), nullable=False),
        sa.Column(
            "description",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "info",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column("business_error", sa.Boolean(), nullable=False),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["job_instanceid"],
            ["job_instance.job_instanceid"],
            name=op.f("fk_job_errors_job_instanceid_job_instance"),
        ),
        sa.PrimaryKeyConstraint("job_errorid", name=op.f("pk_job_errors")),
    )
    with op.batch_alter_table("job_errors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_job_errors_job_instanceid"), ["job_instanceid"], unique=False
        )

    op.create_table(
        "order_instance",
        sa.Column(
            "workflow_instanceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("external_order_instanceid", sa.String(length=240), nullable=True),
        sa.Column(
            "staticdata",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "dynamicdata",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["workflow_instanceid"],
            ["workflow_instance.workflow_instanceid"],
            name=op.f("fk_order_instance_workflow_instanceid_workflow_instance"),
        ),
        sa.PrimaryKeyConstraint("workflow_instanceid", name=op.f("pk_order_instance")),
    )
    with op.batch_alter_table("order_instance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_order_instance_external_order_instanceid"),
            ["external_order_instanceid"],
            unique=False,
        )

    op.create_table(
        "order_instance_keys",
        sa.Column(
            "workflow_instanceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("keyname", sa.String(length=160), nullable=False),
        sa.Column("value", sa.String(length=400), nullable=False),
        sa.Column(
            "workflowid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["workflow_instanceid"],
            ["workflow_instance.workflow_instanceid"],
            name=op.f("fk_order_instance_keys_workflow_instanceid_workflow_instance"),
        ),
        sa.PrimaryKeyConstraint(
            "workflow_instanceid", "keyname", "value", name=op.f("pk_order_instance_keys")
        ),
    )
    with op.batch_alter_table("order_instance_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_order_instance_keys_keyname_value"), ["keyname", "value"], unique=False
        )

    op.create_table(
        "order_instance_notes",
        sa.Column(
            "noteid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False, start=1),
            nullable=False,
        ),
        sa.Column(
            "workflow_instanceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("username", sa.String(length=160), nullable=True),
        sa.Column(
            "note",
            sa.String(length=4000)
            .with_variant(mysql.TEXT(), "mariadb")
            .with_variant(mysql.TEXT(), "mysql"),
            nullable=False,
        ),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["workflow_instanceid"],
            ["workflow_instance.workflow_instanceid"],
            name=op.f("fk_order_instance_notes_workflow_instanceid_workflow_instance"),
        ),
        sa.PrimaryKeyConstraint("noteid", name=op.f("pk_order_instance_notes")),
    )
    with op.batch_alter_table("order_instance_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_order_instance_notes_workflow_instanceid"),
            ["workflow_instanceid"],
            unique=False,
        )

    op.create_table(
        "order_unique_keys",
        sa.Column("scope", sa.String(length=1), nullable=False),
        sa.Column("scope_value", sa.String(length=160), nullable=False),
        sa.Column("keyname", sa.String(length=160), nullable=False),
        sa.Column("value", sa.String(length=400), nullable=False),
        sa.Column(
            "workflow_instanceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["workflow_instanceid"],
            ["workflow_instance.workflow_instanceid"],
            name=op.f("fk_order_unique_keys_workflow_instanceid_workflow_instance"),
        ),
        sa.PrimaryKeyConstraint(
            "scope", "scope_value", "keyname", "value", name=op.f("pk_order_unique_keys")
        ),
    )
    with op.batch_alter_table("order_unique_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_order_unique_keys_workflow_instanceid"),
            ["workflow_instanceid"],
            unique=False,
        )

    op.create_table(
        "queue_data",
        sa.Column(
            "queue_dataid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False, start=1),
            nullable=False,
        ),
        sa.Column("queueid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "workflow_instanceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("stepid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("ind", sa.Integer(), nullable=False),
        sa.Column("queuekey", sa.String(length=240), nullable=False),
        sa.Column("queue_data_status", sa.String(length=1), nullable=False),
        sa.Column(
            "data",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["queueid"], ["queues.queueid"], name=op.f("fk_queue_data_queueid_queues")
        ),
        sa.ForeignKeyConstraint(
            ["workflow_instanceid"],
            ["workflow_instance.workflow_instanceid"],
            name=op.f("fk_queue_data_workflow_instanceid_workflow_instance"),
        ),
        sa.PrimaryKeyConstraint("queue_dataid", name=op.f("pk_queue_data")),
        sa.UniqueConstraint("queueid", "queuekey", name=op.f("uq_queue_data_queueid_queuekey")),
    )
    with op.batch_alter_table("queue_data", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_queue_data_workflow_instanceid_stepid_ind"),
            ["workflow_instanceid", "stepid", "ind"],
            unique=False,
        )

    op.create_table(
        "segment_instance",
        sa.Column(
            "workflow_instanceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("segmentid", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "workflowid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("segmentstatus", sa.String(length=1), nullable=False),
        sa.Column("custom_status", sa.String(length=1), nullable=True),
        sa.Column(
            "retry_trigger",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["workflow_instanceid"],
            ["workflow_instance.workflow_instanceid"],
            name=op.f("fk_segment_instance_workflow_instanceid_workflow_instance"),
        ),
        sa.PrimaryKeyConstraint(
            "workflow_instanceid", "segmentid", name=op.f("pk_segment_instance")
        ),
    )
    with op.batch_alter_table("segment_instance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_segment_instance_segmentstatus_retry_trigger"),
            ["segmentstatus", "retry_trigger"],
            unique=False,
        )

    op.create_table(
        "segment_steps",
        sa.Column(
            "workflowid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("stepid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("segmentid", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["stepid"], ["steps.stepid"], name=op.f("fk_segment_steps_stepid_steps")
        ),
        sa.ForeignKeyConstraint(
            ["workflowid"],
            ["workflows.workflowid"],
            name=op.f("fk_segment_steps_workflowid_workflows"),
        ),
        sa.PrimaryKeyConstraint("workflowid", "stepid", name=op.f("pk_segment_steps")),
    )
    op.create_table(
        "sensitive_order_data",
        sa.Column(
            "workflow_instanceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("skey", sa.String(length=160), nullable=False),
        sa.Column("svalue", sa.String(length=400), nullable=False),
        sa.Column(
            "data",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=False,
        ),
        sa.Column("iv", sa.String(length=80), nullable=False),
        sa.Column("mac", sa.String(length=80), nullable=False),
        sa.Column(
            "meta",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql")
            .with_variant(sa.CLOB(), "oracle"),
            nullable=True,
        ),
        sa.Column(
            "created",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["workflow_instanceid"],
            ["workflow_instance.workflow_instanceid"],
            name=op.f("fk_sensitive_order_data_workflow_instanceid_workflow_instance"),
        ),
        sa.PrimaryKeyConstraint(
            "workflow_instanceid", "skey", "svalue", name=op.f("pk_sensitive_order_data")
        ),
    )
    op.create_table(
        "step_instance",
        sa.Column(
            "workflow_instanceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("stepid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("ind", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stepstatus", sa.String(length=1), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("skip", sa.Boolean(), nullable=False),
        sa.Column("custom_status", sa.String(length=1), nullable=True),
        sa.Column(
            "started",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=False,
        ),
        sa.Column(
            "completed",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql")
            .with_variant(oracle.TIMESTAMP(), "oracle"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["stepid"], ["steps.stepid"], name=op.f("fk_step_instance_stepid_steps")
        ),
        sa.ForeignKeyConstraint(
            ["workflow_instanceid"],
            ["workflow_instance.workflow_instanceid"],
            name=op.f("fk_step_instance_workflow_instanceid_workflow_instance"),
        ),
        sa.PrimaryKeyConstraint(
            "workflow_instanceid", "stepid", "ind", name=op.f("pk_step_instance")
        ),
    )
    op.create_table(
        "workflow_steps",
        sa.Column(
            "workflowid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("stepid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "dependson_stepid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["stepid"], ["steps.stepid"], name=op.f("fk_workflow_steps_stepid_steps")
        ),
        sa.ForeignKeyConstraint(
            ["workflowid"],
            ["workflows.workflowid"],
            name=op.f("fk_workflow_steps_workflowid_workflows"),
        ),
        sa.PrimaryKeyConstraint(
            "workflowid", "stepid", "dependson_stepid", name=op.f("pk_workflow_steps")
        ),
    )


def downgrade() -> None:

    op.drop_table("workflow_steps")
    op.drop_table("step_instance")
    op.drop_table("sensitive_order_data")
    op.drop_table("segment_steps")
    with op.batch_alter_table("segment_instance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_segment_instance_segmentstatus_retry_trigger"))

    op.drop_table("segment_instance")
    with op.batch_alter_table("queue_data", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_queue_data_workflow_instanceid_stepid_ind"))

    op.drop_table("queue_data")
    with op.batch_alter_table("order_unique_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_unique_keys_workflow_instanceid"))

    op.drop_table("order_unique_keys")
    with op.batch_alter_table("order_instance_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_instance_notes_workflow_instanceid"))

    op.drop_table("order_instance_notes")
    with op.batch_alter_table("order_instance_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_instance_keys_keyname_value"))

    op.drop_table("order_instance_keys")
    with op.batch_alter_table("order_instance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_instance_external_order_instanceid"))

    op.drop_table("order_instance")
    with op.batch_alter_table("job_errors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_errors_job_instanceid"))

    op.drop_table("job_errors")
    with op.batch_alter_table("error_instance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_error_instance_workflow_instanceid"))

    op.drop_table("error_instance")
    op.drop_table("workflow_keys")
    with op.batch_alter_table("workflow_instance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_instance_workflowstatus_status_sessionid"))
        batch_op.drop_index(
            batch_op.f(
                "ix_workflow_instance_workflowid_workflowstatus_priority_workflow_instanceid"
            )
        )
        batch_op.drop_index(batch_op.f("ix_workflow_instance_started"))
        batch_op.drop_index(batch_op.f("ix_workflow_instance_parent_workflow_instanceid"))
        batch_op.drop_index(batch_op.f("ix_workflow_instance_modified"))

    op.drop_table("workflow_instance")
    op.drop_table("workflow_errors")
    op.drop_table("user_roles")
    op.drop_table("steps")
    op.drop_table("service_state_data")
    op.drop_table("service_methods")
    op.drop_table("segment_dependencies")
    op.drop_table("role_permissions")
    op.drop_table("role_groups")
    op.drop_table("release_components")
    op.drop_table("permission_includes")
    with op.batch_alter_table("job_instance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_instance_jobstatus_sessionid"))
        batch_op.drop_index(batch_op.f("ix_job_instance_jobid_started"))

    op.drop_table("job_instance")
    op.drop_table("group_workflows")
    op.drop_table("group_services")
    op.drop_table("group_jobs")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_workflowid"))
        batch_op.drop_index(batch_op.f("ix_audit_events_workflow_instanceid"))
        batch_op.drop_index(batch_op.f("ix_audit_events_serviceid"))
        batch_op.drop_index(batch_op.f("ix_audit_events_related_audit_eventid"))
        batch_op.drop_index(batch_op.f("ix_audit_events_jobid"))
        batch_op.drop_index(batch_op.f("ix_audit_events_job_instanceid"))
        batch_op.drop_index(batch_op.f("ix_audit_events_created"))
        batch_op.drop_index(batch_op.f("ix_audit_events_audit_event_code"))

    op.drop_table("audit_events")
    with op.batch_alter_table("workflows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflows_name"))

    op.drop_table("workflows")
    op.drop_table("workflow_event_types")
    op.drop_table("users")
    op.drop_table("system_properties")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_sessionstatus"))
        batch_op.drop_index(batch_op.f("ix_sessions_instancekey_sessionstatus"))

    op.drop_table("sessions")
    op.drop_table("services")
    op.drop_table("roles")
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_releases_name"))

    op.drop_table("releases")
    op.drop_table("queues")
    op.drop_table("permissions")
    op.drop_table("jobs")
    op.drop_table("groups")
    op.drop_table("global_workflow_errors")
    op.drop_table("error_files")
    op.drop_table("error_definitions")
    op.drop_table("classes")
    op.drop_table("audit_event_codes")
