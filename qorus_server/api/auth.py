"""Logging in and out: ``POST public/login`` (a token for a user name and password) and
``POST logout`` (the real product's form; ``public/logout`` too) that ends the caller's token.
"""

from __future__ import annotations

from qorus_core.model.errors import QorusError, ValidationError
from qorus_server.api.registry import CallContext, operation
from qorus_server.logins import credentials_problem


def client_address(ctx: CallContext) -> str:
    """The caller's address without the port (``source`` is ``host:port``)."""
    src = ctx.source or ctx.transport
    host, sep, port = src.rpartition(":")
    return (host if sep and port.isdigit() else src) or "local"


@operation("public.login", rest=[("POST", "public/login", None)])
def public_login(ctx: CallContext, user: object = None, **args: object) -> dict[str, object]:
    """Trade a user name and password (``pass``) for a token sent later as ``Qorus-Token``."""
    password = args.pop("pass", None)
    if args:
        raise ValidationError(f"unknown arguments: {', '.join(sorted(args))}")
    if not isinstance(user, str):
        raise ValidationError("argument 'user' must be a string (the user name)")
    if not isinstance(password, str):
        raise ValidationError("argument 'pass' must be a string (the password)")
    problem = credentials_problem(user, password)
    if problem:
        raise ValidationError(f"arguments 'user' and 'pass': {problem}")
    s = ctx.server
    if not s.options.get("rbac-security"):
        raise QorusError(
            "rbac-security is off: no login is needed", code="AUTHENTICATION-NOT-REQUIRED"
        )
    principal = s.logins.password_login(user, password, client_address(ctx), "public/login")
    return {"token": s.logins.issue_token(principal)}


@operation(
    "system.logout",
    rest=[("POST", "logout", None), ("POST", "public/logout", None)],
    blocking=False,
)
def logout(ctx: CallContext) -> None:
    """End the caller's login token at once (with HTTP Basic: forget its remembered password,
    so the next request checks it again)."""
    if ctx.user is not None:
        ctx.server.logins.logout(ctx.user)
