"""waiting steps: events, sub-workflows, feedback

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 08:18:58.354894
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, oracle

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "workflow_events",
        sa.Column(
            "workflow_event_typeid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("eventkey", sa.String(length=240), nullable=False),
        sa.Column("posted", sa.Boolean(), nullable=False),
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
            ["workflow_event_typeid"],
            ["workflow_event_types.workflow_event_typeid"],
            name=op.f("fk_workflow_events_workflow_event_typeid_workflow_event_types"),
        ),
        sa.PrimaryKeyConstraint(
            "workflow_event_typeid", "eventkey", name=op.f("pk_workflow_events")
        ),
    )
    op.create_table(
        "order_feedback",
        sa.Column(
            "workflow_instanceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("feedback_key", sa.String(length=160), nullable=False),
        sa.Column(
            "child_workflow_instanceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "value",
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
            name=op.f("fk_order_feedback_workflow_instanceid_workflow_instance"),
        ),
        sa.PrimaryKeyConstraint(
            "workflow_instanceid", "feedback_key", name=op.f("pk_order_feedback")
        ),
    )
    op.create_table(
        "step_instance_events",
        sa.Column(
            "workflow_instanceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "stepid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("ind", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "workflow_event_typeid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("eventkey", sa.String(length=240), nullable=False),
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
            name=op.f("fk_step_instance_events_workflow_instanceid_workflow_instance"),
        ),
        sa.PrimaryKeyConstraint(
            "workflow_instanceid", "stepid", "ind", name=op.f("pk_step_instance_events")
        ),
    )
    with op.batch_alter_table("step_instance_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_step_instance_events_workflow_event_typeid_eventkey"),
            ["workflow_event_typeid", "eventkey"],
            unique=False,
        )

    op.create_table(
        "subworkflow_instance",
        sa.Column(
            "workflow_instanceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "stepid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("ind", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "subworkflow_instanceid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
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
        sa.ForeignKeyConstraint(
            ["workflow_instanceid"],
            ["workflow_instance.workflow_instanceid"],
            name=op.f("fk_subworkflow_instance_workflow_instanceid_workflow_instance"),
        ),
        sa.PrimaryKeyConstraint(
            "workflow_instanceid", "stepid", "ind", name=op.f("pk_subworkflow_instance")
        ),
        sa.UniqueConstraint(
            "subworkflow_instanceid", name=op.f("uq_subworkflow_instance_subworkflow_instanceid")
        ),
    )


def downgrade() -> None:

    op.drop_table("subworkflow_instance")
    with op.batch_alter_table("step_instance_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_step_instance_events_workflow_event_typeid_eventkey"))

    op.drop_table("step_instance_events")
    op.drop_table("order_feedback")
    op.drop_table("workflow_events")
