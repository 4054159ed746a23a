"""oload and service definitions: every listed method must be defined by the service class
(itself, a base class of its file or of a library class), ``start()`` needs ``stop()``, and
each method's lock type, ``internal`` and ``write`` flags are stored."""

from __future__ import annotations

import textwrap

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from qorus_core.db import tables as t
from tests.helpers.definitions import add_class, add_service, load_files

pytestmark = pytest.mark.integration

YAML = """\
type: service
name: checked
version: "1.0"
desc: a service whose methods are checked
servicetype: USER
lang: python
class-name: Checked
code: checked-1.0.qsd.py
methods:
  - name: known
    desc: defined by the class
  - name: missing
    desc: defined nowhere
"""


def _refusal(engine: Engine, code: str, yaml_text: str = YAML) -> str:
    with pytest.raises(AssertionError) as info:
        load_files(
            engine,
            {"checked-1.0.qsd.yaml": yaml_text, "checked-1.0.qsd.py": textwrap.dedent(code)},
        )
    return str(info.value)


def test_a_method_the_class_does_not_define_is_refused_with_its_line(engine: Engine) -> None:
    code = """
        from svc import QorusService

        class Checked(QorusService):
            def known(self):
                return 1
    """
    text = _refusal(engine, code)
    # line 12 of the YAML file names the missing method
    assert "checked-1.0.qsd.yaml:12:11: method" in text
    assert "method 'missing' is not defined by class 'Checked'" in text
    assert "'known'" not in text
    with engine.connect() as conn:
        assert conn.execute(select(t.services.c.serviceid)).first() is None


def test_methods_of_base_classes_count(engine: Engine) -> None:
    add_class(
        engine,
        "MissingMixin",
        """
        class MissingMixin:
            def missing(self):
                return 2
        """,
    )
    # a base class of the same file, then a library class named in classes:
    sid = add_service(
        engine,
        "checked",
        """
        from svc import QorusService

        class Base(QorusService):
            def known(self):
                return 1

        class Checked(Base, MissingMixin):
            pass
        """,
        ["known", "missing"],
        classes=["MissingMixin"],
    )
    assert sid
    # a base the loader cannot follow (imported from elsewhere) is given the benefit of doubt
    add_service(
        engine,
        "imported",
        """
        from collections import OrderedDict
        from svc import QorusService

        class Imported(QorusService, OrderedDict):
            def known(self):
                return 1
        """,
        ["known", "popitem"],
    )


def test_start_needs_stop(engine: Engine) -> None:
    code = """
        from svc import QorusService

        class Checked(QorusService):
            def known(self):
                return 1

            def missing(self):
                return 2

            def start(self):
                pass
    """
    text = _refusal(engine, code)
    assert "defines start() but not stop()" in text


def test_lock_internal_and_write_are_stored(engine: Engine) -> None:
    sid = add_service(
        engine,
        "flags",
        """
        from svc import QorusService

        class Flags(QorusService):
            def a(self):
                pass

            def b(self):
                pass

            def c(self):
                pass
        """,
        [
            {"name": "a", "lock": "read"},
            {"name": "b", "lock": "write", "write": True},
            {"name": "c", "internal": True},
        ],
    )
    sm = t.service_methods
    with engine.connect() as conn:
        rows = conn.execute(
            select(sm.c.name, sm.c.locktype, sm.c.write, sm.c.internal)
            .where(sm.c.serviceid == sid)
            .order_by(sm.c.name)
        ).all()
    assert [(r[0], r[1], bool(r[2]), bool(r[3])) for r in rows] == [
        ("a", "read", False, False),
        ("b", "write", True, False),
        ("c", "none", False, True),
    ]
