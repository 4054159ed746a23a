"""Validation of a whole load, before anything is written: every problem of every file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qorus_core.loader import errorsref, kinds, pycode, schemas
from qorus_core.loader.catalog import Catalog
from qorus_core.loader.model import Definition
from qorus_core.loader.problems import Problems
from qorus_core.loader.steps import segments
from qorus_core.loader.yamlload import YamlError, YamlLimitError, parse_file
from qorus_core.model.refs import split_ref
from qorus_core.model.versions import latest, latest_by, sort_versions

_LANG_BY_SUFFIX = {
    ".py": "python",
    ".java": "java",
    ".qstep": "qore",
    ".qsd": "qore",
    ".qjob": "qore",
    ".qclass": "qore",
    ".qwf": "qore",
    ".qfd": "qore",
    ".qc": "qore",
    ".qm": "qore",
    ".q": "qore",
}
_LANG_NAMES = {"qore": "Qore", "java": "Java"}
#: keys naming kinds of objects this product does not implement
_UNSUPPORTED_KEYS = {
    "fsm": "finite state machine (fsm) triggers",
    "mappers": "mappers",
    "vmaps": "value maps",
    "constants": "Qore constants",
    "functions": "Qore functions",
}


def read_definition(path: Path, problems: Problems) -> Definition | None:
    """Parse one YAML file and run every check that needs only that file."""
    try:
        doc = parse_file(path)
    except YamlError as exc:
        what = "refused" if isinstance(exc, YamlLimitError) else "invalid YAML"
        problems.add(path, f"{what}: {exc.message}", (exc.line or 1, exc.column or 1))
        return None
    except OSError as exc:
        problems.add(path, f"cannot read: {exc.strerror or exc}")
        return None
    if not isinstance(doc.data, dict):
        problems.add(path, "not an interface definition: expected a YAML mapping", doc.mark())
        return None
    kind = doc.data.get("type")
    if kind is None:
        problems.add(path, "no 'type:' key: not an interface definition", doc.mark())
        return None
    k = kinds.get(kind) if isinstance(kind, str) else None
    if k is None:
        if kind in schemas.UNSUPPORTED_TYPES:
            problems.add(path, f"type {kind!r} is not supported by qorus-py", doc.mark("type"))
        else:
            problems.add(path, f"unknown definition type {kind!r}", doc.mark("type"))
        return None
    before = len(problems)
    if isinstance(doc.data.get("name"), str):
        problems.rejected[(str(kind), doc.data["name"].strip())] = path
    schemas.check_record(doc, str(kind), doc.data, (), problems, k.record)
    if len(problems) > before:
        return None
    d = Definition(kind, doc, str(doc.data["name"]).strip())
    if k.versioned:
        d.version = str(doc.data["version"]).strip()
    _check_name(d, problems)
    for key, what in _UNSUPPORTED_KEYS.items():
        if doc.data.get(key):
            problems.add(path, f"{what} ({key}:) are not supported by qorus-py", doc.mark(key))
    if k.coded:
        _read_code(d, problems)
    if k.check is not None:
        k.check(d, problems)
    if len(problems) > before:
        return None
    problems.rejected.pop((str(kind), d.name), None)
    return d


def _check_name(d: Definition, problems: Problems) -> None:
    for key, value in (("name", d.name), ("version", d.version)):
        if value is None:
            continue
        if not value:
            problems.add(d.path, f"{key} must not be empty", d.doc.mark(key))
        elif ":" in value or any(c.isspace() for c in value):
            problems.add(d.path, f"{key} {value!r} must not contain ':' or spaces", d.doc.mark(key))


def _read_code(d: Definition, problems: Problems) -> None:
    data, doc = d.data, d.doc
    code_ref = data.get("code")
    lang = data.get("lang")
    if lang is None and code_ref:
        lang = _LANG_BY_SUFFIX.get(Path(code_ref).suffix, "python")
    d.lang = str(lang or "python")
    if d.lang != "python":
        key = "lang" if "lang" in data else "code"
        problems.add(
            d.path,
            f"{_LANG_NAMES.get(d.lang, d.lang)} code is not supported: {d.label} is written in "
            f"{d.lang} ({code_ref or 'no code file'}); qorus-py loads Python interfaces only",
            doc.mark(key),
        )
        return
    if not code_ref:
        if data.get("class-name"):
            problems.add(d.path, "class-name given without a code file", doc.mark("class-name"))
        return
    code_path = (d.path.parent / code_ref).resolve()
    if not code_path.is_file():
        problems.add(d.path, f"code file {code_ref} does not exist", doc.mark("code"))
        return
    try:
        source = code_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(d.path, f"cannot read code file {code_ref}: {exc}", doc.mark("code"))
        return
    try:
        tree = pycode.parse(source, str(code_path))
    except pycode.CodeError as exc:
        problems.add(
            code_path,
            f"does not compile: {exc.message}",
            (exc.line, exc.column or 1) if exc.line else None,
        )
        return
    d.code, d.code_path = source, code_path
    d.class_name = str(data.get("class-name") or d.name)
    d.top_classes = pycode.top_classes(tree)
    d.top_methods = pycode.top_methods(tree)
    if d.class_name not in d.top_classes:
        key = "class-name" if "class-name" in data else "name"
        problems.add(d.path, f"class {d.class_name!r} is not defined in {code_ref}", doc.mark(key))


class Resolver:
    """Answers "does X exist, and which version is latest" over this load and the schema."""

    def __init__(self, defs: list[Definition], catalog: Catalog) -> None:
        self.catalog = catalog
        self.by_kind: dict[str, dict[str, Definition]] = {}
        for d in defs:
            self.by_kind.setdefault(d.kind, {})[d.ref] = d

    def versions(self, kind: str, name: str) -> list[str]:
        stored: set[tuple[str, str]] = {
            "step": set(self.catalog.steps),
            "class": set(self.catalog.classes),
            "workflow": self.catalog.workflows,
            "service": self.catalog.services,
            "job": self.catalog.jobs,
        }[kind]
        vs = {v for n, v in stored if n == name}
        vs |= {
            d.version for d in self.by_kind.get(kind, {}).values() if d.name == name and d.version
        }
        return sort_versions(vs)

    def resolve(self, kind: str, ref: str) -> str | None:
        """'name' or 'name:version' -> 'name:version' when it exists (latest for a bare name)."""
        name, version = split_ref(ref)
        versions = self.versions(kind, name)
        if version is None:
            last = latest(versions)
            return f"{name}:{last}" if last is not None else None
        return f"{name}:{version}" if version in versions else None

    def exists(self, kind: str, name: str) -> bool:
        if name in self.by_kind.get(kind, {}):
            return True
        stored = {
            "queue": self.catalog.queues,
            "event": self.catalog.events,
            "group": self.catalog.groups,
        }[kind]
        return name in stored

    def errors(self, ref: str, workflow_path: Path) -> str:
        """The errors definition a workflow's ``errors: ref`` names (see errorsref)."""
        loaded = [
            errorsref.ErrorsFile(d.name, str(d.path))
            for d in self.by_kind.get("errors", {}).values()
        ]
        return errorsref.resolve(ref, workflow_path, loaded, self.catalog.error_files)

    def step_type(self, ref: str) -> str:
        d = self.by_kind.get("step", {}).get(ref)
        if d is not None:
            return str(d.data.get("steptype", "NORMAL"))
        name, version = split_ref(ref)
        return self.catalog.steps[(name, version or "")].steptype

    def library(self, name: str) -> dict[str, list[str]] | None:
        """Top classes of library class ``name`` (by definition name or Python class name)."""
        found = self.library_code(name)
        return None if found is None else found[0]

    def library_code(self, name: str) -> pycode.CodeInfo | None:
        """Top classes of library class ``name`` and the names they define."""
        loaded = [
            d for d in self.by_kind.get("class", {}).values() if name in (d.name, d.class_name)
        ]
        newest = latest_by(loaded, lambda d: d.version or "")
        if newest is not None:
            return newest.top_classes, newest.top_methods
        return self.catalog.library_code(name)


def cross_check(defs: list[Definition], catalog: Catalog, problems: Problems) -> None:
    """Checks that need the whole load and the schema: references, steps, base classes."""
    seen: dict[tuple[str, str], Definition] = {}
    for d in defs:
        key = (d.kind, d.ref)
        if key in seen:
            problems.add(
                d.path, f"{d.label} is also defined in {seen[key].path}", d.doc.mark("name")
            )
        seen[key] = d
    res = Resolver(defs, catalog)
    for d in defs:
        _check_refs(d, res, problems)
        if d.kind == "workflow" and d.graph is not None:
            _resolve_steps(d, res, problems)
        if d.code is not None and d.class_name is not None:
            _check_base(d, res, problems)
            kind = kinds.get(d.kind)
            if kind is not None and kind.check_code is not None:
                kind.check_code(d, res.library_code, problems)


def _check_refs(d: Definition, res: Resolver, problems: Problems) -> None:
    data, doc = d.data, d.doc
    for i, cls in enumerate(data.get("classes") or []):
        if res.resolve("class", cls) is None:
            problems.add(d.path, _undefined(problems, "class", cls), doc.mark("classes", i))
    if d.kind == "step":
        for key, kind in (("queue", "queue"), ("event", "event")):
            if data.get(key) and not res.exists(kind, data[key]):
                problems.add(
                    d.path,
                    f"{kind} {data[key]!r} is not defined (load a 'type: {kind}' file)",
                    doc.mark(key),
                )
    if d.kind == "workflow" and data.get("errors") is not None:
        try:
            d.errors_name = res.errors(data["errors"], d.path)
        except errorsref.ErrorsRefError as exc:
            broken = _broken_errors_file(problems, data["errors"], d.path)
            msg = (
                f"errors file {errorsref.shown(data['errors'])} is {broken}, which has errors"
                if broken is not None
                else exc.message
            )
            problems.add(d.path, msg, doc.mark("errors"))
    for i, g in enumerate(data.get("groups") or []):
        if g != "DEFAULT" and not res.exists("group", g):
            problems.add(d.path, f"group {g!r} is not defined", doc.mark("groups", i))
    if d.kind == "group":
        for key, kind in (("workflows", "workflow"), ("services", "service"), ("jobs", "job")):
            for i, ref in enumerate(data.get(key) or []):
                if res.resolve(kind, ref) is None:
                    problems.add(d.path, _undefined(problems, kind, ref), doc.mark(key, i))


def _broken_errors_file(problems: Problems, ref: str, workflow_path: Path) -> Path | None:
    """The errors file of this load that ``ref`` names but that failed its own checks."""
    rejected = {n: p for (k, n), p in problems.rejected.items() if k == "errors"}
    files = [errorsref.ErrorsFile(n, str(p)) for n, p in rejected.items()]
    try:
        return rejected[errorsref.resolve(ref, workflow_path, files, [])]
    except errorsref.ErrorsRefError:
        return None


def _resolve_steps(d: Definition, res: Resolver, problems: Problems) -> None:
    assert d.graph is not None
    ok = True
    for ref in d.graph.order:
        full = res.resolve("step", ref)
        if full is None:
            problems.add(d.path, _undefined(problems, "step", ref), d.doc.mark(*d.graph.keys[ref]))
            ok = False
        else:
            d.resolved[ref] = full
    if not ok:
        return
    fulls = list(d.resolved.values())
    if len(set(fulls)) != len(fulls):
        problems.add(d.path, "a step appears more than once in the workflow", d.doc.mark("steps"))
        return
    from qorus_core.loader.steps import StepGraph

    g = StepGraph(
        order=[d.resolved[r] for r in d.graph.order],
        deps={d.resolved[r]: [d.resolved[p] for p in ps] for r, ps in d.graph.deps.items()},
        keys={d.resolved[r]: k for r, k in d.graph.keys.items()},
    )
    d.graph = g
    d.segments = segments(g, res.step_type)


def _undefined(problems: Problems, kind: str, ref: str) -> str:
    broken = problems.rejected.get((kind, split_ref(ref)[0]))
    if broken is not None:
        return f"{kind} {ref!r} is defined in {broken}, which has errors"
    return f"{kind} {ref!r} is not defined (not in this load nor in the schema)"


def _check_base(d: Definition, res: Resolver, problems: Problems) -> None:
    assert d.class_name is not None
    kind = kinds.get(d.kind)
    base = kind.api_base(d) if kind is not None and kind.api_base is not None else None
    if base is None:
        return
    if not pycode.derives_from(d.top_classes, d.class_name, base, res.library):
        key = "class-name" if "class-name" in d.data else "code"
        problems.add(d.path, f"class {d.class_name!r} must derive from {base}", d.doc.mark(key))


def expiry(value: Any) -> dt.datetime | None:
    """A job's expiry-date as a naive datetime."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return (
            value.replace(tzinfo=None)
            if value.tzinfo is None
            else value.astimezone(dt.UTC).replace(tzinfo=None)
        )
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return expiry(dt.datetime.fromisoformat(str(value)))


def validate(
    paths: list[Path],
    catalog: Catalog,
    problems: Problems,
    progress: Callable[[Path], None] | None = None,
) -> list[Definition]:
    """Read and check every file; the definitions that passed (all of them when no problems)."""
    defs: list[Definition] = []
    for p in paths:
        d = read_definition(p, problems)
        if d is not None:
            defs.append(d)
        if progress is not None:
            progress(p)
    cross_check(defs, catalog, problems)
    return defs
