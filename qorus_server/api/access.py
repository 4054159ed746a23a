"""Interface-group visibility, the one rule for workflows, services and jobs alike.

With RBAC on, a caller sees the interfaces of its roles' enabled interface groups (all of them
when a role holds the DEFAULT group): lists leave the others out, and a direct access to one
of them (by id, name or through one of its orders, execution instances or job instances) is
refused with 403 AUTHORIZATION-ERROR. System services belong to no group: every caller sees
them, their calls being governed by CALL-SYSTEM-SERVICES-RO/RW. With RBAC off, or for an
in-process caller (no user), everything is visible.
"""

from __future__ import annotations

from collections.abc import Callable

from qorus_core.model.errors import AuthorizationError
from qorus_server.api.registry import CallContext

#: the interface kinds groups hold
KINDS = ("workflow", "service", "job")


def sees(ctx: CallContext, kind: str) -> Callable[[int], bool] | None:
    """The caller's visibility test for interfaces of ``kind`` (id -> visible), or None when
    the caller sees every one of them."""
    if kind not in KINDS:
        raise ValueError(f"no interface kind {kind!r}")
    user = ctx.user
    if user is None or getattr(user, "all_interfaces", False):
        return None
    test = getattr(user, f"sees_{kind}", None)
    return test if callable(test) else None


def visible(ctx: CallContext, kind: str, iid: int) -> bool:
    """Whether the caller sees interface ``kind`` ``iid``."""
    test = sees(ctx, kind)
    return test is None or bool(test(iid))


def check_visible(ctx: CallContext, kind: str, iid: int, label: object) -> None:
    """403 AUTHORIZATION-ERROR when the caller's interface groups hide ``kind`` ``iid``."""
    if not visible(ctx, kind, iid):
        raise AuthorizationError(
            f"user {ctx.username!r} has no access to {kind} {label} (interface groups)",
            info={f"{kind}id": iid},
        )
