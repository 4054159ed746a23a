"""The ``svc`` module of interface code: the service base class.

Services are run by the service manager (a later issue); the base class and its documented
special methods exist now so service code can be compiled and subclassed.
"""

from __future__ import annotations


class QorusService:
    """Subclass it; public methods are the service's methods.

    ``init()`` runs when the service is loaded; ``start()`` (with ``stop()``) runs in its own
    thread and the service unloads when it returns.
    """

    def init(self) -> None:
        return None
