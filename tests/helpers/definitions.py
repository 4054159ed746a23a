"""TEST-ONLY: small interface definitions, written as real Qorus files and stored by the REAL
loader (``qorus_core.loader.load``, what ``oload`` runs).

Each call writes the files a user would write (``*.qstep.yaml`` + ``.qstep.py``,
``*.qwf.yaml`` + ``.qwf.py``, ``*.qclass.yaml`` + ``.py``, ``*.qerrors.yaml``,
``*.qqueue.yaml``, ``*.qevent.yaml``) into a temporary directory and loads them in one loader
call, so the way definitions are stored has one implementation: the loader's. Nothing here
writes a definitions table.

Option values (``add_workflow(options=...)``) are not part of a definition file: as in Qorus,
the definition declares its own options and values are set afterwards with the
``workflows.set-options`` operation (``PUT /api/latest/workflows/{id}?action=setOptions``),
which is what ``add_workflow`` calls.
"""

from __future__ import annotations

import json
import tempfile
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from qorus_core.loader import LoadError, LoadResult, load
from qorus_core.options import Options
from qorus_server.api import REGISTRY, CallContext
from qorus_server.api.workflows import WORKFLOW_LEVEL_OPTIONS
from tests.helpers.engine import TestServer

StepsSpec = list[Any]


def _yaml(**fields: Any) -> str:
    """A definition file: one ``key: value`` line per field (JSON values are YAML flow values);
    ``None`` fields are left out. Keys are written with dashes (``class_name`` ->
    ``class-name``)."""
    lines = []
    for key, value in fields.items():
        if value is not None:
            lines.append(f"{key.replace('_', '-')}: {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def load_files(engine: Engine, files: Mapping[str, str]) -> LoadResult:
    """Write ``files`` (file name -> text) into a fresh directory and load them all in one
    loader call; an AssertionError listing every problem when the loader refuses them."""
    with tempfile.TemporaryDirectory(prefix="qorus-defs-") as tmp:
        root = Path(tmp)
        for fname, text in files.items():
            (root / fname).write_text(text, encoding="utf-8")
        paths = [str(root / f) for f in files if f.endswith(".yaml")]
        try:
            return load(engine, paths)
        except LoadError as exc:
            problems = "\n".join(str(p) for p in exc.problems)
            raise AssertionError(f"the loader refused the test definitions:\n{problems}") from None


def _oid(result: LoadResult, kind: str, name: str) -> int:
    for o in result.outcomes:
        if o.definition.kind == kind and o.definition.name == name and o.oid is not None:
            return o.oid
    raise AssertionError(f"the load stored no {kind} {name}")


def add_class(engine: Engine, name: str, code: str, *, version: str = "1.0") -> int:
    """A Python library class ``name`` (the class of that name in ``code``); its classid."""
    base = f"{name}-{version}.qclass"
    res = load_files(
        engine,
        {
            f"{base}.yaml": _yaml(
                type="class",
                name=name,
                version=version,
                desc=f"test class {name}",
                lang="python",
                code=f"{base}.py",
            ),
            f"{base}.py": textwrap.dedent(code),
        },
    )
    return _oid(res, "class", name)


def add_step(
    engine: Engine,
    name: str,
    code: str,
    *,
    version: str = "1.0",
    steptype: str = "NORMAL",
    arraytype: str = "NONE",
    class_name: str | None = None,
    classes: list[str] | None = None,
    queue: str | None = None,
    event: str | None = None,
) -> int:
    """A Python step whose class (``class_name``, default ``name``) is in ``code``; its stepid.

    ``classes`` names library classes loaded before (``add_class``); ``queue`` (ASYNC steps)
    and ``event`` (EVENT steps) are loaded with the step as ``type: queue`` / ``type: event``
    files."""
    base = f"{name}-{version}.qstep"
    files = {
        f"{base}.yaml": _yaml(
            type="step",
            name=name,
            version=version,
            desc=f"test step {name}",
            lang="python",
            steptype=steptype,
            arraytype=arraytype if arraytype != "NONE" else None,
            class_name=class_name,
            classes=classes,
            queue=queue,
            event=event,
            code=f"{base}.py",
        ),
        f"{base}.py": textwrap.dedent(code),
    }
    if queue is not None:
        files[f"{queue}.qqueue.yaml"] = _yaml(type="queue", name=queue, desc=f"queue {queue}")
    if event is not None:
        files[f"{event}.qevent.yaml"] = _yaml(type="event", name=event, desc=f"event {event}")
    return _oid(load_files(engine, files), "step", name)


def noop_step(engine: Engine, name: str, body: str = "pass", **kw: Any) -> int:
    """A NORMAL step whose ``primary()`` runs ``body`` (indented for you); its stepid."""
    code = f"from wf import QorusNormalStep\n\n\nclass {name}(QorusNormalStep):\n"
    code += "    def primary(self):\n"
    code += textwrap.indent(textwrap.dedent(body).strip() + "\n", "        ")
    return add_step(engine, name, code, **kw)


def add_workflow(
    engine: Engine,
    name: str,
    steps: StepsSpec,
    *,
    version: str = "1.0",
    keys: list[str] | None = None,
    autostart: int = 0,
    options: dict[str, Any] | None = None,
    errors: dict[str, dict[str, Any]] | None = None,
    code: str | None = None,
    class_name: str | None = None,
) -> int:
    """A workflow of steps loaded before (``steps`` as in a ``*.qwf.yaml``: names or
    ``name:version``; a nested list holds parallel branches); its workflowid.

    ``errors`` (error name -> the fields of an errors file entry: ``severity``, ``status``,
    ``business``, ``retry-delay``, ``level``, ``desc``) is loaded with the workflow as its
    errors file (``errors: <file>``); ``options`` (name -> value) are then set with the
    ``workflows.set-options`` operation, the workflow's own ones declared in its file."""
    base = f"{name}-{version}.qwf"
    files: dict[str, str] = {}
    errors_file = None
    if errors is not None:
        errors_file = f"{name}-errors.qerrors.yaml"
        entries = [{"name": e, "desc": spec.get("desc", e), **spec} for e, spec in errors.items()]
        files[errors_file] = _yaml(
            type="errors", name=f"{name}-errors", desc=f"errors of {name}", errors=entries
        )
    own = {k: k for k in options or {} if k not in WORKFLOW_LEVEL_OPTIONS}
    files[f"{base}.yaml"] = _yaml(
        type="workflow",
        name=name,
        version=version,
        desc=f"test workflow {name}",
        lang="python" if code is not None else None,
        autostart=autostart,
        keylist=keys,
        options=own or None,
        errors=errors_file,
        class_name=class_name,
        code=f"{base}.py" if code is not None else None,
        steps=steps,
    )
    if code is not None:
        files[f"{base}.py"] = textwrap.dedent(code)
    wfid = _oid(load_files(engine, files), "workflow", name)
    if options:
        _set_options(engine, wfid, options)
    return wfid


class _NoInstances:
    """The workflow manager of a server that runs nothing yet: a reset has nothing to do."""

    def reset(self, name: str | int, version: str | None = None) -> dict[str, Any]:
        return {}


def _set_options(engine: Engine, wfid: int, values: dict[str, Any]) -> None:
    server = TestServer(engine, Options({}), session=False)
    server.workflows = _NoInstances()
    REGISTRY.call(
        "workflows.set-options", CallContext(server=server), {"id": wfid, "options": values}
    )


def add_job(
    engine: Engine,
    name: str,
    body: str = "pass",
    *,
    version: str = "1.0",
    schedule: str | None = None,
    duration: int | None = None,
    active: bool | None = None,
    run_skipped: bool | None = None,
    single_instance: bool | None = None,
    expiry_date: str | None = None,
    code: str | None = None,
    class_name: str | None = None,
) -> int:
    """A job whose ``run()`` runs ``body`` (indented for you), or whose code is ``code``, on
    the cron ``schedule`` ``"m h d M dow"`` or every ``duration`` seconds (every minute when
    neither is given); its jobid. ``expiry_date`` is ISO text, written as a YAML date."""
    base = f"{name}-{version}.qjob"
    sched = None
    if duration is None:
        fields = (schedule or "* * * * *").split()
        sched = dict(zip(("minutes", "hours", "days", "months", "dow"), fields, strict=True))
    if code is None:
        code = f"from job import QorusJob\n\n\nclass {name}(QorusJob):\n    def run(self):\n"
        code += textwrap.indent(textwrap.dedent(body).strip() + "\n", "        ")
    text = _yaml(
        type="job",
        name=name,
        version=version,
        desc=f"test job {name}",
        lang="python",
        class_name=class_name or name,
        active=active,
        run_skipped=run_skipped,
        single_instance=single_instance,
        schedule=sched,
        duration=duration,
        code=f"{base}.py",
    )
    if expiry_date is not None:
        text += f"expiry-date: {expiry_date}\n"
    return _oid(
        load_files(engine, {f"{base}.yaml": text, f"{base}.py": textwrap.dedent(code)}),
        "job",
        name,
    )


def add_service(
    engine: Engine,
    name: str,
    code: str,
    methods: list[str | dict[str, Any]],
    *,
    version: str = "1.0",
    class_name: str | None = None,
    servicetype: str = "USER",
    autostart: bool = False,
    classes: list[str] | None = None,
    groups: list[str] | None = None,
) -> int:
    """A Python service whose class (``class_name``, default ``name`` in CamelCase:
    ``my-svc`` -> ``MySvc``) is in ``code``; ``methods`` are names or the fields of a
    ``methods:`` entry (``name``, ``lock``, ``write``, ``internal``, ``desc``); its
    serviceid."""
    base = f"{name}-{version}.qsd"
    entries = [
        {"name": m, "desc": f"method {m}"} if isinstance(m, str) else {"desc": "m", **m}
        for m in methods
    ]
    res = load_files(
        engine,
        {
            f"{base}.yaml": _yaml(
                type="service",
                name=name,
                version=version,
                desc=f"test service {name}",
                servicetype=servicetype,
                lang="python",
                autostart=autostart,
                class_name=class_name or "".join(p.capitalize() for p in name.split("-")),
                classes=classes,
                groups=groups,
                code=f"{base}.py",
                methods=entries,
            ),
            f"{base}.py": textwrap.dedent(code),
        },
    )
    return _oid(res, "service", name)
