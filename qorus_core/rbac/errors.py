"""The one exception of the RBAC model: a refused change or a bad argument, with a Qorus code."""

from __future__ import annotations

from qorus_core.model.errors import QorusError


class RbacError(QorusError):
    """A change the RBAC model refuses (unknown name, duplicate, system object, in use, weak
    password); HTTP 409 like every Qorus operation error. ``user-tool`` exits 1 on it."""

    code = "RBAC-ERROR"
