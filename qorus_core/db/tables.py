"""The system schema: the one definition of every table (SQLAlchemy Core, one ``MetaData``).

Alembic migrations in ``schema/`` must produce exactly this (a test compares them). Status
columns hold the one-letter Qorus codes (see :mod:`qorus_core.model.status`); the API layer
turns them into names. Free-form data (static/dynamic data, options, info) is stored as JSON
text so it reads the same on every database.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

from qorus_core.db.types import ID, LongText, Text4000, Timestamp, identity

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _created() -> Column[object]:
    return Column("created", Timestamp, nullable=False)


def _modified() -> Column[object]:
    return Column("modified", Timestamp, nullable=True)


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
    Column("errors_name", String(160)),  # the errors definition file named by `errors:`
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

# the error definitions of each `type: errors` file, by file name; copied into workflow_errors
# for every workflow whose `errors:` names the file
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

# --------------------------------------------------------------------------- RBAC

permissions = Table(
    "permissions",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("permission_type", String(10), nullable=False),  # SYSTEM USER
    Column("description", String(240)),
    _created(),
    _modified(),
)

permission_includes = Table(
    "permission_includes",
    metadata,
    # an umbrella permission and one permission it includes
    Column("name", ForeignKey("permissions.name"), primary_key=True),
    Column("includes", ForeignKey("permissions.name"), primary_key=True),
)

roles = Table(
    "roles",
    metadata,
    Column("role", String(80), primary_key=True),
    Column("provider", String(40), nullable=False, default="db"),
    Column("description", String(240)),
    _created(),
    _modified(),
)

role_permissions = Table(
    "role_permissions",
    metadata,
    Column("role", ForeignKey("roles.role"), primary_key=True),
    Column("permission", ForeignKey("permissions.name"), primary_key=True),
)

users = Table(
    "users",
    metadata,
    Column("username", String(160), primary_key=True),
    Column("name", String(240)),  # the description shown for the user
    Column("password", String(400)),  # a slow hash, never clear text; NULL for external users
    Column("provider", String(40), nullable=False, default="db"),
    _created(),
    _modified(),
)

user_roles = Table(
    "user_roles",
    metadata,
    Column("username", ForeignKey("users.username"), primary_key=True),
    Column("role", ForeignKey("roles.role"), primary_key=True),
)

groups = Table(
    "groups",
    metadata,
    Column("groupid", ID, identity(), primary_key=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("description", Text4000),
    Column("enabled", Boolean, nullable=False, default=True),
    _created(),
    _modified(),
)

role_groups = Table(
    "role_groups",
    metadata,
    Column("role", ForeignKey("roles.role"), primary_key=True),
    Column("groupid", ForeignKey("groups.groupid"), primary_key=True),
)


def _group_members(kind: str, ref: str) -> Table:
    return Table(
        f"group_{kind}s",
        metadata,
        Column("groupid", ForeignKey("groups.groupid"), primary_key=True),
        Column(f"{kind}id", ForeignKey(ref), primary_key=True),
    )


group_workflows = _group_members("workflow", "workflows.workflowid")
group_services = _group_members("service", "services.serviceid")
group_jobs = _group_members("job", "jobs.jobid")
