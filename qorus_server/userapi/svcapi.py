"""``ServiceApi`` / ``svcapi``: what service code calls about the service it runs in.

Every call here works from any code the service runs: its methods, ``init()``, ``start()``,
``stop()`` and the threads it starts with :meth:`ServiceApi.startThread`; the service is found
through a context variable the service manager sets (:func:`context.enter_service`). Every
``UserApi`` call is available too, and ``UserApi.log*`` writes to the service's log file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import context
from .userapi import UserApi


class ServiceApi(UserApi):
    """Static methods, as in Qorus (``svcapi.saveStateData({...})``)."""

    @staticmethod
    def saveStateData(data: Any) -> None:
        """Replace the service's persistent state data (a hash; None clears it), in its own
        transaction: it survives an unload, a reset and a restart of the server. The data is
        serialized at once: changing ``data`` afterwards changes nothing saved."""
        context.require_service().save_state(data)

    @staticmethod
    def getStateData() -> Any:
        """The state data the service saved last (None when it saved none)."""
        return context.require_service().get_state()

    @staticmethod
    def getServiceInfo() -> dict[str, Any]:
        """``type``, ``name``, ``version``, ``desc``, ``serviceid``, ``status``, ``threads``,
        ``autostart``, ``loaded``, ``methods``, ``groups`` and ``method`` (the method being
        called, if any)."""
        info = context.require_service().info()
        call = context.current_service_call()
        if call is not None:
            info["method"] = call.method
        return info

    @staticmethod
    def startThread(fn: Callable[..., Any], *args: Any) -> int:
        """Run ``fn(*args)`` in a new thread of the service; its thread id. The manager counts
        it against ``max-service-threads`` and joins it when the service unloads (after
        calling the service's ``stop()``, which it therefore needs)."""
        return context.require_service().start_thread(fn, args)

    @staticmethod
    def startThreadArgs(fn: Callable[..., Any], args: Any = None) -> int:
        """:meth:`startThread` with the arguments as one list (or one value)."""
        if args is None:
            seq: tuple[Any, ...] = ()
        elif isinstance(args, list | tuple):
            seq = tuple(args)
        else:
            seq = (args,)
        return context.require_service().start_thread(fn, seq)

    @staticmethod
    def getCallContext() -> dict[str, Any] | None:
        """The method call in progress: ``method``, ``user`` (the caller's user name; None
        for the system or with RBAC off), ``source`` (the client address, or the calling
        code), ``transport`` (``rest``, ``json-rpc``, ``xml-rpc``, ``yaml-rpc`` or
        ``internal``) and, when a step called, ``wf`` (``name``, ``version``, ``workflowid``,
        ``workflow_instanceid``, ``stepid``, ``ind``). None outside a method call."""
        call = context.current_service_call()
        return None if call is None else call.as_dict()
