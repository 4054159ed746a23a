"""What the service manager keeps of each service across loads, by type and name: its
loaded instance, the slots of its calls and threads (``max-service-threads``) and its call
statistics (:class:`Entry`), in a thread-safe table (:class:`ServiceRegistry`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from qorus_core.db.services import ServiceDef
from qorus_server.services.instance import ServiceInstance
from qorus_server.services.locks import Slots
from qorus_server.services.stats import ServiceStats

Key = tuple[str, str]  # (service_type, name)


@dataclass
class Entry:
    """What the manager keeps of one service (by type and name) across loads: the loaded
    instance, the slots of its calls and threads, its call statistics."""

    key: Key
    slots: Slots = field(default_factory=Slots)
    stats: ServiceStats = field(default_factory=ServiceStats)
    lock: threading.RLock = field(default_factory=threading.RLock)
    instance: ServiceInstance | None = None
    #: the thread running the service's init(), which must not load it again
    loading: int | None = None


def key_of(sdef: ServiceDef) -> Key:
    return (sdef.service_type, sdef.name)


class ServiceRegistry:
    """The entries of the services, made on first use and kept until the server stops."""

    def __init__(self) -> None:
        self._entries: dict[Key, Entry] = {}
        self._lock = threading.Lock()

    def entry(self, key: Key) -> Entry:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = Entry(key)
            return entry

    def entries(self) -> list[Entry]:
        with self._lock:
            return list(self._entries.values())

    def loaded(self) -> list[ServiceInstance]:
        """The loaded instances."""
        with self._lock:
            return [e.instance for e in self._entries.values() if e.instance is not None]

    def by_name(self, service_type: str, name: str) -> ServiceInstance | None:
        with self._lock:
            entry = self._entries.get((service_type, name))
            return entry.instance if entry is not None else None

    def by_id(self, serviceid: int) -> ServiceInstance | None:
        for inst in self.loaded():
            if inst.serviceid == serviceid:
                return inst
        return None
