"""What the workers of one execution instance share: the definition, compiled code, the
workflow object, the options in force for the workflow and its log."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from qorus_core.db.wfdefs import WorkflowDef
from qorus_server.engine.codecache import CodeCache
from qorus_server.userapi import context
from qorus_server.userapi.context import Runtime
from qorus_server.userapi.wf import QorusWorkflow


def option_value(wdef: WorkflowDef, runtime: Runtime, name: str) -> Any:
    """A workflow option overrides the system option of the same name."""
    value = wdef.option(name)
    return runtime.options.get(name) if value is None else value


@dataclass
class RunEnv:
    runtime: Runtime
    wdef: WorkflowDef
    codecache: CodeCache
    logger: logging.Logger
    wfobj: QorusWorkflow | None
    options: dict[str, object]
    max_retries: int
    recover_delay: int
    #: what step types read: async_delay, max-async-retries
    settings: dict[str, Any] = field(default_factory=dict)
    #: told when an order was left in RETRY, so the instance wakes when it is due
    on_retry: Callable[[datetime], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def call_hook(self, name: str, *args: Any) -> None:
        """Call a QorusWorkflow hook; its failure is logged, never fatal to the order."""
        if self.wfobj is None:
            return
        fn = getattr(self.wfobj, name, None)
        if fn is None:
            return
        token = context.set_interface_logger(self.logger)
        try:
            fn(*args)
        except Exception as exc:
            self.logger.exception("workflow %s: %s() failed", self.wdef.name, name)
            events = self.runtime.events
            if name == "oneTimeInit" and events is not None:
                events.post(
                    "SYSTEM_ERROR",
                    {
                        "err": "WORKFLOW-INIT-ERROR",
                        "desc": f"{type(exc).__name__}: {exc}"[:4000],
                        "info": {
                            "name": self.wdef.name,
                            "version": self.wdef.version,
                            "workflowid": self.wdef.workflowid,
                        },
                    },
                    severity="MAJOR",
                    caller="engine",
                )
        finally:
            context.reset_interface_logger(token)

    def note_retry(self, when: datetime) -> None:
        if self.on_retry is not None:
            self.on_retry(when)
