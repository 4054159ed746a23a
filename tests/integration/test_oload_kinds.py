"""Interface kinds: a kind registered in one place (here, inside the test) is validated, loaded,
listed and deleted by oload with nothing else to change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from oload_fixtures import write
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, delete, select
from sqlalchemy.engine import Engine

from qorus_cli.oload import main as oload_main
from qorus_core.loader import LoadError, kinds, load, schemas
from qorus_core.loader.delete import Deleter, DeleteSpec, delete_objects, parse_spec
from qorus_core.loader.listing import list_objects, named
from qorus_core.loader.model import Definition
from qorus_core.loader.problems import Problems
from qorus_core.loader.store import Store
from qorus_core.loader.upsert import upsert

pytestmark = pytest.mark.integration

_meta = MetaData()
TEST_MAPS = Table(
    "test_kind_maps",
    _meta,
    Column("test_mapid", Integer, primary_key=True),
    Column("name", String(160), nullable=False, unique=True),
    Column("description", String(4000)),
    Column("source", String(4000)),
    Column("created", DateTime),
    Column("modified", DateTime),
)


def _check(d: Definition, problems: Problems) -> None:
    if d.name.startswith("bad"):
        problems.add(d.path, "a test map must not be bad", d.doc.mark("name"))


def _store(store: Store, d: Definition) -> tuple[int | None, str]:
    row = {"description": d.data.get("desc"), "source": str(d.path)}
    return upsert(store.conn, TEST_MAPS, "test_mapid", {"name": d.name}, row)


def _delete(deleter: Deleter, spec: DeleteSpec) -> None:
    oid = deleter.id_by_name(TEST_MAPS, "test_mapid", spec)
    deleter.conn.execute(delete(TEST_MAPS).where(TEST_MAPS.c.test_mapid == oid))
    deleter.done.append(f"deleted testmap {spec.name} (id {oid})")


@pytest.fixture
def testmap(engine: Engine) -> Iterator[None]:
    # MariaDB's test schemas are shared between tests (emptied, not made anew): a table of the
    # test's own is dropped again so that no later test sees it or its rows
    _meta.drop_all(engine)
    _meta.create_all(engine)
    kinds.register(
        kinds.Kind(
            "testmap",
            _store,
            _delete,
            named(TEST_MAPS, "test_mapid"),
            check=_check,
            record={"type": schemas.F("string", True), "name": schemas.NAME, "desc": schemas.DESC},
            table=TEST_MAPS,
            idcol="test_mapid",
        )
    )
    try:
        yield
    finally:
        kinds.unregister("testmap")
        _meta.drop_all(engine)


def _names(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(TEST_MAPS.c.name).order_by(TEST_MAPS.c.name)).scalars())


def test_a_registered_kind_loads_lists_and_deletes(
    engine: Engine, testmap: None, tmp_path: Path
) -> None:
    a = write(tmp_path, "a.yaml", "type: testmap\nname: colours\ndesc: a map of colours\n")
    b = write(tmp_path, "b.yaml", "type: testmap\nname: sizes\n")
    res = load(engine, [str(a), str(b)])
    assert [o.status for o in res.outcomes] == ["new", "new"]
    assert load(engine, [str(a)]).outcomes[0].status == "unchanged"
    assert _names(engine) == ["colours", "sizes"]

    with engine.connect() as conn:
        titles, rows = list_objects(conn, "testmaps")
    assert titles == ["id", "name", "description"]
    assert [r[1:] for r in rows] == [["colours", "a map of colours"], ["sizes", None]]

    with engine.begin() as conn:
        done = delete_objects(conn, [parse_spec("testmap:colours")], force=False)
    assert done[0].startswith("deleted testmap colours")
    assert _names(engine) == ["sizes"]


def test_a_registered_kind_is_validated(engine: Engine, testmap: None, tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.yaml", "type: testmap\nname: bad-one\n")
    typo = write(tmp_path, "typo.yaml", "type: testmap\nname: fine\ndesk: typo\n")
    with pytest.raises(LoadError) as err:
        load(engine, [str(bad), str(typo)])
    text = " ".join(p.message for p in err.value.problems)
    assert "must not be bad" in text and "unknown key 'desk'" in text
    assert _names(engine) == []


def test_a_registered_kind_through_the_cli(
    engine: Engine, testmap: None, tmp_path: Path, omq_dir: Path
) -> None:
    a = write(tmp_path, "a.yaml", "type: testmap\nname: colours\n")
    runner = CliRunner(env={"OMQ_DIR": str(omq_dir)})
    assert runner.invoke(oload_main, [str(a)]).exit_code == 0
    listed = runner.invoke(oload_main, ["-L", "testmap"])
    assert listed.exit_code == 0 and "colours" in listed.output
    oid = _one_id(engine)
    gone = runner.invoke(oload_main, ["--delete-id", f"testmap:{oid}"])
    assert gone.exit_code == 0, gone.output
    assert _names(engine) == []


def _one_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(TEST_MAPS.c.test_mapid)).scalar_one())
