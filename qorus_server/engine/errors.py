"""From errors raised by a step to the step's status: severity, ERROR or RETRY, delay.

An error is looked up in the workflow's definitions, then the global ones (already merged in
``WorkflowDef.errors``); an undefined error is MAJOR / ERROR. Only MAJOR and FATAL change the
step's status; lower severities (and ``stepWarning``) are warnings.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any

from qorus_core.db.wfdefs import STATUS_SEVERITIES, WorkflowDef
from qorus_server.userapi.context import PendingError


@dataclass(frozen=True)
class ResolvedError:
    error: str
    description: str
    info: Any
    severity: str
    retry: bool  # the definition asks for RETRY
    business: bool
    retry_delay: int | None  # from stepError() or the definition

    @property
    def changes_status(self) -> bool:
        return self.severity in STATUS_SEVERITIES


def from_exception(exc: BaseException) -> PendingError:
    """An exception escaping step code: its Qorus error code (``err`` / ``code``) or its
    class name, its message, and the traceback as info."""
    code = getattr(exc, "err", None) or getattr(exc, "code", None)
    if not isinstance(code, str) or not code:
        code = type(exc).__name__
    desc = getattr(exc, "desc", None)
    if not isinstance(desc, str):
        desc = str(exc)
    info = getattr(exc, "info", None)
    if info is None:
        info = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-4000:]
    return PendingError(code, desc, info, None)


def resolve(wdef: WorkflowDef, err: PendingError) -> ResolvedError:
    edef = wdef.errors.get(err.error)
    severity = "WARNING" if err.warning_only else edef.severity if edef else "MAJOR"
    desc = err.description or (edef.description if edef and edef.description else "")
    return ResolvedError(
        error=err.error,
        description=desc,
        info=err.info,
        severity=severity,
        retry=bool(edef and edef.status == "RETRY"),
        business=bool(edef and edef.business),
        retry_delay=err.retry_delay
        if err.retry_delay is not None
        else (edef.retry_delay if edef else None),
    )
