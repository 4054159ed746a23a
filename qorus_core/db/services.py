"""Service rows as the service manager and the API read and change them: definitions with
their methods, the latest versions, autostart and enabled flags, interface groups and the
persistent state data of a service (``service_state_data``).

oload writes the definitions (:mod:`qorus_core.loader.kinds.service`); everything the running
server needs of them is read here, so that ``qorus_server`` builds no statement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from qorus_core.db import tables as t
from qorus_core.db.group_status import stopped
from qorus_core.db.refdata import now
from qorus_core.db.versions import find_version
from qorus_core.model.errors import NotFoundError
from qorus_core.model.versions import latest_by

sv, sm, ss = t.services, t.service_methods, t.service_state_data

#: the service types: ``servicetype`` of a definition, ``service_type`` of its row
SERVICE_TYPES = ("USER", "SYSTEM")
#: method lock types
LOCK_TYPES = ("none", "read", "write")


@dataclass(frozen=True)
class MethodDef:
    name: str
    description: str | None
    lock: str  # none read write
    write: bool
    internal: bool
    service_methodid: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "service_methodid": self.service_methodid,
            "name": self.name,
            "desc": self.description,
            "lock": self.lock,
            "internal": self.internal,
            "write": self.write,
        }


@dataclass(frozen=True)
class ServiceDef:
    """One service version as stored: what the manager compiles and the API shows."""

    serviceid: int
    service_type: str
    name: str
    version: str
    description: str | None
    author: str | None
    autostart: bool
    enabled: bool
    language: str
    class_name: str | None
    code: str | None
    classes: tuple[str, ...]
    resources: dict[str, Any]
    options: dict[str, Any]
    created: datetime | None
    modified: datetime | None
    methods: tuple[MethodDef, ...] = ()
    groups: tuple[str, ...] = field(default=())

    @property
    def type(self) -> str:
        """``user`` or ``system``, as the REST API shows it."""
        return self.service_type.lower()

    def method(self, name: str) -> MethodDef | None:
        for m in self.methods:
            if m.name == name:
                return m
        return None

    def label(self) -> str:
        return f"{self.type} service {self.name} v{self.version} ({self.serviceid})"


def _json(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def _classes(text: str | None) -> tuple[str, ...]:
    value = _json(text, [])
    return tuple(str(c) for c in value) if isinstance(value, list) else ()


def _not_found(label: str) -> NotFoundError:
    return NotFoundError(f"service {label!r} does not exist", code="SERVICE-ERROR")


def find_service(
    conn: Connection,
    name_or_id: str | int,
    version: str | None = None,
    service_type: str | None = None,
) -> int:
    """The serviceid of a service given by id, or by name (the latest version in natural
    version order unless ``version`` is given); ``service_type`` (USER or SYSTEM) limits the
    search to that type. 404 SERVICE-ERROR when there is none."""
    where = [sv.c.service_type == service_type] if service_type else []
    as_id = isinstance(name_or_id, str) and name_or_id.isascii() and name_or_id.isdigit()
    if isinstance(name_or_id, int) or as_id:
        row = conn.execute(
            select(sv.c.serviceid).where(sv.c.serviceid == int(name_or_id), *where)
        ).first()
        if row is not None:
            return int(row[0])
    found = find_version(conn, sv, str(name_or_id), version, *where)
    if found is None:
        label = f"{name_or_id}" + (f" v{version}" if version else "")
        raise _not_found(label)
    return found[0]


def _methods(conn: Connection, serviceids: list[int]) -> dict[int, list[MethodDef]]:
    out: dict[int, list[MethodDef]] = {}
    if not serviceids:
        return out
    for r in conn.execute(
        select(sm)
        .where(sm.c.serviceid.in_(serviceids))
        .order_by(sm.c.serviceid, sm.c.service_methodid)
    ):
        m = r._mapping
        out.setdefault(int(m["serviceid"]), []).append(
            MethodDef(
                name=m["name"],
                description=m["description"],
                lock=str(m["locktype"] or "none"),
                write=bool(m["write"]),
                internal=bool(m["internal"]),
                service_methodid=int(m["service_methodid"]),
            )
        )
    return out


def _groups(conn: Connection, serviceids: list[int]) -> dict[int, list[str]]:
    gs, g = t.group_services, t.groups
    out: dict[int, list[str]] = {}
    if not serviceids:
        return out
    for sid, name in conn.execute(
        select(gs.c.serviceid, g.c.name)
        .join(g, g.c.groupid == gs.c.groupid)
        .where(gs.c.serviceid.in_(serviceids))
        .order_by(g.c.name)
    ):
        out.setdefault(int(sid), []).append(str(name))
    return out


def _def(m: Any, methods: list[MethodDef], groups: list[str]) -> ServiceDef:
    return ServiceDef(
        serviceid=int(m["serviceid"]),
        service_type=str(m["service_type"]),
        name=str(m["name"]),
        version=str(m["version"]),
        description=m["description"],
        author=m["author"],
        autostart=bool(m["autostart"]),
        enabled=bool(m["enabled"]),
        language=str(m["language"] or "python"),
        class_name=m["class_name"],
        code=m["code"],
        classes=_classes(m["classes"]),
        resources=_json(m["resources"], {}),
        options=_json(m["options"], {}),
        created=m["created"],
        modified=m["modified"],
        methods=tuple(methods),
        groups=tuple(groups),
    )


def load_service(conn: Connection, serviceid: int) -> ServiceDef:
    """One service version with its methods and interface groups; 404 when it is gone."""
    row = conn.execute(select(sv).where(sv.c.serviceid == serviceid)).first()
    if row is None:
        raise _not_found(f"id {serviceid}")
    return _def(
        row._mapping,
        _methods(conn, [serviceid]).get(serviceid, []),
        _groups(conn, [serviceid]).get(serviceid, []),
    )


def latest_services(conn: Connection, service_type: str | None = None) -> list[ServiceDef]:
    """The latest version of every service (by type and name), ordered by type and name."""
    where = [sv.c.service_type == service_type] if service_type else []
    rows = conn.execute(select(sv).where(*where)).all()
    by_name: dict[tuple[str, str], list[Any]] = {}
    for r in rows:
        m = r._mapping
        by_name.setdefault((str(m["service_type"]), str(m["name"])), []).append(m)
    chosen = []
    for key in sorted(by_name):
        newest = latest_by(by_name[key], lambda m: str(m["version"]))
        if newest is not None:
            chosen.append(newest)
    ids = [int(m["serviceid"]) for m in chosen]
    methods, groups = _methods(conn, ids), _groups(conn, ids)
    return [
        _def(m, methods.get(int(m["serviceid"]), []), groups.get(int(m["serviceid"]), []))
        for m in chosen
    ]


def autostart_services(conn: Connection) -> list[int]:
    """The latest version of every enabled service whose ``autostart`` is set and that no
    disabled interface group stops."""
    held = stopped(conn, "service")
    return [
        s.serviceid
        for s in latest_services(conn)
        if s.autostart and s.enabled and s.serviceid not in held
    ]


def set_flags(
    conn: Connection, serviceid: int, *, autostart: bool | None = None, enabled: bool | None = None
) -> bool:
    """Store a service's autostart and/or enabled flag; False when no such service."""
    values: dict[str, Any] = {"modified": now()}
    if autostart is not None:
        values["autostart"] = bool(autostart)
    if enabled is not None:
        values["enabled"] = bool(enabled)
    res = conn.execute(update(sv).where(sv.c.serviceid == serviceid).values(**values))
    return bool(res.rowcount)


# ---------------------------------------------------------------------- state data


def get_state(conn: Connection, serviceid: int) -> Any:
    """The state data a service saved (None when it saved none)."""
    row = conn.execute(select(ss.c.data).where(ss.c.serviceid == serviceid)).first()
    if row is None or row[0] is None:
        return None
    return _json(row[0], None)


def state_text(data: Any) -> str | None:
    """State data as stored: JSON with sorted keys (None for None). Raises ValueError for NaN
    or Infinity, TypeError for what JSON cannot hold."""
    return None if data is None else json.dumps(data, sort_keys=True, allow_nan=False)


def save_state(conn: Connection, serviceid: int, text: str | None) -> None:
    """Replace a service's state data with ``text`` (:func:`state_text`; None clears it), in
    the caller's transaction."""
    if text is None:
        conn.execute(delete(ss).where(ss.c.serviceid == serviceid))
        return
    ts = now()
    res = conn.execute(update(ss).where(ss.c.serviceid == serviceid).values(data=text, modified=ts))
    if res.rowcount:
        return
    try:
        with conn.begin_nested():
            conn.execute(insert(ss).values(serviceid=serviceid, data=text, created=ts, modified=ts))
    except IntegrityError:
        # another node inserted the row meanwhile: its data is replaced by ours
        conn.execute(update(ss).where(ss.c.serviceid == serviceid).values(data=text, modified=ts))
