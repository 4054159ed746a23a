"""Options of the running system: identity, database, pools, HTTP, request limits, the
workflow engine, services, events and audit."""

from __future__ import annotations

from qorus_core.options.declare import AUDIT_CODES, STARTUP_ONLY, opt

# --- identity, database, files ---------------------------------------------------------------
opt(
    "instance-key",
    "string",
    "qorus-test-instance",
    "unique name of this instance; written in the application session table",
    **STARTUP_ONLY,
)
opt(
    "systemdb",
    "string",
    None,
    "system datasource, Qore form driver:user/pass@db%host:port or an SQLAlchemy URL",
    default_text="embedded SQLite at $OMQ_DIR/var/qorus.sqlite",
    **STARTUP_ONLY,
)
opt(
    "node",
    "string",
    None,
    "name of this node when several nodes share one database",
    default_text="the host name",
    **STARTUP_ONLY,
)
opt(
    "auto-recover",
    "bool",
    True,
    "recover a crashed application session: this node's at start-up, and, while running, "
    "another node's once its heartbeat is older than session-stale-timeout",
)
opt(
    "daemon-mode",
    "bool",
    True,
    "run in the background after start-up; false stays in front",
    **STARTUP_ONLY,
)
opt(
    "logdir",
    "string",
    None,
    "directory of every log file",
    default_text="$OMQ_DIR/log",
    **STARTUP_ONLY,
)
opt("max-log-files", "int", 10, "rotated log files kept per log", min=0)
opt("logfile-template", "string", "OMQ-$instance-$name.log", "file name of the system log")
opt(
    "wf-logfile-template",
    "string",
    "OMQ-$instance-WF-$name.log",
    "file name of each workflow's log",
)
opt(
    "svc-logfile-template",
    "string",
    "OMQ-$instance-SVC-$name.log",
    "file name of each service's log",
)
opt("job-logfile-template", "string", "OMQ-$instance-JOB-$name.log", "file name of each job's log")
opt(
    "system-pool-minimum", "int", 3, "connections the system pool keeps open", min=1, **STARTUP_ONLY
)
opt(
    "system-pool-maximum",
    "int",
    40,
    "most connections the system pool opens",
    min=1,
    **STARTUP_ONLY,
)
opt(
    "db-max-threads",
    "int",
    30,
    "threads for parallel database work such as recovery; below system-pool-maximum",
    min=1,
    **STARTUP_ONLY,
)
opt(
    "dsp-warning-timeout",
    "int",
    5000,
    "milliseconds waiting for a pooled connection before a transient alert",
    min=0,
)
opt(
    "dsp-error-timeout",
    "int",
    120000,
    "milliseconds waiting for a pooled connection before an error",
    min=1,
)
opt(
    "sql-default-blocksize", "int", 5000, "rows per batch for recovery and workflow start-up", min=1
)
opt(
    "sql-init-blocksize",
    "int",
    200,
    "rows in the first batch a workflow claims so that work starts at once",
    min=1,
)

# --- pools and database outages (issue 10: items 1 and 8) ------------------------------------
opt(
    "api-pool-maximum",
    "int",
    0,
    "connections of system-pool-maximum kept for API requests and logins, apart from the "
    "engine's; 0: a quarter of system-pool-maximum, at least 2",
    min=0,
    max=1000,
    **STARTUP_ONLY,
)
opt(
    "api-pool-timeout",
    "int",
    5,
    "seconds an API request waits for a free database connection before it answers 503 "
    "DB-POOL-EXHAUSTED",
    min=1,
    max=300,
    **STARTUP_ONLY,
)
opt(
    "workflow-max-instances",
    "int",
    10,
    "most execution instances of one workflow on this node; a start beyond it is refused",
    min=1,
    max=1000,
)
opt(
    "engine-db-retry-max",
    "int",
    30,
    "most seconds the engine waits between attempts while the system datasource fails (the "
    "wait doubles from half a second up to this)",
    min=1,
    max=3600,
)
opt(
    "stuck-order-timeout",
    "int",
    600,
    "seconds an order may stay IN-PROGRESS before system/health turns YELLOW; 0: never",
    min=0,
    max=604800,
)

# --- HTTP ------------------------------------------------------------------------------------
opt(
    "http-server",
    "list",
    ["8001"],
    "plain HTTP listeners: a port, host:port or a unix socket path; several comma-separated",
    **STARTUP_ONLY,
)
opt(
    "http-secure-server",
    "list",
    [],
    "TLS listeners like http-server; each may add {cert=..;key=..;password=..}",
    **STARTUP_ONLY,
)
opt(
    "http-secure-certificate",
    "string",
    None,
    "PEM certificate file for the TLS listeners",
    **STARTUP_ONLY,
)
opt(
    "http-secure-private-key",
    "string",
    None,
    "PEM private key file, when the certificate file lacks the key",
    **STARTUP_ONLY,
)
opt(
    "http-secure-private-key-password",
    "string",
    None,
    "password of the PEM private key",
    secret=True,
    **STARTUP_ONLY,
)
opt("cors-enable", "bool", False, "answer cross-origin (CORS) requests")
opt("cors-allow-origin", "list", ["*"], "origins allowed by CORS; * allows any")
opt(
    "cors-allow-methods",
    "list",
    ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
    "HTTP methods allowed by CORS",
)
opt(
    "cors-allow-headers",
    "list",
    ["Content-Type", "Authorization", "Qorus-Token"],
    "request headers allowed by CORS",
)
opt("cors-allow-credentials", "bool", False, "let CORS requests carry credentials")
opt("cors-max-age", "int", 3600, "seconds a browser may cache a CORS preflight answer", min=0)

# --- HTTP request limits (hostile input) -----------------------------------------------------
opt(
    "http-max-body-size",
    "int",
    8 * 1024 * 1024,
    "largest request body in bytes, also once decompressed; a larger one is answered 413",
    min=1024,
)
opt(
    "http-max-body-nodes",
    "int",
    500_000,
    "most values, keys and list elements in a JSON, YAML or XML request body, YAML aliases "
    "counted as expanded; more is answered 400",
    min=1,
)
opt(
    "http-max-body-depth",
    "int",
    100,
    "deepest nesting of lists and hashes in a request body; deeper is answered 400",
    min=1,
    max=500,
)
opt(
    "http-body-timeout",
    "int",
    60,
    "seconds a client may take to send a request body; slower is answered 408",
    min=1,
)
opt(
    "rpc-max-batch",
    "int",
    1000,
    "most requests in one JSON-RPC batch; a larger batch is refused whole (-32600) and none "
    "of its requests runs",
    min=1,
)
opt(
    "http-header-timeout",
    "int",
    10,
    "seconds a client may take to send a request's headers before its connection is closed",
    min=1,
    **STARTUP_ONLY,
)
opt(
    "http-max-connections",
    "int",
    1000,
    "open connections per HTTP listener; a connection over it is answered 503 and closed",
    min=1,
    **STARTUP_ONLY,
)

# --- workflow engine -------------------------------------------------------------------------
opt("max-retries", "int", 5, "retries of a step before it gets status ERROR", min=0)
opt(
    "max-async-retries",
    "int",
    20,
    "retries of an ASYNC-WAITING step before it gets status ERROR",
    min=0,
)
opt(
    "recover_delay",
    "int",
    300,
    "seconds between automatic retries of RETRY steps",
    aliases=("recover-delay",),
    min=0,
)
opt(
    "async_delay",
    "int",
    1200,
    "seconds between automatic retries of ASYNC-WAITING steps",
    aliases=("async-delay",),
    min=0,
)
opt("detach-delay", "int", 3600, "seconds an idle order stays in the order cache", min=0)
opt("sync-delay", "int", 3600, "seconds a workflow synchronization event stays cached", min=0)
opt(
    "synchronous-wait-timeout",
    "int",
    60,
    "seconds a synchronous execution waits on an order whose steps wait (ASYNC-WAITING, "
    "EVENT-WAITING, WAITING) before it answers with the order's status",
    min=0,
    max=86400,
)
opt("cache-max", "int", 50000, "most orders held in the order cache", min=1)
opt(
    "workflow-workers",
    "int",
    2,
    "number of worker threads per workflow execution instance",
    min=1,
    max=1000,
)
opt(
    "workflow-commit-slots",
    "int",
    0,
    "most step transactions an execution instance has in flight at once; the step commits "
    "of its other workers share them (group commit: fewer commits, each step still committed "
    "before its order goes on); 0: one per worker, nothing shared",
    min=0,
    max=1000,
)
opt(
    "heartbeat-interval",
    "int",
    10,
    "seconds between application session heartbeats",
    min=1,
    max=3600,
)
opt(
    "session-stale-timeout",
    "int",
    0,
    "seconds without a heartbeat after which another node's session counts as dead and a "
    "live node recovers it (with auto-recover); keep it well above heartbeat-interval; "
    "0: three heartbeat intervals",
    min=0,
    max=86400,
)
opt(
    "workflow-params",
    "hash",
    {},
    "per-workflow option overrides keyed name:version:option (version may be *)",
)
opt(
    "auto-error-update",
    "bool",
    True,
    "update global error definitions from the ones a workflow declares",
)
opt(
    "autostart-interfaces",
    "bool",
    True,
    "start autostart workflows, services and jobs when the system starts",
)
opt(
    "manage-interfaces",
    "bool",
    True,
    "stop and start interfaces as the connections they depend on go down and up",
)
opt(
    "vmap-size-threshold",
    "int",
    100,
    "value maps up to this size are cached whole on first use",
    min=0,
)
opt(
    "workflow-step-perf-events",
    "bool",
    False,
    "emit a performance event for every step run (slows steps down)",
)
opt(
    "recovery-amount",
    "int",
    750,
    "money saved per automatically recovered order, for the savings estimate",
    min=0,
)
opt("recovery-currency", "string", "USD", "currency of recovery-amount")

# --- services, events, audit, alerts ---------------------------------------------------------
opt(
    "max-service-threads",
    "int",
    200,
    "most method calls and threads running at once in one service; one more waits up to "
    "30 s for one to end, then fails with SERVICE-THREAD-LIMIT",
    min=1,
)
opt(
    "service-perf-events",
    "bool",
    False,
    "emit a performance event for every service call (slows calls down)",
)
opt("max-events", "int", 10000, "system events kept in memory for event clients", min=1)
opt(
    "sla-max-events",
    "int",
    100,
    "SLA events buffered in memory before they are written to the database",
    min=1,
)
opt(
    "audit",
    "list",
    [],
    "what to write to the audit table: a list of audit codes, * for all of them",
    choices=AUDIT_CODES,
)
opt("transient-alert-max", "int", 1000, "transient alerts kept in memory", min=0)
opt(
    "alert-fs-full",
    "int",
    85,
    "raise an ongoing alert when a watched filesystem is fuller than this percent",
    min=1,
    max=100,
)
opt("alert-smtp-connection", "string", None, "name of the SMTP connection for alert mail")
opt("alert-smtp-to", "list", [], "recipients of alert mail")
opt("alert-smtp-from", "string", "alert_noreply@$instance", "sender of alert mail")
opt("alert-smtp-interval", "int", 60, "seconds over which alerts are gathered into one mail", min=1)
opt("alert-smtp-enable", "bool", False, "send alert mail")
opt("debug-system", "bool", False, "log the system's own debugging messages", **STARTUP_ONLY)
opt("defines", "hash", {}, "named values visible to interface code, e.g. {DEBUG=1}")
