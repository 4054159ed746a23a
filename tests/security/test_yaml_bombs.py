"""Documents that explode once expanded: YAML alias bombs given to oload and sent as request
bodies, deep JSON, XML entities (billion laughs, external entities), deep XML.

Found: a 10-level, 9-way alias file made oload take all memory until the kernel killed it; a
271-byte YAML body to system/echo by a read-only user came back as 33.6 MB.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from hostile_http import ADMIN, VIEWER, rbac_server, vmrss_kb
from qorus_proc import env
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

STEP_CODE = (
    "from wf import QorusNormalStep\n\n\nclass {0}(QorusNormalStep):\n"
    "    def primary(self):\n        pass\n"
)


def alias_bomb(indent: str = "") -> str:
    """Ten levels of nine aliases: about 300 bytes, 3.5 billion nodes once expanded."""
    lines = [f"{indent}a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 11):
        lines.append(f"{indent}a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def step_file(root: Path, name: str, extra: str = "") -> Path:
    (root / f"{name}.py").write_text(STEP_CODE.format(name))
    path = root / f"{name}-1.0.qstep.yaml"
    path.write_text(
        f'type: step\nname: {name}\nversion: "1.0"\ndesc: step {name}\nlang: python\n'
        f"steptype: NORMAL\ncode: {name}.py\n{extra}"
    )
    return path


def _limit_memory() -> None:
    # without the limit a bomb would take the machine; with it, it fails fast instead
    resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))


def oload(omq: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qorus_cli.oload", "--qorus-dir", str(omq), *map(str, files)],
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=_limit_memory,
    )


def loaded(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            tb.name: conn.execute(select(func.count()).select_from(tb)).scalar_one()
            for tb in (t.steps, t.workflows, t.services, t.jobs, t.classes, t.audit_events)
        }


def test_oload_refuses_documents_that_explode(
    omq_dir: Path, engine: Engine, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    good = step_file(src, "GoodStep")
    bomb = step_file(src, "BombStep", "tags:\n" + alias_bomb("  "))
    loop = step_file(src, "LoopStep", "tags: &t\n  self: *t\n")
    deep = step_file(src, "DeepStep", "tags: " + "[" * 300 + "]" * 300 + "\n")
    before = loaded(engine)
    for bad, line, what in (
        (bomb, 14, "once its aliases are expanded"),
        (loop, 9, "recursive structure"),
        (deep, 8, "nested more than 200 levels"),
    ):
        res = oload(omq_dir, good, bad)
        out = res.stdout + res.stderr
        assert res.returncode != 0, out
        assert f"{bad}:{line}:" in out and what in out, out
        assert "MemoryError" not in out and "Traceback" not in out, out
        assert loaded(engine) == before  # the good file in the same load is not written either
    res = oload(omq_dir, good)
    assert res.returncode == 0, res.stdout + res.stderr
    assert loaded(engine)["steps"] == before["steps"] + 1


XML_CALL = (
    '<?xml version="1.0"?>{doctype}<methodCall><methodName>x</methodName><params><param>'
    "<value><struct><member><name>a</name><value>{value}</value></member></struct></value>"
    "</param></params></methodCall>"
)
LAUGHS = (
    '<!DOCTYPE l [<!ENTITY a "lollollollol">'
    + "".join(
        f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "]>"
)


def test_bodies_that_explode_are_refused(omq_dir: Path, start_qorus: Any) -> None:
    q = rbac_server(omq_dir, start_qorus)
    api = f"{q.url}/api/latest"
    before = vmrss_kb(q.proc.pid)

    def echo(body: str, ctype: str, auth: tuple[str, str] = VIEWER) -> httpx.Response:
        return httpx.request(
            "GET", f"{api}/system/echo", content=body, headers={"content-type": ctype}, auth=auth
        )

    bomb = alias_bomb()
    assert len(bomb) < 600
    for ctype in ("application/x-yaml", "text/x-yaml", "application/yaml"):
        r = echo(bomb, ctype)
        assert r.status_code == 400, r.text[:300]
        assert r.json()["err"] == "INVALID-ARGUMENT"
        assert "aliases are expanded" in r.json()["desc"] and "line" in r.json()["desc"]
        assert len(r.content) < 2000
    r = echo("a: &a [1, *a]\n", "application/x-yaml")
    assert r.status_code == 400 and "recursive" in r.json()["desc"]
    r = echo('{"a": ' + "[" * 101 + "]" * 101 + "}", "application/json")
    assert r.status_code == 400 and "nested more than 100 levels" in r.json()["desc"]
    r = echo("[" * 200_000 + "]" * 200_000, "application/json")
    assert r.status_code == 400 and r.json()["err"] == "INVALID-ARGUMENT"
    r = echo('{"a": [' + ",".join(["0"] * 500_001) + "]}", "application/json")
    assert r.status_code == 400 and "more than 500000 nodes" in r.json()["desc"]
    r = echo(XML_CALL.format(doctype=LAUGHS, value="<string>&i;</string>"), "text/xml")
    assert r.status_code == 400 and "DOCTYPE" in r.json()["desc"]
    xxe = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    r = echo(XML_CALL.format(doctype=xxe, value="<string>&e;</string>"), "text/xml")
    assert r.status_code == 400 and "root:" not in r.text
    deep = "<array><data><value>" * 101 + "<int>1</int>" + "</value></data></array>" * 101
    r = echo(XML_CALL.format(doctype="", value=deep), "text/xml")
    assert r.status_code == 400 and "nested more than 100" in r.json()["desc"]

    # a write with an exploding body changes nothing
    r = httpx.put(
        f"{api}/system/options/set",
        content="max-retries: 7\nx:\n" + alias_bomb("  "),
        headers={"content-type": "application/x-yaml"},
        auth=ADMIN,
    )
    assert r.status_code == 400, r.text
    assert httpx.get(f"{api}/system/options/max-retries", auth=ADMIN).json()["value"] == 5

    # the server kept its memory and still answers, aliases within the limits included
    assert vmrss_kb(q.proc.pid) - before < 300 * 1024
    r = echo("a: &x {b: [1, 2]}\nc: *x\n", "application/x-yaml")
    assert r.status_code == 200 and r.json() == {"a": {"b": [1, 2]}, "c": {"b": [1, 2]}}
    ok = "<array><data><value><int>1</int></value></data></array>"
    r = echo(XML_CALL.format(doctype="", value=ok), "text/xml")
    assert r.status_code == 200 and r.json() == {"a": [1]}
    r = httpx.put(f"{api}/system/options/set", json={"max-retries": 7}, auth=ADMIN)
    assert r.status_code == 200, r.text
    assert httpx.get(f"{api}/system/options/max-retries", auth=ADMIN).json()["value"] == 7
