"""System operations: ``public/info``, ``system`` and its sub-resources."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from qorus_core.db import sessions as sess
from qorus_core.db.engine import READONLY
from qorus_core.db.engine import ping as db_ping
from qorus_core.db.handback import count_stuck
from qorus_core.db.refdata import SCHEMA_VERSION, now
from qorus_core.model import args as a
from qorus_core.model.errors import (
    NotFoundError,
    OptionError,
    QorusError,
    ValidationError,
)
from qorus_core.options import OPTIONS, check_value, default_text, lookup
from qorus_core.secrets import mask_option, mask_text
from qorus_server.api.registry import CallContext, operation
from qorus_server.groups import enforcer

#: the most sessions ``system/sessions`` answers at once
MAX_SESSIONS = 10000


@operation("public.info", rest=[("GET", "public/info", None)], blocking=False)
def public_info(ctx: CallContext) -> dict[str, object]:
    """What a client may learn before logging in."""
    s = ctx.server
    return {
        "instance-key": s.instance_key,
        "omq-version": s.version,
        "rest-api-version": 7,
        "noauth": not s.options.get("rbac-security"),
    }


@operation(
    "system.info", rest=[("GET", "system", None)], rpc="omq.system.get-status", blocking=False
)
def system_info(ctx: CallContext) -> dict[str, object]:
    """The state of this instance."""
    s = ctx.server
    return {
        "instance-key": s.instance_key,
        "session-id": s.sessionid,
        "omq-version": s.version,
        "datamodel-version": SCHEMA_VERSION,
        "schema-id": s.schema_id,
        "starttime": s.started,
        "hostname": s.hostname,
        "node": s.node,
        "pid": s.pid,
        "omq_dir": str(s.omq.root),
        "logdir": str(s.logs.dir),
        "logfile": str(s.logs.system_path),
        "rbac-security": bool(s.options.get("rbac-security")),
        "listeners": [lst.url for lst in s.listeners],
        "shutting-down": s.stopping,
        "components": [c.name for c in s.components],
    }


@operation("system.ping", rest=[("GET", "system", "ping")], rpc="omq.system.ping", blocking=False)
def ping(ctx: CallContext) -> str:
    """Answers OK while the system runs."""
    return "OK"


@operation(
    "system.echo", rest=[("GET", "system", "echo"), ("PUT", "system", "echo")], blocking=False
)
def echo(ctx: CallContext, **args: object) -> Any:
    """Answers the arguments it was given."""
    return args


@operation("system.instance-key", rest=[("GET", "system/instance-key", None)], blocking=False)
def instance_key(ctx: CallContext) -> str:
    """The instance key of this system."""
    return str(ctx.server.instance_key)


@operation("system.health", rest=[("GET", "system/health", None)])
def health(ctx: CallContext) -> dict[str, object]:
    """GREEN when the system datasource answers, RED when it does not, YELLOW when orders
    have been IN-PROGRESS for longer than ``stuck-order-timeout`` seconds."""
    s = ctx.server
    stuck = 0
    limit = int(s.options.get("stuck-order-timeout"))
    try:
        with s.engine.connect().execution_options(**{READONLY: True}) as conn:
            db_ping(conn)
            if limit:
                stuck = count_stuck(conn, now() - timedelta(seconds=limit))
        db_ok, reason = True, None
    except Exception as exc:  # its text (hosts, users, SQL) only to the log
        ref = secrets.token_hex(6)
        s.log.error("system datasource check failed [ref %s]", ref, exc_info=exc)
        db_ok, reason = False, f"ERROR: the system database does not answer (ref {ref})"
    out: dict[str, object] = {
        "health": "RED" if not db_ok else "YELLOW" if stuck else "GREEN",
        "stuck-orders": stuck,
        "instance-key": s.instance_key,
        "session-id": s.sessionid,
        "system-datasource": "OK" if db_ok else reason,
        "ongoing": 0,
        "transient": 0,
        "components": s.component_health(),
    }
    s.events.health(str(out["health"]), {"stuck-orders": stuck})
    return out


@operation("system.sessions", rest=[("GET", "system/sessions", None)])
def sessions(
    ctx: CallContext, active: object = False, limit: object = 100
) -> list[dict[str, object]]:
    """Application sessions, newest first (``active=true`` for the running ones)."""
    only_active = a.arg_bool(active, "active")
    n = a.arg_limit(limit, "limit", default=100, maximum=MAX_SESSIONS)
    with ctx.server.engine.connect().execution_options(**{READONLY: True}) as conn:
        rows = sess.list_sessions(conn, active_only=only_active, limit=n)
    return [r.as_dict() for r in rows]


@operation("system.listeners", rest=[("GET", "system/listeners", None)], blocking=False)
def listeners(ctx: CallContext) -> list[dict[str, object]]:
    """The HTTP listeners of this instance."""
    return [dict(lst.as_dict(), id=i) for i, lst in enumerate(ctx.server.listeners)]


def _option_info(ctx: CallContext, full: str) -> dict[str, object]:
    spec = OPTIONS[full]
    opts = ctx.server.options
    value = opts.get(full)
    return {
        "name": spec.full_name,
        "domain": spec.domain,
        "type": spec.type,
        "value": mask_option(spec, value),
        "default": default_text(spec),
        "source": opts.source(full),
        "startup-only": spec.startup_only,
        "desc": spec.desc,
    }


@operation(
    "system.options",
    rest=[("GET", "system/options", None)],
    rpc="omq.system.get-option-info",
    blocking=False,
)
def options(ctx: CallContext) -> list[dict[str, object]]:
    """Every option with its value in force."""
    return [_option_info(ctx, full) for full in OPTIONS]


@operation("system.option", rest=[("GET", "system/options/{option}", None)], blocking=False)
def option(ctx: CallContext, option: str) -> dict[str, object]:
    """One option by short or full name."""
    try:
        spec = lookup(option)
    except OptionError as exc:
        raise NotFoundError(exc.desc, code="OPTION-ERROR") from None
    return _option_info(ctx, spec.full_name)


@operation(
    "system.options.set",
    rest=[("PUT", "system/options", "set")],
    rpc="omq.system.set-option",
    permissions=("OPTION-CONTROL",),
    audit=True,
    blocking=False,
)
def set_options(ctx: CallContext, **values: object) -> dict[str, object]:
    """Set options at run time (all or none); start-up options are refused."""
    if not values:
        raise ValidationError("no option given: pass NAME=VALUE arguments")
    opts = ctx.server.options
    specs = {}
    for name in values:
        try:
            specs[name] = lookup(name)
        except OptionError as exc:
            raise ValidationError(exc.desc, code="OPTION-ERROR") from None
    for spec in specs.values():
        if spec.startup_only:
            raise OptionError(
                f"option {spec.full_name!r} can only be set at startup (in the options file "
                "or on the qorus command line)",
                info={"option": spec.full_name},
            )
    checked = {}
    for name, spec in specs.items():
        try:
            checked[spec.full_name] = check_value(spec, values[name])
        except OptionError as exc:
            desc = f"{spec.full_name}: not a valid {spec.type}" if spec.secret else exc.desc
            raise ValidationError(mask_text(desc), code="OPTION-ERROR") from None
    out = {
        full: mask_option(OPTIONS[full], opts.set(full, value)) for full, value in checked.items()
    }
    ctx.server.log.info("options set by %s: %s", ctx.username or "-", out)
    return out


@operation(
    "system.shutdown",
    rest=[("PUT", "system", "shutdown")],
    rpc="omq.system.shutdown",
    permissions=("SHUTDOWN",),
    audit=True,
    blocking=False,
)
def shutdown(ctx: CallContext) -> str:
    """Start the shutdown and answer at once."""
    ctx.server.request_shutdown(f"shutdown requested by {ctx.username or ctx.source or 'API'}")
    return "the system is shutting down"


@operation(
    "system.shutdownWait",
    rest=[("PUT", "system", "shutdownWait")],
    rpc="omq.system.shutdown-wait",
    permissions=("SHUTDOWN",),
    audit=True,
)
def shutdown_wait(ctx: CallContext) -> str:
    """Shut down and answer when the shutdown is complete."""
    ctx.server.request_shutdown(f"shutdown requested by {ctx.username or ctx.source or 'API'}")
    if not ctx.server.wait_shutdown(600):
        raise QorusError("the shutdown did not complete in 600 seconds", code="SHUTDOWN-ERROR")
    return "the system has been shut down"


@operation(
    "system.rotateLogFiles",
    rest=[("PUT", "system", "rotateLogFiles")],
    rpc="omq.system.rotate-log-files",
    permissions=("ROTATE-LOG-FILES",),
    audit=True,
)
def rotate_log_files(ctx: CallContext) -> list[str]:
    """Rotate every log file, keeping max-log-files old ones; answers the log files."""
    return list(ctx.server.logs.rotate())


@operation(
    "system.reloadRbac",
    rest=[("PUT", "system", "reloadRbac"), ("PUT", "system/rbac", "reload")],
    rpc="omq.system.reload-rbac",
    permissions=("RELOAD-RBAC",),
    audit=True,
)
def reload_rbac(ctx: CallContext) -> str:
    """Apply RBAC changes made offline (``user-tool -s``): forget every remembered password,
    revoke the tokens of users deleted, with a changed password or without LOGIN, and make
    what runs here follow the interface groups (members of groups disabled since stop,
    members released start again)."""
    ctx.server.logins.reload()
    reason = f"RBAC reloaded by {ctx.username or 'the system'}"
    enforcer(ctx.server).apply(reason, ctx.username)
    return "RBAC reloaded"
