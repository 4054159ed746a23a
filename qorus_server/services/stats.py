"""Call statistics of a service, kept by the manager across unloads and resets until
``resetStats``: calls, errors and the duration of the calls of each method."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from qorus_core.db.refdata import now


@dataclass
class MethodStats:
    calls: int = 0
    errors: int = 0
    total: float = 0.0
    min: float | None = None
    max: float | None = None
    last: datetime | None = None

    def add(self, seconds: float, ok: bool, when: datetime) -> None:
        self.calls += 1
        if not ok:
            self.errors += 1
        self.total += seconds
        self.min = seconds if self.min is None else min(self.min, seconds)
        self.max = seconds if self.max is None else max(self.max, seconds)
        self.last = when

    def as_dict(self) -> dict[str, object]:
        def ms(v: float | None) -> float | None:
            return None if v is None else round(v * 1000, 3)

        return {
            "calls": self.calls,
            "errors": self.errors,
            "avg_ms": ms(self.total / self.calls) if self.calls else None,
            "min_ms": ms(self.min),
            "max_ms": ms(self.max),
            "last_call": self.last,
        }


@dataclass
class ServiceStats:
    since: datetime = field(default_factory=now)
    methods: dict[str, MethodStats] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, seconds: float, ok: bool) -> None:
        when = now()
        with self._lock:
            self.methods.setdefault(method, MethodStats()).add(seconds, ok, when)

    def reset(self) -> None:
        with self._lock:
            self.methods.clear()
            self.since = now()

    def as_dict(self, active: int = 0, with_methods: bool = True) -> dict[str, object]:
        with self._lock:
            per = {name: m.as_dict() for name, m in sorted(self.methods.items())}
            calls = sum(m.calls for m in self.methods.values())
            errors = sum(m.errors for m in self.methods.values())
            lasts = [m.last for m in self.methods.values() if m.last is not None]
            since = self.since
        out: dict[str, object] = {
            "calls": calls,
            "errors": errors,
            "active": active,
            "last_call": max(lasts) if lasts else None,
            "since": since,
        }
        if with_methods:
            out["methods"] = per
        return out
