"""The ``svc`` module of interface code: the service base class.

``from svc import QorusService`` and ``class S(svc.QorusService)`` both work; the service
manager (:mod:`qorus_server.services`) compiles the class from the schema, creates one object
per load and calls its methods.
"""

from __future__ import annotations

from typing import Any

from .svcapi import ServiceApi


class QorusService:
    """Subclass it; the methods the definition lists (``methods:``) are the service's methods.

    Special methods: ``init()`` runs when the service is loaded (an exception there fails the
    load); ``start()``, when defined, runs in a thread of its own once the service is loaded
    (the service is then *running*) and needs ``stop()``, which the manager calls at unload
    to make ``start()`` return; the service unloads when ``start()`` returns. The
    :class:`~qorus_server.userapi.svcapi.ServiceApi` calls are also methods of the object
    (``self.getStateData()``, ``self.logInfo(...)``), as in Qorus.
    """

    def init(self) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        # Qorus service objects expose the service API as methods (self.saveStateData() ...)
        if not name.startswith("_") and hasattr(ServiceApi, name):
            return getattr(ServiceApi, name)
        raise AttributeError(name)


__all__ = ["QorusService", "ServiceApi"]
