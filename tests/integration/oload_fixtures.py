"""Small interface definitions written into a test's directory."""

from __future__ import annotations

from pathlib import Path

STEP_CODE = """from wf import {base}


class {cls}({base}):
    def primary(self):
        pass
"""


def write(root: Path, name: str, text: str) -> Path:
    p = root / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def step(
    root: Path,
    name: str,
    version: str = "1.0",
    steptype: str = "NORMAL",
    extra: str = "",
    base: str | None = None,
) -> Path:
    bases = {
        "NORMAL": "QorusNormalStep",
        "ASYNC": "QorusAsyncStep",
        "EVENT": "QorusEventStep",
        "SUBWORKFLOW": "QorusSubworkflowStep",
    }
    write(
        root, f"{name}-{version}.qstep.py", STEP_CODE.format(base=base or bases[steptype], cls=name)
    )
    return write(
        root,
        f"{name}-{version}.qstep.yaml",
        (
            f'type: step\nname: {name}\nversion: "{version}"\ndesc: step {name}\nlang: python\n'
            f"steptype: {steptype}\ncode: {name}-{version}.qstep.py\n{extra}"
        ),
    )


def workflow(root: Path, name: str, steps: str, version: str = "1.0", extra: str = "") -> Path:
    return write(
        root,
        f"{name}-{version}.qwf.yaml",
        (
            f'type: workflow\nname: {name}\nversion: "{version}"\ndesc: workflow {name}\n'
            f"steps: {steps}\n{extra}"
        ),
    )


def service(root: Path, name: str, version: str = "1.0") -> Path:
    write(
        root,
        f"{name}.qsd.py",
        (
            "from svc import QorusService\n\n\nclass Svc(QorusService):\n"
            "    def ping(self):\n        return 1\n\n"
            "    def store(self, value):\n        return value\n"
        ),
    )
    return write(
        root,
        f"{name}.qsd.yaml",
        (
            f'type: service\nname: {name}\nversion: "{version}"\ndesc: svc\nservicetype: USER\n'
            f"lang: python\nclass-name: Svc\ncode: {name}.qsd.py\nmethods:\n"
            "  - name: ping\n    desc: ping\n  - name: store\n    desc: store\n    lock: write\n"
            "    write: true\n"
        ),
    )


def job(root: Path, name: str, schedule: str | None = None) -> Path:
    write(
        root,
        f"{name}.qjob.py",
        "from job import QorusJob\n\n\nclass Job(QorusJob):\n    def run(self):\n        pass\n",
    )
    sched = schedule or (
        'schedule:\n  minutes: "0"\n  hours: "*/2"\n  days: "*"\n  months: "*"\n  dow: mon-fri\n'
    )
    return write(
        root,
        f"{name}.qjob.yaml",
        (
            f'type: job\nname: {name}\nversion: "1.0"\ndesc: job\nlang: python\n'
            f"class-name: Job\ncode: {name}.qjob.py\n{sched}"
        ),
    )


def errors_file(root: Path, fname: str, name: str, errors: str = "") -> Path:
    """A ``type: errors`` file; ``errors`` is the YAML list body (empty: ``errors: []``)."""
    body = f"errors:\n{errors}" if errors else "errors: []\n"
    return write(root, fname, f"type: errors\nname: {name}\ndesc: errors {name}\n{body}")
