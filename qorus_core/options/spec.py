"""The one table of every option: name, type, default, limits and a line of help.

Everything else (the parser, ``qorus -l``, ``etc/options.example``, the REST option calls)
reads this table, so an option is declared exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qorus_core.secrets import register_secret_names

DOMAINS: tuple[str, ...] = ("qorus", "qorus-client", "ldap")
"""Option domains, in the order they are listed; ``qorus`` is the default one."""

TYPES: tuple[str, ...] = ("bool", "int", "string", "list", "hash")

AUDIT_CODES: tuple[str, ...] = (
    "system",
    "workflows",
    "workflow-data",
    "jobs",
    "job-data",
    "services",
    "api",
    "api-read",
    "user-events",
    "oload",
    "alerts",
    "groups",
    "*",
)


@dataclass(frozen=True)
class OptionSpec:
    """One option. ``name`` is the short name; ``full_name`` adds the domain.

    ``default_text`` explains a ``None`` default that the system resolves at run time
    (for example the embedded database). ``secret`` values are masked when shown.
    """

    name: str
    domain: str
    type: str
    default: Any
    desc: str
    aliases: tuple[str, ...] = ()
    startup_only: bool = False
    min: int | None = None
    max: int | None = None
    choices: tuple[str, ...] | None = None
    default_text: str | None = None
    secret: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.domain}.{self.name}"

    def __post_init__(self) -> None:
        if self.domain not in DOMAINS:
            raise ValueError(f"bad domain {self.domain!r} for option {self.name!r}")
        if self.type not in TYPES:
            raise ValueError(f"bad type {self.type!r} for option {self.name!r}")


_TABLE: list[OptionSpec] = []


def _opt(name: str, type_: str, default: Any, desc: str, **kw: Any) -> None:
    domain = kw.pop("domain", "qorus")
    _TABLE.append(
        OptionSpec(name=name, domain=domain, type=type_, default=default, desc=desc, **kw)
    )


def _client(name: str, type_: str, default: Any, desc: str, **kw: Any) -> None:
    _opt(name, type_, default, desc, domain="qorus-client", **kw)


def _ldap(name: str, type_: str, default: Any, desc: str, **kw: Any) -> None:
    _opt(name, type_, default, desc, domain="ldap", **kw)


_S = {"startup_only": True}

# --- identity, database, files ---------------------------------------------------------------
_opt(
    "instance-key",
    "string",
    "qorus-test-instance",
    "unique name of this instance; written in the application session table",
    **_S,
)
_opt(
    "systemdb",
    "string",
    None,
    "system datasource, Qore form driver:user/pass@db%host:port or an SQLAlchemy URL",
    default_text="embedded SQLite at $OMQ_DIR/var/qorus.sqlite",
    **_S,
)
_opt(
    "node",
    "string",
    None,
    "name of this node when several nodes share one database",
    default_text="the host name",
    **_S,
)
_opt(
    "auto-recover",
    "bool",
    True,
    "recover a crashed application session: this node's at start-up, and, while running, "
    "another node's once its heartbeat is older than session-stale-timeout",
)
_opt(
    "daemon-mode", "bool", True, "run in the background after start-up; false stays in front", **_S
)
_opt("logdir", "string", None, "directory of every log file", default_text="$OMQ_DIR/log", **_S)
_opt("max-log-files", "int", 10, "rotated log files kept per log", min=0)
_opt("logfile-template", "string", "OMQ-$instance-$name.log", "file name of the system log")
_opt(
    "wf-logfile-template",
    "string",
    "OMQ-$instance-WF-$name.log",
    "file name of each workflow's log",
)
_opt(
    "svc-logfile-template",
    "string",
    "OMQ-$instance-SVC-$name.log",
    "file name of each service's log",
)
_opt("job-logfile-template", "string", "OMQ-$instance-JOB-$name.log", "file name of each job's log")
_opt("system-pool-minimum", "int", 3, "connections the system pool keeps open", min=1, **_S)
_opt("system-pool-maximum", "int", 40, "most connections the system pool opens", min=1, **_S)
_opt(
    "db-max-threads",
    "int",
    30,
    "threads for parallel database work such as recovery; below system-pool-maximum",
    min=1,
    **_S,
)
_opt(
    "dsp-warning-timeout",
    "int",
    5000,
    "milliseconds waiting for a pooled connection before a transient alert",
    min=0,
)
_opt(
    "dsp-error-timeout",
    "int",
    120000,
    "milliseconds waiting for a pooled connection before an error",
    min=1,
)
_opt(
    "sql-default-blocksize", "int", 5000, "rows per batch for recovery and workflow start-up", min=1
)
_opt(
    "sql-init-blocksize",
    "int",
    200,
    "rows in the first batch a workflow claims so that work starts at once",
    min=1,
)

# --- pools and database outages (issue 10: items 1 and 8) ------------------------------------
_opt(
    "api-pool-maximum",
    "int",
    0,
    "connections of system-pool-maximum kept for API requests and logins, apart from the "
    "engine's; 0: a quarter of system-pool-maximum, at least 2",
    min=0,
    max=1000,
    **_S,
)
_opt(
    "api-pool-timeout",
    "int",
    5,
    "seconds an API request waits for a free database connection before it answers 503 "
    "DB-POOL-EXHAUSTED",
    min=1,
    max=300,
    **_S,
)
_opt(
    "workflow-max-instances",
    "int",
    10,
    "most execution instances of one workflow on this node; a start beyond it is refused",
    min=1,
    max=1000,
)
_opt(
    "engine-db-retry-max",
    "int",
    30,
    "most seconds the engine waits between attempts while the system datasource fails (the "
    "wait doubles from half a second up to this)",
    min=1,
    max=3600,
)
_opt(
    "stuck-order-timeout",
    "int",
    600,
    "seconds an order may stay IN-PROGRESS before system/health turns YELLOW; 0: never",
    min=0,
    max=604800,
)

# --- HTTP ------------------------------------------------------------------------------------
_opt(
    "http-server",
    "list",
    ["8001"],
    "plain HTTP listeners: a port, host:port or a unix socket path; several comma-separated",
    **_S,
)
_opt(
    "http-secure-server",
    "list",
    [],
    "TLS listeners like http-server; each may add {cert=..;key=..;password=..}",
    **_S,
)
_opt("http-secure-certificate", "string", None, "PEM certificate file for the TLS listeners", **_S)
_opt(
    "http-secure-private-key",
    "string",
    None,
    "PEM private key file, when the certificate file lacks the key",
    **_S,
)
_opt(
    "http-secure-private-key-password",
    "string",
    None,
    "password of the PEM private key",
    secret=True,
    **_S,
)
_opt("cors-enable", "bool", False, "answer cross-origin (CORS) requests")
_opt("cors-allow-origin", "list", ["*"], "origins allowed by CORS; * allows any")
_opt(
    "cors-allow-methods",
    "list",
    ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
    "HTTP methods allowed by CORS",
)
_opt(
    "cors-allow-headers",
    "list",
    ["Content-Type", "Authorization", "Qorus-Token"],
    "request headers allowed by CORS",
)
_opt("cors-allow-credentials", "bool", False, "let CORS requests carry credentials")
_opt("cors-max-age", "int", 3600, "seconds a browser may cache a CORS preflight answer", min=0)

# --- HTTP request limits (hostile input) -----------------------------------------------------
_opt(
    "http-max-body-size",
    "int",
    8 * 1024 * 1024,
    "largest request body in bytes, also once decompressed; a larger one is answered 413",
    min=1024,
)
_opt(
    "http-max-body-nodes",
    "int",
    500_000,
    "most values, keys and list elements in a JSON, YAML or XML request body, YAML aliases "
    "counted as expanded; more is answered 400",
    min=1,
)
_opt(
    "http-max-body-depth",
    "int",
    100,
    "deepest nesting of lists and hashes in a request body; deeper is answered 400",
    min=1,
    max=500,
)
_opt(
    "http-body-timeout",
    "int",
    60,
    "seconds a client may take to send a request body; slower is answered 408",
    min=1,
)
_opt(
    "http-header-timeout",
    "int",
    10,
    "seconds a client may take to send a request's headers before its connection is closed",
    min=1,
    **_S,
)
_opt(
    "http-max-connections",
    "int",
    1000,
    "open connections per HTTP listener; a connection over it is answered 503 and closed",
    min=1,
    **_S,
)

# --- workflow engine -------------------------------------------------------------------------
_opt("max-retries", "int", 5, "retries of a step before it gets status ERROR", min=0)
_opt(
    "max-async-retries",
    "int",
    20,
    "retries of an ASYNC-WAITING step before it gets status ERROR",
    min=0,
)
_opt(
    "recover_delay",
    "int",
    300,
    "seconds between automatic retries of RETRY steps",
    aliases=("recover-delay",),
    min=0,
)
_opt(
    "async_delay",
    "int",
    1200,
    "seconds between automatic retries of ASYNC-WAITING steps",
    aliases=("async-delay",),
    min=0,
)
_opt("detach-delay", "int", 3600, "seconds an idle order stays in the order cache", min=0)
_opt("sync-delay", "int", 3600, "seconds a workflow synchronization event stays cached", min=0)
_opt("cache-max", "int", 50000, "most orders held in the order cache", min=1)
_opt(
    "workflow-workers",
    "int",
    2,
    "number of worker threads per workflow execution instance",
    min=1,
    max=1000,
)
_opt(
    "heartbeat-interval",
    "int",
    10,
    "seconds between application session heartbeats",
    min=1,
    max=3600,
)
_opt(
    "session-stale-timeout",
    "int",
    0,
    "seconds without a heartbeat after which another node's session counts as dead and a "
    "live node recovers it (with auto-recover); keep it well above heartbeat-interval; "
    "0: three heartbeat intervals",
    min=0,
    max=86400,
)
_opt(
    "workflow-params",
    "hash",
    {},
    "per-workflow option overrides keyed name:version:option (version may be *)",
)
_opt(
    "auto-error-update",
    "bool",
    True,
    "update global error definitions from the ones a workflow declares",
)
_opt(
    "autostart-interfaces",
    "bool",
    True,
    "start autostart workflows, services and jobs when the system starts",
)
_opt(
    "manage-interfaces",
    "bool",
    True,
    "stop and start interfaces as the connections they depend on go down and up",
)
_opt(
    "vmap-size-threshold",
    "int",
    100,
    "value maps up to this size are cached whole on first use",
    min=0,
)
_opt(
    "workflow-step-perf-events",
    "bool",
    False,
    "emit a performance event for every step run (slows steps down)",
)
_opt(
    "recovery-amount",
    "int",
    750,
    "money saved per automatically recovered order, for the savings estimate",
    min=0,
)
_opt("recovery-currency", "string", "USD", "currency of recovery-amount")

# --- services, events, audit, alerts ---------------------------------------------------------
_opt("max-service-threads", "int", 200, "most threads one service may start", min=1)
_opt(
    "service-perf-events",
    "bool",
    False,
    "emit a performance event for every service call (slows calls down)",
)
_opt("max-events", "int", 10000, "system events kept in memory for event clients", min=1)
_opt(
    "sla-max-events",
    "int",
    100,
    "SLA events buffered in memory before they are written to the database",
    min=1,
)
_opt(
    "audit",
    "list",
    [],
    "what to write to the audit table: a list of audit codes, * for all of them",
    choices=AUDIT_CODES,
)
_opt("transient-alert-max", "int", 1000, "transient alerts kept in memory", min=0)
_opt(
    "alert-fs-full",
    "int",
    85,
    "raise an ongoing alert when a watched filesystem is fuller than this percent",
    min=1,
    max=100,
)
_opt("alert-smtp-connection", "string", None, "name of the SMTP connection for alert mail")
_opt("alert-smtp-to", "list", [], "recipients of alert mail")
_opt("alert-smtp-from", "string", "alert_noreply@$instance", "sender of alert mail")
_opt(
    "alert-smtp-interval", "int", 60, "seconds over which alerts are gathered into one mail", min=1
)
_opt("alert-smtp-enable", "bool", False, "send alert mail")
_opt("debug-system", "bool", False, "log the system's own debugging messages", **_S)
_opt("defines", "hash", {}, "named values visible to interface code, e.g. {DEBUG=1}")

# --- security --------------------------------------------------------------------------------
_opt("rbac-security", "bool", False, "require a login and check permissions on every call", **_S)
_opt(
    "rbac-force-user",
    "list",
    [],
    "host-or-ip-pattern=user pairs: requests from matching hosts act as that user "
    "(wildcards like 192.168.*)",
)
_opt(
    "rbac-external",
    "list",
    [],
    "external authenticators tried after the local users, e.g. QorusLdapAuth",
)
_opt("rbac-token-expiration", "int", 86400, "seconds a login token stays valid", min=1)
# login throttling and the password-hashing pool (see docs/operator-guide.md, Logins)
_opt(
    "rbac-login-max-failures",
    "int",
    5,
    "failed logins from one client address within rbac-login-failure-window before that "
    "address is refused (HTTP 429) for rbac-login-lock-time seconds; 0: no limit",
    min=0,
)
_opt(
    "rbac-login-failure-window",
    "int",
    300,
    "seconds over which failed logins are counted for rbac-login-max-failures and "
    "rbac-login-user-max-failures",
    min=1,
)
_opt(
    "rbac-login-lock-time",
    "int",
    300,
    "seconds a client address is refused after rbac-login-max-failures failed logins",
    min=1,
)
_opt(
    "rbac-login-user-max-failures",
    "int",
    20,
    "failed logins for one user name, from any address, within rbac-login-failure-window "
    "before the name is locked for rbac-login-user-lock-time seconds (not for addresses "
    "where that user logged in lately); 0: no limit",
    min=0,
)
_opt(
    "rbac-login-user-lock-time",
    "int",
    30,
    "seconds a user name is locked after rbac-login-user-max-failures failed logins",
    min=1,
)
_opt(
    "rbac-login-threads",
    "int",
    2,
    "threads that check passwords (argon2), apart from the threads serving requests",
    min=1,
    max=64,
    **_S,
)
_opt(
    "rbac-login-queue",
    "int",
    32,
    "password checks that may wait for a login thread; more are refused at once (HTTP 503)",
    min=0,
    max=10000,
    **_S,
)
_opt("password-policy-min-length", "int", 8, "shortest password accepted for a local user", min=0)
_opt(
    "password-policy-mixed-case", "bool", False, "passwords need both upper- and lower-case letters"
)
_opt("password-policy-numbers", "bool", False, "passwords need a digit")
_opt(
    "password-policy-symbols",
    "bool",
    False,
    "passwords need a character that is no letter or digit",
)
_opt(
    "sensitive-data-key",
    "string",
    None,
    "file of the 32-byte key that encrypts sensitive order data",
    default_text="$OMQ_DIR/etc/sensitive_data.key",
    **_S,
)
_opt(
    "sensitive-value-key",
    "string",
    None,
    "file of the 4 to 56-byte key that encrypts sensitive values",
    default_text="$OMQ_DIR/etc/sensitive_value.key",
    **_S,
)
_opt(
    "purge-sensitive-data-complete",
    "bool",
    True,
    "delete an order's sensitive data as soon as it is COMPLETE",
)
_opt(
    "purge-sensitive-data-canceled",
    "bool",
    True,
    "delete an order's sensitive data as soon as it is CANCELED",
)

# --- clients ---------------------------------------------------------------------------------
_client(
    "client-url",
    "string",
    "http://localhost:8001",
    "URL of the server for the command-line clients",
)
_client("proxy-url", "string", None, "HTTP proxy the clients go through")
_client("connect-timeout", "int", 30, "seconds a client waits to connect", min=1)
_client("timeout", "int", 120, "seconds a client waits for an answer", min=1)
_client(
    "allow-redefinition",
    "bool",
    False,
    "let oload redefine objects as if -A/--allow-redef were given",
)

# --- LDAP ------------------------------------------------------------------------------------
_ldap("uri", "string", None, "LDAP server URI, e.g. ldap://ldap.example.com:389")
_ldap("base", "string", None, "search base, e.g. dc=example,dc=com")
_ldap("bind-dn", "string", None, "DN for searches; anonymous when unset")
_ldap("password", "string", None, "password of bind-dn", secret=True)
_ldap(
    "directbindprefix",
    "string",
    None,
    "prefix put before the user name to bind directly, e.g. EXAMPLE\\",
)
_ldap("directusername", "bool", False, "bind with the bare user name")
_ldap("ubase", "string", "ou=people", "where users live, below base")
_ldap("uentry", "string", "uid", "attribute holding the user name")
_ldap("roleattr", "string", None, "user attribute that lists the user's roles")
_ldap("roleregex", "string", None, "regex whose first group takes the role name from roleattr")
_ldap("timeout", "int", 10, "seconds to wait for the LDAP server", min=1)

OPTIONS: dict[str, OptionSpec] = {s.full_name: s for s in _TABLE}
"""Every option keyed by full name (``qorus.max-retries``), in display order."""

ALIASES: dict[str, str] = {
    f"{s.domain}.{alias}": s.full_name for s in _TABLE for alias in s.aliases
}
"""Old or alternative full names mapped to the full name they stand for."""

register_secret_names(
    name
    for s in _TABLE
    if s.secret
    for name in (s.full_name, s.name, *s.aliases, *(f"{s.domain}.{a}" for a in s.aliases))
)
