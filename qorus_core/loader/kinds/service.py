"""Services: a versioned, coded kind with its methods as child rows."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete as sql_delete

from qorus_core.db import tables as t
from qorus_core.loader import pycode
from qorus_core.loader.delete import Deleter, DeleteSpec
from qorus_core.loader.kinds.registry import Kind
from qorus_core.loader.listing import versioned
from qorus_core.loader.model import Definition
from qorus_core.loader.problems import Problems
from qorus_core.loader.store import Store, code_columns, json_value
from qorus_core.loader.upsert import Children, upsert


def check(d: Definition, problems: Problems) -> None:
    seen: set[str] = set()
    for i, m in enumerate(d.data["methods"]):
        if m["name"] in seen:
            problems.add(d.path, f"method {m['name']!r} is defined twice", d.doc.mark("methods", i))
        seen.add(m["name"])
    if not d.data["methods"]:
        problems.add(d.path, "a service needs at least one method", d.doc.mark("methods"))


#: what the service base class itself defines (methods listed in ``methods:`` may be these)
SERVICE_BASE_NAMES = {pycode.TYPE_BASES["service"]: {"init"}}


def check_code(
    d: Definition, library: Callable[[str], pycode.CodeInfo | None], problems: Problems
) -> None:
    """Every method the definition lists is defined by the service class (or a base class
    of this file or of a library class); ``start()`` needs ``stop()``."""
    assert d.class_name is not None

    def has(attr: str) -> bool | None:
        assert d.class_name is not None
        return pycode.defines(
            d.top_classes, d.top_methods, d.class_name, attr, library, SERVICE_BASE_NAMES
        )

    for i, m in enumerate(d.data["methods"]):
        found = has(str(m["name"]))
        if found is False:
            problems.add(
                d.path,
                f"method {m['name']!r} is not defined by class {d.class_name!r} "
                f"({d.code_path.name if d.code_path else 'its code'})",
                d.doc.mark("methods", i, "name"),
            )
    if has("start") and has("stop") is False:
        problems.add(
            d.path,
            f"class {d.class_name!r} defines start() but not stop(): the service manager calls "
            "stop() to end start() when the service unloads",
            d.doc.mark("code"),
        )


def store(s: Store, d: Definition) -> tuple[int | None, str]:
    data = d.data
    row = code_columns(d)
    resources = {
        k: data[k] for k in ("resource", "text-resource", "bin-resource", "template") if data.get(k)
    }
    row.update(
        service_type=data.get("servicetype", "USER"),
        autostart=bool(data.get("autostart", False)),
        resources=json_value(resources),
        options=json_value(data.get("system-options")),
    )
    methods = [
        {
            "name": m["name"],
            "description": m.get("desc"),
            "locktype": m.get("lock", "none"),
            "write": bool(m.get("write", False)),
            "internal": bool(m.get("internal", False)),
        }
        for m in data["methods"]
    ]
    return upsert(
        s.conn,
        t.services,
        "serviceid",
        {"name": d.name, "version": d.version},
        row,
        [Children(t.service_methods, "serviceid", methods)],
        insert_only={"enabled": True},
    )


def delete(dl: Deleter, spec: DeleteSpec) -> None:
    for sid, name, version in dl.ids_of(t.services, "serviceid", spec):
        for table in (t.service_methods, t.service_state_data, t.group_services):
            dl.conn.execute(sql_delete(table).where(table.c.serviceid == sid))
        dl.conn.execute(sql_delete(t.services).where(t.services.c.serviceid == sid))
        dl.done.append(f"deleted service {name}:{version} (id {sid})")


KIND = Kind(
    "service",
    store,
    delete,
    versioned(t.services, "serviceid", "service_type"),
    check=check,
    versioned=True,
    coded=True,
    api_base=lambda _d: pycode.TYPE_BASES["service"],
    check_code=check_code,
    stage=6,
    table=t.services,
    idcol="serviceid",
)
