"""The server's components in one place: what starts at start-up step 6, in which order, in
which order they stop at shutdown step 3, and what each reports in ``system/health``.

Adding a component (the service manager, the job scheduler, ...) is one call to
:meth:`ComponentRegistry.add` on :data:`COMPONENTS`, usually next to the component's class:
the server starts it, stops it and shows it in the health answer with no other edit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from qorus_server.contract import Component
from qorus_server.engine.manager import WorkflowManager
from qorus_server.groups import GroupEnforcer
from qorus_server.jobs.manager import JobManager
from qorus_server.services.manager import ServiceManager

Factory = Callable[[], Component]
HealthHook = Callable[[Component], object]


def running(component: Component) -> str:
    """The health of a component with no hook of its own: it started and has not stopped."""
    return "running"


@dataclass(frozen=True)
class ComponentSpec:
    """One registered component: ``start_order`` ascending starts it, ``stop_order``
    ascending stops it (by default the reverse of the start), ``health`` reports on it."""

    name: str
    factory: Factory
    start_order: int
    stop_order: int
    health: HealthHook = running


class ComponentRegistry:
    """The components a server runs, by name."""

    def __init__(self) -> None:
        self._specs: dict[str, ComponentSpec] = {}

    def add(
        self,
        name: str,
        factory: Factory,
        *,
        start_order: int,
        stop_order: int | None = None,
        health: HealthHook = running,
    ) -> ComponentSpec:
        if name in self._specs:
            raise ValueError(f"component {name!r} is registered twice")
        spec = ComponentSpec(
            name, factory, start_order, -start_order if stop_order is None else stop_order, health
        )
        self._specs[name] = spec
        return spec

    def copy(self) -> ComponentRegistry:
        out = ComponentRegistry()
        out._specs = dict(self._specs)
        return out

    def __iter__(self) -> Iterator[ComponentSpec]:
        """In start order."""
        return iter(sorted(self._specs.values(), key=lambda s: s.start_order))

    def __len__(self) -> int:
        return len(self._specs)

    @classmethod
    def of(cls, factories: Iterable[Factory]) -> ComponentRegistry:
        """A registry of factories started in the order given (stopped in reverse)."""
        reg = cls()
        for i, factory in enumerate(factories):
            reg.add(f"#{i}", factory, start_order=i)
        return reg


class Started:
    """The components running in one server, with the spec each was started from."""

    def __init__(self) -> None:
        self._started: list[tuple[ComponentSpec, Component]] = []

    def append(self, spec: ComponentSpec, component: Component) -> None:
        self._started.append((spec, component))

    @property
    def components(self) -> list[Component]:
        """The started components in start order."""
        return [comp for _spec, comp in self._started]

    def pop_next_to_stop(self) -> Component | None:
        """The started component to stop next (stop order), removed; None when none is left."""
        if not self._started:
            return None
        pair = min(self._started, key=lambda p: p[0].stop_order)
        self._started.remove(pair)
        return pair[1]

    def health(self) -> dict[str, object]:
        """Each running component's health by its name."""
        return {comp.name: spec.health(comp) for spec, comp in self._started}


COMPONENTS = ComponentRegistry()
"""Every component the server runs (the ONE registration site)."""

COMPONENTS.add("workflows", WorkflowManager, start_order=100)
# the services start before the workflows (start_order 50) and stop after them: a step of an
# autostarted workflow may call a service at once, and one running at shutdown still can
COMPONENTS.add(
    "services",
    ServiceManager,
    start_order=50,
    stop_order=-50,
    health=lambda c: c.health() if isinstance(c, ServiceManager) else "running",
)
# the jobs start after the services and the workflows and stop before them: a job's run may
# call a service or create an order until the scheduler has stopped
COMPONENTS.add("jobs", JobManager, start_order=300)
# interface groups enforced on this node: started last, it acts on the three above
COMPONENTS.add("groups", GroupEnforcer, start_order=400)
