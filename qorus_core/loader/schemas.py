"""Field, type and enum checks per definition type, following the real Qorus YAML schemas.

Only the keys a schema knows are accepted (a typo such as ``steptyp`` is an error, not a silently
ignored key). Keys that only the Qorus IDE uses are accepted and ignored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from qorus_core.loader.problems import Problems
from qorus_core.loader.yamlload import Doc, Key


@dataclass(frozen=True)
class F:
    """One field: its YAML type, whether it is required, allowed values, maximum length."""

    kind: str  # string int bool float list hash any date, or the name of a record in RECORDS
    required: bool = False
    allowed: tuple[str, ...] | None = None
    max_len: int | None = None
    element: str | None = None  # element type of a list / value type of a hash


LANGS = ("qore", "java", "python")
NAME = F("string", True, max_len=160)
VERSION = F("string", True, max_len=80)
DESC = F("string", max_len=4000)
STRINGS = F("list", element="string")
TAGS = F("hash")
_IDE = {
    "base-class-name": F("string", max_len=160),
    "class-prefixes": F("list"),
    "class-connections": F("hash"),
    "user-metadata": F("hash"),
}
_CODE = {
    "code": F("string"),
    "class-name": F("string", max_len=160),
    "lang": F("string", allowed=LANGS),
    "classes": STRINGS,
    "constants": STRINGS,
    "functions": STRINGS,
    "mappers": STRINGS,
    "vmaps": STRINGS,
    "modules": STRINGS,
    "config-items": F("list", element="config-item"),
    "fsm": F("list"),
    "tags": TAGS,
    **_IDE,
}
_INTERFACE = {
    **_CODE,
    "author": STRINGS,
    "remote": F("bool"),
    "groups": STRINGS,
    "system-options": F("hash"),
}

RECORDS: dict[str, dict[str, F]] = {
    "step": {
        "type": F("string", True),
        "name": NAME,
        "version": VERSION,
        "desc": DESC,
        "steptype": F("string", allowed=("NORMAL", "ASYNC", "SUBWORKFLOW", "EVENT")),
        "arraytype": F("string", allowed=("NONE", "SERIES")),
        "queue": F("string"),
        "event": F("string"),
        "user-interaction": F("bool"),
        **_CODE,
        "code": F("string", True),
        "author": STRINGS,
    },
    "workflow": {
        "type": F("string", True),
        "name": NAME,
        "version": VERSION,
        "desc": F("string", True, max_len=4000),
        "steps": F("list", True),
        "autostart": F("int"),
        "sla_threshold": F("int"),
        "max_instances": F("int"),
        "errors": F("string", max_len=4096),  # an errors file name (or definition name)
        "options": F("hash"),
        "keylist": STRINGS,
        "statuses": F("hash"),
        "config-item-values": F("list"),
        "staticdata-type": F("hash"),
        **_INTERFACE,
    },
    "service": {
        "type": F("string", True),
        "name": NAME,
        "version": VERSION,
        "desc": F("string", True, max_len=4000),
        "servicetype": F("string", allowed=("USER", "SYSTEM")),
        "methods": F("list", True, element="service-method"),
        "autostart": F("bool"),
        "define-auth-label": F("hash"),
        "resource": STRINGS,
        "text-resource": STRINGS,
        "bin-resource": STRINGS,
        "template": STRINGS,
        "stateless": F("bool"),
        "scaling-min-replicas": F("int"),
        "scaling-max-replicas": F("int"),
        "scaling-cpu": F("int"),
        "scaling-memory": F("string"),
        "container-cpu-request": F("float"),
        "container-memory-request": F("string"),
        "container-cpu-limit": F("float"),
        "container-memory-limit": F("string"),
        "api-manager": F("hash"),
        "events": F("list"),
        **_INTERFACE,
        "code": F("string", True),
    },
    "job": {
        "type": F("string", True),
        "name": NAME,
        "version": VERSION,
        "desc": F("string", True, max_len=4000),
        "schedule": F("cron"),
        "duration": F("int"),
        "active": F("bool"),
        "run-skipped": F("bool"),
        "single-instance": F("bool"),
        "expiry-date": F("date"),
        **_INTERFACE,
        "code": F("string", True),
    },
    "class": {
        "type": F("string", True),
        "name": NAME,
        "version": VERSION,
        "desc": DESC,
        "author": STRINGS,
        "requires": STRINGS,
        "class-connectors": F("list"),
        "support-prefix": F("bool"),
        "processor": F("hash"),
        **_CODE,
        "code": F("string", True),
    },
    "errors": {
        "type": F("string", True),
        "name": NAME,
        "desc": F("string", True, max_len=4000),
        "errors": F("list", True, element="error"),
    },
    "group": {
        "type": F("string", True),
        "name": F("string", True, max_len=80),
        "desc": DESC,
        "enabled": F("bool"),
        "workflows": STRINGS,
        "services": STRINGS,
        "jobs": STRINGS,
        "tags": TAGS,
    },
    "event": {"type": F("string", True), "name": NAME, "desc": DESC},
    "queue": {"type": F("string", True), "name": NAME, "desc": DESC},
    # nested records
    "service-method": {
        "name": F("string", True),
        "desc": F("string", True),
        "lock": F("string", allowed=("none", "read", "write")),
        "write": F("bool"),
        "internal": F("bool"),
        "author": F("list"),
    },
    "error": {
        "name": F("string", True, max_len=240),
        "desc": F("string", True, max_len=4000),
        "severity": F("string", allowed=("FATAL", "MAJOR", "MINOR", "WARNING", "INFO", "NONE")),
        "status": F("string", allowed=("ERROR", "RETRY")),
        "business": F("bool"),
        "retry-delay": F("int"),
        "level": F("string", allowed=("AUTO", "GLOBAL", "WORKFLOW")),
    },
    "cron": {
        "minutes": F("string", True),
        "hours": F("string", True),
        "days": F("string", True),
        "months": F("string", True),
        "dow": F("string", True),
    },
    "config-item": {
        "name": F("string", True, max_len=160),
        "description": F("string", max_len=4000),
        "type": F("string"),
        "sensitive": F("bool"),
        "parent": F("hash"),
        "default_value": F("any"),
        "is_default_value_templated_string": F("bool"),
        "default_value_true_type": F("string"),
        "strictly_local": F("bool"),
        "config_group": F("string"),
        "allowed_values": F("list"),
        "value": F("any"),
        "is_value_templated_string": F("bool"),
        "value_true_type": F("string"),
        "prefix": F("string", max_len=120),
    },
}

#: types of the real product that this one does not implement (yet)
UNSUPPORTED_TYPES = (
    "mapper",
    "mapper-code",
    "fsm",
    "pipeline",
    "value-map",
    "connection",
    "constant",
    "function",
    "type",
    "schema-module",
)

_TYPE_NAMES = {
    "string": "a string",
    "int": "an integer",
    "bool": "a boolean (true or false)",
    "float": "a number",
    "list": "a list",
    "hash": "a mapping",
    "date": "a date",
    "cron": "a mapping of cron fields",
}


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "any":
        return True
    if kind == "string":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list)
    if kind == "date":
        if isinstance(value, dt.date):
            return True
        if isinstance(value, str):
            try:
                dt.datetime.fromisoformat(value)
            except ValueError:
                return False
            return True
        return False
    # hash and nested records
    return isinstance(value, dict)


def check_record(
    doc: Doc,
    record: str,
    value: Any,
    key: Key,
    problems: Problems,
    spec: Mapping[str, F] | None = None,
) -> None:
    """Check ``value`` (found at ``key`` in ``doc``) against the record spec ``record`` (or
    ``spec``, the keys of a kind registered with its own record)."""
    spec = RECORDS[record] if spec is None else spec
    where = "" if not key else f" in {_keystr(key)}"
    if not isinstance(value, dict):
        problems.add(doc.path, f"expected a mapping{where}", doc.mark(*key))
        return
    for name, fld in spec.items():
        if fld.required and name not in value:
            problems.add(doc.path, f"missing required key {name!r}{where}", doc.mark(*key))
    for name, item in value.items():
        k = (*key, name)
        fld_or_none = spec.get(name) if isinstance(name, str) else None
        if fld_or_none is None:
            problems.add(doc.path, f"unknown key {name!r}{where}", doc.mark(*k))
            continue
        check_value(doc, fld_or_none, item, k, problems)


def check_value(doc: Doc, fld: F, value: Any, key: Key, problems: Problems) -> None:
    name = _keystr(key)
    if value is None:
        if fld.required:
            problems.add(doc.path, f"{name} must not be empty", doc.mark(*key))
        return
    if key and key[-1] == "version" and isinstance(value, int | float) and fld.kind == "string":
        problems.add(
            doc.path,
            f'version must be a string: quote it (version: "{value}")',
            doc.mark(*key),
        )
        return
    if fld.kind in RECORDS:
        check_record(doc, fld.kind, value, key, problems)
        return
    if not _type_ok(fld.kind, value):
        problems.add(
            doc.path,
            f"{name} must be {_TYPE_NAMES.get(fld.kind, fld.kind)}, not {type(value).__name__}",
            doc.mark(*key),
        )
        return
    if isinstance(value, str):
        if fld.allowed is not None and value not in fld.allowed:
            problems.add(
                doc.path,
                f"{name} is {value!r}; allowed: {', '.join(fld.allowed)}",
                doc.mark(*key),
            )
        if fld.max_len is not None and len(value) > fld.max_len:
            problems.add(
                doc.path, f"{name} is longer than {fld.max_len} characters", doc.mark(*key)
            )
        if fld.required and not value.strip():
            problems.add(doc.path, f"{name} must not be empty", doc.mark(*key))
    if isinstance(value, list) and fld.element is not None:
        for i, item in enumerate(value):
            check_value(doc, F(fld.element, True), item, (*key, i), problems)


def _keystr(key: Key) -> str:
    out = ""
    for part in key:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "document"
