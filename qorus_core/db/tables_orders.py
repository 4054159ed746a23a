"""The system schema, part 2: orders (workflow instances and their data) and the audit table.

Imported by :mod:`qorus_core.db.tables`, which is where every table is used from.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from qorus_core.db.meta import created as _created
from qorus_core.db.meta import metadata
from qorus_core.db.meta import modified as _modified
from qorus_core.db.types import ID, LongText, Text4000, Timestamp, identity

# --------------------------------------------------------------------------- orders

workflow_instance = Table(
    "workflow_instance",
    metadata,
    Column("workflow_instanceid", ID, identity(), primary_key=True),
    Column("workflowid", ForeignKey("workflows.workflowid"), nullable=False),
    Column("workflowstatus", String(1), nullable=False),
    Column("workflowstatus_orig", String(1)),
    # the session that owns the order while IN-PROGRESS; 0 when nobody does
    Column("status_sessionid", ID, nullable=False, default=0),
    Column("parent_workflow_instanceid", ID),
    Column("subworkflow", Boolean, nullable=False, default=False),
    Column("synchronous", Boolean, nullable=False, default=False),
    Column("priority", Integer, nullable=False, default=500),
    Column("scheduled", Timestamp),
    # when a RETRY order becomes due again
    Column("retry_trigger", Timestamp),
    Column("retries", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),
    Column("warnings", Integer, nullable=False, default=0),
    Column("note_count", Integer, nullable=False, default=0),
    Column("business_error", Boolean, nullable=False, default=False),
    Column("custom_status", String(1)),
    Column("operator_lock", String(100)),
    Column("started", Timestamp, nullable=False),
    Column("completed", Timestamp),
    _modified(),
    # the claim query: due orders of one workflow by priority
    Index(None, "workflowid", "workflowstatus", "priority", "workflow_instanceid"),
    Index(None, "workflowstatus", "status_sessionid"),
    Index(None, "parent_workflow_instanceid"),
    Index(None, "modified"),
    Index(None, "started"),
)

order_instance = Table(
    "order_instance",
    metadata,
    Column(
        "workflow_instanceid",
        ForeignKey("workflow_instance.workflow_instanceid"),
        primary_key=True,
    ),
    Column("external_order_instanceid", String(240)),
    Column("staticdata", LongText),
    Column("dynamicdata", LongText),
    _created(),
    _modified(),
    Index(None, "external_order_instanceid"),
)

order_instance_keys = Table(
    "order_instance_keys",
    metadata,
    Column(
        "workflow_instanceid",
        ForeignKey("workflow_instance.workflow_instanceid"),
        primary_key=True,
    ),
    Column("keyname", String(160), primary_key=True),
    Column("value", String(400), primary_key=True),
    Column("workflowid", ID, nullable=False),
    _created(),
    Index(None, "keyname", "value"),
)

order_unique_keys = Table(
    "order_unique_keys",
    metadata,
    # G = global, N = per workflow name, W = per workflow id (name and version)
    Column("scope", String(1), primary_key=True),
    Column("scope_value", String(160), primary_key=True),
    Column("keyname", String(160), primary_key=True),
    Column("value", String(400), primary_key=True),
    Column(
        "workflow_instanceid",
        ForeignKey("workflow_instance.workflow_instanceid"),
        nullable=False,
    ),
    Index(None, "workflow_instanceid"),
)

order_instance_notes = Table(
    "order_instance_notes",
    metadata,
    Column("noteid", ID, identity(), primary_key=True),
    Column(
        "workflow_instanceid",
        ForeignKey("workflow_instance.workflow_instanceid"),
        nullable=False,
    ),
    Column("username", String(160)),
    Column("note", Text4000, nullable=False),
    _created(),
    _modified(),
    Index(None, "workflow_instanceid"),
)

sensitive_order_data = Table(
    "sensitive_order_data",
    metadata,
    Column(
        "workflow_instanceid",
        ForeignKey("workflow_instance.workflow_instanceid"),
        primary_key=True,
    ),
    Column("skey", String(160), primary_key=True),
    Column("svalue", String(400), primary_key=True),
    Column("data", LongText, nullable=False),  # encrypted, base64
    Column("iv", String(80), nullable=False),
    Column("mac", String(80), nullable=False),
    Column("meta", LongText),
    _created(),
    _modified(),
)

segment_instance = Table(
    "segment_instance",
    metadata,
    Column(
        "workflow_instanceid",
        ForeignKey("workflow_instance.workflow_instanceid"),
        primary_key=True,
    ),
    Column("segmentid", Integer, primary_key=True, autoincrement=False),
    Column("workflowid", ID, nullable=False),
    Column("segmentstatus", String(1), nullable=False),
    Column("custom_status", String(1)),
    Column("retry_trigger", Timestamp),
    _created(),
    _modified(),
    Index(None, "segmentstatus", "retry_trigger"),
)

step_instance = Table(
    "step_instance",
    metadata,
    Column(
        "workflow_instanceid",
        ForeignKey("workflow_instance.workflow_instanceid"),
        primary_key=True,
    ),
    Column("stepid", ForeignKey("steps.stepid"), primary_key=True),
    Column("ind", Integer, primary_key=True, autoincrement=False),
    Column("stepstatus", String(1), nullable=False),
    Column("retries", Integer, nullable=False, default=0),
    Column("skip", Boolean, nullable=False, default=False),
    Column("custom_status", String(1)),
    Column("started", Timestamp, nullable=False),
    Column("completed", Timestamp),
)

error_instance = Table(
    "error_instance",
    metadata,
    Column("error_instanceid", ID, identity(), primary_key=True),
    Column(
        "workflow_instanceid",
        ForeignKey("workflow_instance.workflow_instanceid"),
        nullable=False,
    ),
    Column("stepid", ID),
    Column("ind", Integer),
    Column("severity", String(20), nullable=False),
    Column("retry", Boolean, nullable=False, default=False),
    Column("error", String(240), nullable=False),
    Column("description", Text4000),
    Column("info", LongText),
    Column("business_error", Boolean, nullable=False, default=False),
    _created(),
    Index(None, "workflow_instanceid"),
)

queue_data = Table(
    "queue_data",
    metadata,
    Column("queue_dataid", ID, identity(), primary_key=True),
    Column("queueid", ForeignKey("queues.queueid"), nullable=False),
    Column(
        "workflow_instanceid",
        ForeignKey("workflow_instance.workflow_instanceid"),
        nullable=False,
    ),
    Column("stepid", ID, nullable=False),
    Column("ind", Integer, nullable=False),
    Column("queuekey", String(240), nullable=False),
    Column("queue_data_status", String(1), nullable=False),  # W waiting, R received, X canceled
    Column("data", LongText),
    _created(),
    _modified(),
    UniqueConstraint("queueid", "queuekey"),
    Index(None, "workflow_instanceid", "stepid", "ind"),
)

# the workflow synchronization events: one row per (event type, key), posted or only bound
workflow_events = Table(
    "workflow_events",
    metadata,
    Column(
        "workflow_event_typeid",
        ForeignKey("workflow_event_types.workflow_event_typeid"),
        primary_key=True,
    ),
    Column("eventkey", String(240), primary_key=True),
    Column("posted", Boolean, nullable=False, default=False),
    _created(),
    _modified(),
)

# which EVENT step instance waits on which event
step_instance_events = Table(
    "step_instance_events",
    metadata,
    Column(
        "workflow_instanceid",
        ForeignKey("workflow_instance.workflow_instanceid"),
        primary_key=True,
    ),
    Column("stepid", ID, primary_key=True, autoincrement=False),
    Column("ind", Integer, primary_key=True, autoincrement=False),
    Column("workflow_event_typeid", ID, nullable=False),
    Column("eventkey", String(240), nullable=False),
    _created(),
    Index(None, "workflow_event_typeid", "eventkey"),
)

# the child order bound to a SUBWORKFLOW step instance
subworkflow_instance = Table(
    "subworkflow_instance",
    metadata,
    Column(
        "workflow_instanceid",
        ForeignKey("workflow_instance.workflow_instanceid"),
        primary_key=True,
    ),
    Column("stepid", ID, primary_key=True, autoincrement=False),
    Column("ind", Integer, primary_key=True, autoincrement=False),
    Column("subworkflow_instanceid", ID, nullable=False, unique=True),
    _created(),
)

# feedback a child order leaves for its parent (``leaveParentFeedback``)
order_feedback = Table(
    "order_feedback",
    metadata,
    Column(
        "workflow_instanceid",
        ForeignKey("workflow_instance.workflow_instanceid"),
        primary_key=True,
    ),
    Column("feedback_key", String(160), primary_key=True),
    Column("child_workflow_instanceid", ID, nullable=False),
    Column("value", LongText),
    _created(),
    _modified(),
)

# --------------------------------------------------------------------------- audit

audit_events = Table(
    "audit_events",
    metadata,
    Column("audit_eventid", ID, identity(), primary_key=True),
    Column("related_audit_eventid", ID),
    Column("workflowid", ID),
    Column("workflow_instanceid", ID),
    Column("stepid", ID),
    Column("ind", Integer),
    Column("jobid", ID),
    Column("job_instanceid", ID),
    Column("serviceid", ID),
    Column(
        "audit_event_code",
        ForeignKey("audit_event_codes.audit_event_code"),
        nullable=False,
    ),
    Column("audit_user_event", String(80)),
    Column("reason", Text4000),
    Column("who", Text4000),
    Column("source", Text4000),
    Column("info1", Text4000),
    Column("info2", Text4000),
    _created(),
    Index(None, "related_audit_eventid"),
    Index(None, "workflowid"),
    Index(None, "workflow_instanceid"),
    Index(None, "jobid"),
    Index(None, "job_instanceid"),
    Index(None, "serviceid"),
    Index(None, "audit_event_code"),
    Index(None, "created"),
)
