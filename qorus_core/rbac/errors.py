"""The one exception of the RBAC model: a refused change or a bad argument, with a Qorus code."""

from __future__ import annotations

from typing import Any

from qorus_core.model.errors import QorusError

#: ``status`` of an RbacError: a malformed name, a weak password, a bad edit syntax
BAD_ARGUMENT = 400
#: an object that may never be changed (the DEFAULT group)
FORBIDDEN = 403
#: a user, role, permission, group or group member that does not exist
UNKNOWN = 404
#: a conflict with what is stored (a duplicate, an object in use, a system permission)
CONFLICT = 409


class RbacError(QorusError):
    """A change the RBAC model refuses (unknown name, duplicate, system object, in use, weak
    password). ``status`` is the HTTP status the REST API answers (:data:`CONFLICT` unless
    said otherwise); ``user-tool`` exits 1 on any of them."""

    code = "RBAC-ERROR"

    def __init__(
        self, desc: str, *, code: str | None = None, info: Any = None, status: int = CONFLICT
    ) -> None:
        super().__init__(desc, code=code, info=info)
        self.http_status = status
