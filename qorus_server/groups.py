"""Interface groups that act: what a disabled group holds does not run on this node.

A workflow, user service or job that is a member of a disabled interface group has no
execution instance, is not loaded and is not scheduled (:mod:`qorus_core.db.group_status`;
the engine, the service manager and the job scheduler refuse to start it with GROUP-DISABLED).
This component brings what runs here in line with the groups after they change:

* interfaces a change stops: their execution instances stop, their services unload, their jobs
  leave the schedule;
* interfaces a change releases (no disabled group holds them any more): the workflows start
  their ``autostart`` instances, the services with ``autostart`` load (both only when
  ``autostart-interfaces`` is on, as at start-up), the active jobs are scheduled again.

It remembers which interfaces were stopped and which groups were enabled when it last looked,
so that a change made offline (``user-tool``) followed by ``reloadRbac`` acts the same as one
made over the API: GROUP_STATUS_CHANGED is posted for each group whose status changed since
(the GROUP-STATUS-CHANGED audit row was written with the change itself: by the group
operation in its transaction, by ``user-tool`` offline). Group operations get it with
:func:`enforcer` *before* they change anything and call :meth:`GroupEnforcer.apply` after
their commit, naming the groups they announced themselves.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from qorus_core.db.engine import READONLY
from qorus_core.db.group_status import KINDS, statuses, stopped
from qorus_core.model.errors import QorusError
from qorus_server.contract import ServerContract
from qorus_server.engine.manager import WorkflowManager
from qorus_server.jobs.manager import JobManager
from qorus_server.services.manager import ServiceManager

log = logging.getLogger("qorus.groups")

Stopped = dict[str, frozenset[int]]
Statuses = dict[str, tuple[int, bool]]


class GroupEnforcer:
    """The ``groups`` component: interface groups enforced on this node."""

    name = "groups"

    def __init__(self) -> None:
        self.server: ServerContract | None = None
        self._stopped: Stopped | None = None
        self._statuses: Statuses = {}
        self._lock = threading.Lock()

    def start(self, server: ServerContract) -> None:
        self.server = server
        self.prime()

    def stop(self) -> None:
        return None

    def prime(self) -> None:
        """Remember which interfaces the groups stop now, and the groups' status."""
        state, groups = self._read()
        with self._lock:
            self._stopped, self._statuses = state, groups

    def _srv(self) -> ServerContract:
        if self.server is None:
            raise QorusError("the interface groups are not enforced yet", code="SYSTEM-ERROR")
        return self.server

    def _read(self) -> tuple[Stopped, Statuses]:
        with self._srv().engine.connect().execution_options(**{READONLY: True}) as conn:
            held = {kind: frozenset(stopped(conn, kind)) for kind in KINDS}
            return held, statuses(conn)

    def apply(
        self, reason: str, who: str | None = None, announced: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        """Announce the groups whose status changed (but those ``announced`` already), stop
        what the groups stop now and start what they released since the last look; what was
        done, per interface kind. A failure of one interface is logged and the others are
        handled."""
        with self._lock:
            new, groups = self._read()
            old = self._stopped if self._stopped is not None else new
            before, self._stopped, self._statuses = self._statuses, new, groups
            for name, (gid, enabled) in sorted(groups.items()):
                was = before.get(name)
                changed = (was is None and not enabled) or (was is not None and was[1] != enabled)
                if changed and name not in announced:
                    self._announce(name, gid, enabled, reason)
            released = {kind: old[kind] - new[kind] for kind in KINDS}
            return {
                "workflows": self._workflows(new["workflow"], released["workflow"], reason),
                "services": self._services(new["service"], released["service"], reason, who),
                "jobs": self._jobs(),
            }

    def _announce(self, name: str, gid: int, enabled: bool, reason: str) -> None:
        """GROUP_STATUS_CHANGED of a change nobody announced (made offline)."""
        log.info("interface group %r (%d) %s: %s", name, gid, "on" if enabled else "off", reason)
        try:
            self._srv().events.post(
                "GROUP_STATUS_CHANGED",
                {"name": name, "groupid": gid, "enabled": enabled, "reason": reason},
                severity="MAJOR",
                caller="groups",
            )
        except Exception:  # an event listener failing must not fail the change
            log.exception("cannot post GROUP_STATUS_CHANGED of group %r", name)

    def _component(self, cls: type[Any]) -> Any:
        for comp in self._srv().components:
            if isinstance(comp, cls):
                return comp
        return None

    def _autostart(self) -> bool:
        return bool(self._srv().options.get("autostart-interfaces"))

    def _workflows(
        self, held: frozenset[int], released: frozenset[int], reason: str
    ) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"stopped": [], "started": []}
        try:
            wm: WorkflowManager = self._srv().workflows
        except QorusError:
            return out  # no engine on this node
        for wfid in sorted(wm.running_workflows() & held):
            try:
                out["stopped"] += wm.stop_workflow(wfid)
                log.info("workflow id %d stopped: %s", wfid, reason)
            except (QorusError, SQLAlchemyError) as exc:
                log.error("cannot stop workflow id %d (%s): %s", wfid, reason, exc)
        if released and self._autostart():
            try:
                out["started"] = [i["executionID"] for i in wm.autostart(only=released)]
            except (QorusError, SQLAlchemyError) as exc:
                log.error("cannot autostart the released workflows (%s): %s", reason, exc)
        return out

    def _services(
        self, held: frozenset[int], released: frozenset[int], reason: str, who: str | None
    ) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {"unloaded": [], "loaded": []}
        try:
            sm: ServiceManager = self._srv().services
        except QorusError:
            return out  # no service manager on this node
        for sid in sorted(sm.loaded_ids() & held):
            inst = sm.loaded_instance(sid)
            if inst is None:
                continue
            try:
                if sm.unload(inst.sdef, reason=reason, who=who):
                    out["unloaded"].append(inst.sdef.label())
            except (QorusError, SQLAlchemyError) as exc:
                log.error("cannot unload service id %d (%s): %s", sid, reason, exc)
        if released and self._autostart():
            try:
                out["loaded"] = sm.autostart(only=released, reason=reason, who=who)
            except (QorusError, SQLAlchemyError) as exc:
                log.error("cannot autostart the released services (%s): %s", reason, exc)
        return out

    def _jobs(self) -> dict[str, list[int]]:
        """The scheduler plans again (its schedulable jobs leave out the stopped ones)."""
        sched: JobManager | None = self._component(JobManager)
        if sched is None:
            return {"descheduled": [], "scheduled": []}
        before = set(sched.scheduled())
        try:
            sched.tick()
        except (QorusError, SQLAlchemyError) as exc:
            log.error("the job scheduler could not plan the group change: %s", exc)
        after = set(sched.scheduled())
        return {"descheduled": sorted(before - after), "scheduled": sorted(after - before)}


def enforcer(server: ServerContract) -> GroupEnforcer:
    """The server's running ``groups`` component, or (a server without it: tests, tools) one
    that remembers the groups as they are now; call it before changing groups."""
    for comp in server.components:
        if isinstance(comp, GroupEnforcer):
            return comp
    found = GroupEnforcer()
    found.start(server)
    return found
