"""The system schema: the one definition of every table (SQLAlchemy Core, one ``MetaData``).

Alembic migrations in ``qorus_core/db/migrations`` must produce exactly this (a test compares
them). Status columns hold the one-letter Qorus codes (see :mod:`qorus_core.model.status`);
the API layer turns them into names. Free-form data (static/dynamic data, options, info) is
stored as JSON text so it reads the same on every database.
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

from qorus_core.db.meta import NAMING_CONVENTION, metadata
from qorus_core.db.meta import created as _created
from qorus_core.db.meta import modified as _modified
from qorus_core.db.tables_orders import (
    audit_events,
    error_instance,
    order_feedback,
    order_instance,
    order_instance_keys,
    order_instance_notes,
    order_unique_keys,
    queue_data,
    segment_instance,
    sensitive_order_data,
    step_instance,
    step_instance_events,
    subworkflow_instance,
    workflow_events,
    workflow_instance,
)
from qorus_core.db.tables_rbac import (
    group_jobs,
    group_services,
    group_workflows,
    groups,
    permission_includes,
    permissions,
    role_groups,
    role_permissions,
    roles,
    user_roles,
    users,
)
from qorus_core.db.tables_releases import release_components, releases
from qorus_core.db.types import ID, LongText, Text4000, Timestamp, identity

# --------------------------------------------------------------------------- system

system_properties = Table(
    "system_properties",
    metadata,
    Column("domain", String(80), primary_key=True),
    Column("keyname", String(160), primary_key=True),
    Column("value", Text4000),
    _created(),
    _modified(),
)

sessions = Table(
    "sessions",
    metadata,
    Column("sessionid", ID, identity(), primary_key=True),
    Column("instancekey", String(80), nullable=False),
    Column("node", String(160), nullable=False),
    Column("hostname", String(160), nullable=False),
    Column("pid", Integer, nullable=False),
    # BOOT_ID:START_TICKS of pid (qorus_core.proc), so a zombie or a reused pid is not alive
    Column("pidstart", String(80)),
    Column("url", String(250)),
    Column("version", String(40)),
    # ACTIVE while running, CLOSED after a clean shutdown, RECOVERED after crash recovery
    Column("sessionstatus", String(20), nullable=False),
    Column("started", Timestamp, nullable=False),
    Column("heartbeat", Timestamp),
    Column("ended", Timestamp),
    Index(None, "instancekey", "sessionstatus"),
    Index(None, "sessionstatus"),
)

audit_event_codes = Table(
    "audit_event_codes",
    metadata,
    Column("audit_event_code", Integer, primary_key=True, autoincrement=False),
    Column("name", String(80), nullable=False, unique=True),
    Column("description", String(240)),
)

# --------------------------------------------------------------------------- definitions

classes = Table(
    "classes",
    metadata,
    Column("classid", ID, identity(), primary_key=True),
    Column("name", String(160), nullable=False),
    Column("version", String(80), nullable=False),
    Column("description", Text4000),
    Column("author", String(240)),
    Column("language", String(40), nullable=False, default="python"),
    Column("class_name", String(160)),
    Column("code", LongText),
    Column("source", Text4000),
    _created(),
    _modified(),
    UniqueConstraint("name", "version"),
)

queues = Table(
    "queues",
    metadata,
    Column("queueid", ID, identity(), primary_key=True),
    Column("name", String(160), nullable=False, unique=True),
    Column("description", Text4000),
    Column("source", Text4000),
    _created(),
    _modified(),
)

workflow_event_types = Table(
    "workflow_event_types",
    metadata,
    Column("workflow_event_typeid", ID, identity(), primary_key=True),
    Column("name", String(160), nullable=False, unique=True),
    Column("description", Text4000),
    Column("source", Text4000),
    _created(),
    _modified(),
)

steps = Table(
    "steps",
    metadata,
    Column("stepid", ID, identity(), primary_key=True),
    Column("name", String(160), nullable=False),
    Column("version", String(80), nullable=False),
    Column("description", Text4000),
    Column("author", String(240)),
    Column("steptype", String(20), nullable=False),  # NORMAL ASYNC SUBWORKFLOW EVENT
    Column("arraytype", String(20), nullable=False, default="NONE"),  # NONE SERIES
    Column("language", String(40), nullable=False, default="python"),
    Column("class_name", String(160)),
    Column("base_class_name", String(160)),
    Column("code", LongText),
    Column("classes", Text4000),  # JSON list of library class names
    Column("config_items", LongText),  # JSON
    Column("queueid", ForeignKey("queues.queueid")),
    Column("workflow_event_typeid", ForeignKey("workflow_event_types.workflow_event_typeid")),
    Column("source", Text4000),
    _created(),
    _modified(),
    UniqueConstraint("name", "version"),
)

workflows = Table(
    "workflows",
    metadata,
    Column("workflowid", ID, identity(), primary_key=True),
    Column("name", String(160), nullable=False),
    Column("version", String(80), nullable=False),
    Column("description", Text4000),
    Column("author", String(240)),
    Column("autostart", Integer, nullable=False, default=1),
    Column("max_instances", Integer),
    Column("sla_threshold", Integer, nullable=False, default=1800),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("deprecated", Boolean, nullable=False, default=False),
    Column("steps_def", LongText),  # JSON of the `steps` list as written
    Column("language", String(40), nullable=False, default="python"),
    Column("class_name", String(160)),
    Column("code", LongText),
    Column("classes", Text4000),
    Column("errors_name", String(160)),  # error_files.name of the file `errors:` names
    Column("options", LongText),  # JSON: name -> {desc, value}
    Column("staticdata_type", String(240)),
    Column("custom_statuses", LongText),  # JSON
    Column("config_items", LongText),
    Column("source", Text4000),
    _created(),
    _modified(),
    UniqueConstraint("name", "version"),
    Index(None, "name"),
)

workflow_steps = Table(
    "workflow_steps",
    metadata,
    Column("workflowid", ForeignKey("workflows.workflowid"), primary_key=True),
    Column("stepid", ForeignKey("steps.stepid"), primary_key=True),
    # 0 = no dependency (a first step); otherwise the step that must be COMPLETE first
    Column("dependson_stepid", ID, primary_key=True, autoincrement=False),
)

segment_steps = Table(
    "segment_steps",
    metadata,
    Column("workflowid", ForeignKey("workflows.workflowid"), primary_key=True),
    Column("stepid", ForeignKey("steps.stepid"), primary_key=True),
    Column("segmentid", Integer, nullable=False),
)

segment_dependencies = Table(
    "segment_dependencies",
    metadata,
    Column("workflowid", ForeignKey("workflows.workflowid"), primary_key=True),
    Column("segmentid", Integer, primary_key=True, autoincrement=False),
    Column("dependson_segmentid", Integer, primary_key=True, autoincrement=False),
)

workflow_keys = Table(
    "workflow_keys",
    metadata,
    Column("workflowid", ForeignKey("workflows.workflowid"), primary_key=True),
    Column("keyname", String(160), primary_key=True),
)

_error_columns = (
    ("description", Text4000),
    ("severity", String(20)),  # FATAL MAJOR MINOR WARNING INFO NONE
    ("status", String(20)),  # ERROR RETRY
    ("business", Boolean),
    ("retry_delay", Integer),
    ("level", String(20)),  # AUTO GLOBAL WORKFLOW
)

workflow_errors = Table(
    "workflow_errors",
    metadata,
    Column("workflowid", ForeignKey("workflows.workflowid"), primary_key=True),
    Column("error", String(240), primary_key=True),
    *(Column(n, t) for n, t in _error_columns),
    _created(),
    _modified(),
)

global_workflow_errors = Table(
    "global_workflow_errors",
    metadata,
    Column("error", String(240), primary_key=True),
    *(Column(n, t) for n, t in _error_columns),
    Column("builtin", Boolean, nullable=False, default=False),
    _created(),
    _modified(),
)

# one row per `type: errors` definition, also when its `errors:` list is empty; a workflow's
# `errors:` names it by its file (file_name: the base name of source) or by its name
error_files = Table(
    "error_files",
    metadata,
    Column("name", String(160), primary_key=True),
    Column("file_name", String(255), nullable=False),
    Column("description", Text4000),
    Column("source", Text4000),
    _created(),
    _modified(),
)

# the errors of each `type: errors` definition; copied into workflow_errors for every workflow
# whose `errors:` names it
error_definitions = Table(
    "error_definitions",
    metadata,
    Column("name", String(160), primary_key=True),
    Column("error", String(240), primary_key=True),
    *(Column(n, t) for n, t in _error_columns),
    Column("source", Text4000),
    _created(),
    _modified(),
)

services = Table(
    "services",
    metadata,
    Column("serviceid", ID, identity(), primary_key=True),
    Column("service_type", String(20), nullable=False),  # USER SYSTEM
    Column("name", String(160), nullable=False),
    Column("version", String(80), nullable=False),
    Column("description", Text4000),
    Column("author", String(240)),
    Column("autostart", Boolean, nullable=False, default=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("language", String(40), nullable=False, default="python"),
    Column("class_name", String(160)),
    Column("code", LongText),
    Column("classes", Text4000),
    Column("resources", LongText),  # JSON
    Column("config_items", LongText),
    Column("options", LongText),
    Column("source", Text4000),
    _created(),
    _modified(),
    UniqueConstraint("name", "version"),
)

service_methods = Table(
    "service_methods",
    metadata,
    Column("service_methodid", ID, identity(), primary_key=True),
    Column("serviceid", ForeignKey("services.serviceid"), nullable=False),
    Column("name", String(160), nullable=False),
    Column("description", Text4000),
    Column("locktype", String(20), nullable=False, default="none"),  # none read write
    Column("write", Boolean, nullable=False, default=False),
    Column("internal", Boolean, nullable=False, default=False),
    _created(),
    _modified(),
    UniqueConstraint("serviceid", "name"),
)

service_state_data = Table(
    "service_state_data",
    metadata,
    Column("serviceid", ForeignKey("services.serviceid"), primary_key=True),
    Column("data", LongText),
    _created(),
    _modified(),
)

jobs = Table(
    "jobs",
    metadata,
    Column("jobid", ID, identity(), primary_key=True),
    Column("name", String(160), nullable=False),
    Column("version", String(80), nullable=False),
    Column("description", Text4000),
    Column("author", String(240)),
    Column("active", Boolean, nullable=False, default=True),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("run_skipped", Boolean, nullable=False, default=False),
    Column("single_instance", Boolean, nullable=False, default=False),
    Column("expiry_date", Timestamp),
    # cron fields as written (minutes hours days months dow); NULL when `duration` is used
    Column("minute", String(240)),
    Column("hour", String(240)),
    Column("day", String(240)),
    Column("month", String(240)),
    Column("wday", String(240)),
    Column("recurring", Integer),  # seconds between runs (the `duration` schedule)
    Column("language", String(40), nullable=False, default="python"),
    Column("class_name", String(160)),
    Column("code", LongText),
    Column("classes", Text4000),
    Column("config_items", LongText),
    Column("sessionid", ID, nullable=False, default=0),
    Column("last_executed", Timestamp),
    Column("last_executed_job_instanceid", ID),
    Column("next_trigger", Timestamp),
    Column("persistent_state", LongText),
    Column("source", Text4000),
    _created(),
    _modified(),
    UniqueConstraint("name", "version"),
)

job_instance = Table(
    "job_instance",
    metadata,
    Column("job_instanceid", ID, identity(), primary_key=True),
    Column("jobid", ForeignKey("jobs.jobid"), nullable=False),
    Column("sessionid", ID, nullable=False),
    Column("jobstatus", String(1), nullable=False),  # C I E Z
    Column("info", LongText),
    Column("state_data", LongText),
    Column("started", Timestamp, nullable=False),
    Column("completed", Timestamp),
    _modified(),
    Index(None, "jobid", "started"),
    Index(None, "jobstatus", "sessionid"),
)

job_errors = Table(
    "job_errors",
    metadata,
    Column("job_errorid", ID, identity(), primary_key=True),
    Column("job_instanceid", ForeignKey("job_instance.job_instanceid"), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("error", String(240), nullable=False),
    Column("description", Text4000),
    Column("info", LongText),
    Column("business_error", Boolean, nullable=False, default=False),
    _created(),
    Index(None, "job_instanceid"),
)

__all__ = [
    "NAMING_CONVENTION",
    "audit_event_codes",
    "audit_events",
    "classes",
    "error_definitions",
    "error_files",
    "error_instance",
    "global_workflow_errors",
    "group_jobs",
    "group_services",
    "group_workflows",
    "groups",
    "job_errors",
    "job_instance",
    "jobs",
    "metadata",
    "order_feedback",
    "order_instance",
    "order_instance_keys",
    "order_instance_notes",
    "order_unique_keys",
    "permission_includes",
    "permissions",
    "queue_data",
    "queues",
    "release_components",
    "releases",
    "role_groups",
    "role_permissions",
    "roles",
    "segment_dependencies",
    "segment_instance",
    "segment_steps",
    "sensitive_order_data",
    "service_methods",
    "service_state_data",
    "services",
    "sessions",
    "step_instance",
    "step_instance_events",
    "steps",
    "subworkflow_instance",
    "system_properties",
    "user_roles",
    "users",
    "workflow_errors",
    "workflow_event_types",
    "workflow_events",
    "workflow_instance",
    "workflow_keys",
    "workflow_steps",
    "workflows",
]
