"""Rows every system schema holds: permissions, roles, the DEFAULT group, audit codes, global
errors, session 0 and the schema version. Applied by ``schema-tool -V`` (idempotently)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from qorus_core.db import tables as t
from qorus_core.db.dialects import dialect_for

#: Bumped with every release that changes the schema; kept in system_properties.
SCHEMA_VERSION = "6.0.0"
SCHEMA_DOMAIN = "omq"
SCHEMA_VERSION_KEY = "schema-version"
#: A random id written once when the schema is created: how a tool tells whether a running
#: server uses the same schema as itself (a copied database keeps its id).
SCHEMA_ID_KEY = "schema-id"

# umbrella permission -> the narrower permissions it includes
PERMISSION_TREE: dict[str, list[str]] = {
    "WORKFLOW-CONTROL": [
        "WORKFLOW-EXEC-CONTROL",
        "WORKFLOW-ERROR-CONTROL",
        "WORKFLOW-ORDER-CONTROL",
    ],
    "WORKFLOW-EXEC-CONTROL": [
        "START-WORKFLOW",
        "STOP-WORKFLOW",
        "RESET-WORKFLOW",
        "WORKFLOW-OPTION-CONTROL",
    ],
    "WORKFLOW-ORDER-CONTROL": [
        "RETRY-WORKFLOW-ORDER",
        "RESCHEDULE-WORKFLOW-ORDER",
        "REPRIORITIZE-WORKFLOW-ORDER",
        "BLOCK-WORKFLOW-ORDER",
        "CANCEL-WORKFLOW-ORDER",
        "SET-WORKFLOW-ORDER-ERROR",
        "SKIP-STEP",
        "SET-ORDER-INFO",
        "POST-WORKFLOW-EVENT",
        "LOCK-WORKFLOW-ORDER",
        "BREAK-WORKFLOW-ORDER-LOCK",
        "EDIT-WORKFLOW-DATA",
    ],
    "SENSITIVE-DATA-CONTROL": [
        "READ-SENSITIVE-DATA",
        "EDIT-SENSITIVE-DATA",
        "DELETE-SENSITIVE-DATA",
    ],
    "SERVICE-CONTROL": [
        "LOAD-SERVICE",
        "UNLOAD-SERVICE",
        "RESET-SERVICE",
        "SET-SERVICE-AUTOSTART",
        "SET-SERVICE-OPTIONS",
    ],
    "JOB-CONTROL": [
        "RUN-JOB",
        "MODIFY-JOB-STATUS",
        "MODIFY-JOB-EXPIRY",
        "RESCHEDULE-JOB",
        "RESET-JOB",
        "SET-JOB-OPTIONS",
    ],
    "USER-CONTROL": [
        "RELOAD-RBAC",
        "ADD-USER",
        "MODIFY-USER",
        "DELETE-USER",
        "ADD-PERMISSION",
        "MODIFY-PERMISSION",
        "DELETE-PERMISSION",
        "ADD-ROLE",
        "MODIFY-ROLE",
        "DELETE-ROLE",
    ],
    "GROUP-CONTROL": ["ADD-GROUP", "MODIFY-GROUP", "DELETE-GROUP", "MODIFY-GROUP-STATUS"],
    "LOGGER-CONTROL": ["ROTATE-LOG-FILES"],
    "WEBDAV-RWD": ["WEBDAV-READ", "WEBDAV-WRITE", "WEBDAV-DELETE"],
}

_STANDALONE = [
    "LOGIN",
    "SHUTDOWN",
    "SUBMIT-ORDER",
    "EXEC-SYNC-WORKFLOW",
    "CALL-USER-SERVICES-RO",
    "CALL-USER-SERVICES-RW",
    "CALL-SYSTEM-SERVICES-RO",
    "CALL-SYSTEM-SERVICES-RW",
    "OPTION-CONTROL",
    "SERVER-CONTROL",
    "SCHEMA-CONTROL",
    "DATASOURCE-CONTROL",
    "USER-CONNECTION-CONTROL",
    "SERVER-CONNECTION-CONTROL",
    "FILESYSTEM-CONTROL",
    "WEBDAV-CONTROL",
    "WEBDAV-ACCESS-ALL",
]


def system_permissions() -> list[str]:
    """Every system permission, umbrellas first, each once."""
    seen: dict[str, None] = {}
    for name in _STANDALONE:
        seen[name] = None
    for umbrella, narrower in PERMISSION_TREE.items():
        seen[umbrella] = None
        for name in narrower:
            seen[name] = None
    return list(seen)


def _describe(perm: str) -> str:
    return perm.replace("-", " ").lower()


# role -> (description, permissions); groups: every built-in role sees the DEFAULT group
BUILTIN_ROLES: dict[str, tuple[str, list[str]]] = {
    "superuser": ("all permissions", []),  # filled with every system permission below
    "operator": (
        "operates interfaces: workflows, orders, services and jobs",
        [
            "LOGIN",
            "SUBMIT-ORDER",
            "EXEC-SYNC-WORKFLOW",
            "WORKFLOW-CONTROL",
            "SERVICE-CONTROL",
            "JOB-CONTROL",
            "CALL-USER-SERVICES-RW",
            "CALL-SYSTEM-SERVICES-RO",
            "GROUP-CONTROL",
            "ROTATE-LOG-FILES",
        ],
    ),
    "read-only": ("may look but not change", ["LOGIN", "CALL-USER-SERVICES-RO"]),
    "remote": (
        "for remote Qorus instances and programs that submit orders",
        ["LOGIN", "SUBMIT-ORDER", "EXEC-SYNC-WORKFLOW", "CALL-USER-SERVICES-RW"],
    ),
    "maintenance": (
        "system maintenance: options, logs, shutdown, schema",
        [
            "LOGIN",
            "SHUTDOWN",
            "OPTION-CONTROL",
            "LOGGER-CONTROL",
            "SERVER-CONTROL",
            "SCHEMA-CONTROL",
            "DATASOURCE-CONTROL",
            "RELOAD-RBAC",
        ],
    ),
}

DEFAULT_GROUP_ID = 0
DEFAULT_GROUP = "DEFAULT"

AUDIT_EVENT_CODES: dict[int, str] = {
    1: "USER-EVENT",
    2: "SYSTEM-STARTUP",
    3: "SYSTEM-SHUTDOWN",
    4: "SYSTEM-RECOVERY-START",
    5: "SYSTEM-RECOVERY-COMPLETE",
    6: "WORKFLOW-STATUS-CHANGE",
    7: "WORKFLOW-START",
    8: "WORKFLOW-STOP",
    9: "SERVICE-START",
    10: "SERVICE-STOP",
    11: "JOB-START",
    12: "JOB-STOP",
    13: "JOB-INSTANCE-START",
    14: "JOB-INSTANCE-STOP",
    15: "API-CALL",
    16: "JOB-RECOVERY",
    17: "WORKFLOW-DATA-CREATED",
    18: "ALERT-ONGOING-RAISED",
    19: "ALERT-ONGOING-CLEARED",
    20: "ALERT-TRANSIENT-RAISED",
    21: "SOURCE-FILE-LOADED",
    22: "GROUP-STATUS-CHANGED",
}
AUDIT_CODE_BY_NAME = {v: k for k, v in AUDIT_EVENT_CODES.items()}

# error -> (description, severity, status, business, retry_delay)
BUILTIN_GLOBAL_ERRORS: dict[str, tuple[str, str, str, bool, int | None]] = {
    "SOCKET-TIMEOUT": ("a socket operation timed out", "MAJOR", "RETRY", False, None),
    "SOCKET-CONNECT-ERROR": ("a socket connection failed", "MAJOR", "RETRY", False, None),
    "SOCKET-CLOSED": ("the remote end closed the socket", "MAJOR", "RETRY", False, None),
    "HTTP-CLIENT-TIMEOUT": ("an HTTP request timed out", "MAJOR", "RETRY", False, None),
    "HTTP-CLIENT-RECEIVE-ERROR": ("an HTTP response was lost", "MAJOR", "RETRY", False, None),
    "DATASOURCE-CONNECTION-ERROR": (
        "a datasource connection failed",
        "MAJOR",
        "RETRY",
        False,
        None,
    ),
    "STEP-ERROR": ("the step failed", "MAJOR", "ERROR", False, None),
    "STEP-EXCEPTION": ("the step raised an unexpected exception", "MAJOR", "ERROR", False, None),
    "ORDER-DATA-ERROR": ("the order data are invalid", "MAJOR", "ERROR", True, None),
}


def now() -> datetime:
    """Naive UTC: the one clock for every timestamp column."""
    return datetime.now(UTC).replace(tzinfo=None)


def apply(conn: Connection) -> None:
    """Insert the reference rows that are missing (idempotent; never overwrites user changes)."""
    ts = now()
    dialect_for(conn).prepare_refdata(conn)

    def missing(table: Any, col: Any, values: list[Any]) -> set[Any]:
        have = set(conn.execute(select(col)).scalars())
        return {v for v in values if v not in have}

    perms = system_permissions()
    new = missing(t.permissions, t.permissions.c.name, perms)
    if new:
        conn.execute(
            insert(t.permissions),
            [
                {"name": p, "permission_type": "SYSTEM", "description": _describe(p), "created": ts}
                for p in perms
                if p in new
            ],
        )
    have_inc = set(
        conn.execute(select(t.permission_includes.c.name, t.permission_includes.c.includes))
    )
    rows = [
        {"name": u, "includes": n}
        for u, narrower in PERMISSION_TREE.items()
        for n in narrower
        if (u, n) not in have_inc
    ]
    if rows:
        conn.execute(insert(t.permission_includes), rows)

    new_roles = missing(t.roles, t.roles.c.role, list(BUILTIN_ROLES))
    for role in BUILTIN_ROLES:
        if role not in new_roles:
            continue
        desc, role_perms = BUILTIN_ROLES[role]
        conn.execute(insert(t.roles).values(role=role, provider="db", description=desc, created=ts))
        granted = perms if role == "superuser" else role_perms
        conn.execute(insert(t.role_permissions), [{"role": role, "permission": p} for p in granted])

    if missing(t.groups, t.groups.c.groupid, [DEFAULT_GROUP_ID]):
        conn.execute(
            insert(t.groups).values(
                groupid=DEFAULT_GROUP_ID,
                name=DEFAULT_GROUP,
                description="every interface; cannot be changed",
                enabled=True,
                created=ts,
            )
        )
    have_rg = set(conn.execute(select(t.role_groups.c.role, t.role_groups.c.groupid)).all())
    rg = [
        {"role": r, "groupid": DEFAULT_GROUP_ID}
        for r in new_roles
        if (r, DEFAULT_GROUP_ID) not in have_rg
    ]
    if rg:
        conn.execute(insert(t.role_groups), rg)

    new_codes = missing(
        t.audit_event_codes, t.audit_event_codes.c.audit_event_code, list(AUDIT_EVENT_CODES)
    )
    if new_codes:
        conn.execute(
            insert(t.audit_event_codes),
            [
                {"audit_event_code": c, "name": n, "description": n.replace("-", " ").lower()}
                for c, n in AUDIT_EVENT_CODES.items()
                if c in new_codes
            ],
        )

    new_errors = missing(
        t.global_workflow_errors, t.global_workflow_errors.c.error, list(BUILTIN_GLOBAL_ERRORS)
    )
    if new_errors:
        conn.execute(
            insert(t.global_workflow_errors),
            [
                {
                    "error": e,
                    "description": d,
                    "severity": sev,
                    "status": st,
                    "business": bus,
                    "retry_delay": delay,
                    "level": "GLOBAL",
                    "builtin": True,
                    "created": ts,
                }
                for e, (d, sev, st, bus, delay) in BUILTIN_GLOBAL_ERRORS.items()
                if e in new_errors
            ],
        )

    if missing(t.sessions, t.sessions.c.sessionid, [0]):
        conn.execute(
            insert(t.sessions).values(
                sessionid=0,
                instancekey="-",
                node="-",
                hostname="-",
                pid=0,
                sessionstatus="CLOSED",
                started=ts,
                ended=ts,
            )
        )
    if get_schema_id(conn) is None:
        conn.execute(
            insert(t.system_properties).values(
                domain=SCHEMA_DOMAIN, keyname=SCHEMA_ID_KEY, value=uuid.uuid4().hex, created=ts
            )
        )
    set_schema_version(conn, SCHEMA_VERSION)


def get_schema_id(conn: Connection) -> str | None:
    """The schema's identity (see :data:`SCHEMA_ID_KEY`)."""
    return conn.execute(
        select(t.system_properties.c.value).where(
            t.system_properties.c.domain == SCHEMA_DOMAIN,
            t.system_properties.c.keyname == SCHEMA_ID_KEY,
        )
    ).scalar_one_or_none()


def get_schema_version(conn: Connection) -> str | None:
    return conn.execute(
        select(t.system_properties.c.value).where(
            t.system_properties.c.domain == SCHEMA_DOMAIN,
            t.system_properties.c.keyname == SCHEMA_VERSION_KEY,
        )
    ).scalar_one_or_none()


def set_schema_version(conn: Connection, version: str) -> None:
    ts = now()
    where = (
        t.system_properties.c.domain == SCHEMA_DOMAIN,
        t.system_properties.c.keyname == SCHEMA_VERSION_KEY,
    )
    if (
        conn.execute(
            update(t.system_properties).where(*where).values(value=version, modified=ts)
        ).rowcount
        == 0
    ):
        conn.execute(
            insert(t.system_properties).values(
                domain=SCHEMA_DOMAIN, keyname=SCHEMA_VERSION_KEY, value=version, created=ts
            )
        )
