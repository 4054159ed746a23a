"""Services: the service manager component (:mod:`.manager`) and its collaborators: what it
keeps of each service (:mod:`.registry`), loading (:mod:`.loading`), the method-call path
(:mod:`.calls`), events and audit rows (:mod:`.notify`); a loaded service (:mod:`.instance`),
its locks and thread bound (:mod:`.locks`) and call statistics (:mod:`.stats`).
Interface code sees ``svc.QorusService`` and ``svcapi`` (:mod:`qorus_server.userapi.svc`,
:mod:`qorus_server.userapi.svcapi`)."""

from qorus_server.services.manager import ServiceManager

__all__ = ["ServiceManager"]
