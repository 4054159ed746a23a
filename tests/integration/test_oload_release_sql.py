"""Release lines ``verify-schema`` and ``omquser-exec-sql`` (one transaction with the load),
releases recorded and shown (``oload -s``), and ``oload --delete-id``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from oload_fixtures import step, workflow, write
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Engine

from qorus_cli import common
from qorus_cli.oload import main as oload_main
from qorus_core.db import refdata
from qorus_core.db import tables as t
from qorus_core.loader import LoadError, check, load

pytestmark = pytest.mark.integration

PROPS = t.system_properties
INSERT = (
    "INSERT INTO system_properties (domain, keyname, value, created) "
    "VALUES ('user', '{key}', '{value}', CURRENT_TIMESTAMP)"
)


def _props(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(PROPS.c.keyname, PROPS.c.value).where(PROPS.c.domain == "user"))
        return {k: v for k, v in rows}


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _tables(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(inspect(conn).get_table_names())


@pytest.fixture
def cli(omq_dir: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(common.console, "_width", 250)
    monkeypatch.setenv("OMQ_DIR", str(omq_dir))
    return CliRunner()


def test_exec_sql_runs_with_the_load(engine: Engine, tmp_path: Path) -> None:
    step(tmp_path, "S1")
    write(
        tmp_path,
        "data.sql",
        "-- comments and semicolons in strings are not statement ends; \n"
        + INSERT.format(key="a", value="x;y")
        + ";\n/* a block; comment */\n"
        + INSERT.format(key="b", value="it''s")
        + "\n;\n\n",
    )
    write(
        tmp_path,
        "r.qrf",
        "verify-schema\nload S1-1.0.qstep.yaml\nomquser-exec-sql data.sql\n",
    )
    res = load(engine, [str(tmp_path / "r.qrf")])
    assert res.count("new") == 1 and res.sql_statements == 2
    assert [a.command for a in res.actions] == ["verify-schema", "omquser-exec-sql"]
    assert _props(engine) == {"a": "x;y", "b": "it's"}
    assert _count(engine, t.releases) == 1


def test_ddl_follows_the_transaction_rules_of_the_database(
    engine: Engine, tmp_path: Path, db_kind: str
) -> None:
    write(
        tmp_path,
        "ddl.sql",
        "CREATE TABLE user_things (id INTEGER PRIMARY KEY, name VARCHAR(20));\n"
        "INSERT INTO user_things VALUES (1, 'one');\n",
    )
    write(tmp_path, "r.qrf", "omquser-exec-sql ddl.sql\n")
    if db_kind == "mysql":
        # DDL commits implicitly there: refused before anything runs
        with pytest.raises(LoadError) as exc:
            load(engine, [str(tmp_path / "r.qrf")])
        msg = str(exc.value.problems[0])
        assert "r.qrf:1:1:" in msg and "ddl.sql:1" in msg and "commits implicitly" in msg
        assert "user_things" not in _tables(engine)
        return
    res = load(engine, [str(tmp_path / "r.qrf")])
    assert res.sql_statements == 2 and not res.outcomes
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM user_things")).scalar_one() == "one"


def test_a_failing_statement_takes_the_whole_load_back(
    engine: Engine, tmp_path: Path, db_kind: str
) -> None:
    step(tmp_path, "S1")
    workflow(tmp_path, "WF", '["S1"]')
    first = INSERT.format(key="first", value="1") + ";\n"
    if db_kind != "mysql":
        first = "CREATE TABLE user_stuff (id INTEGER);\n" + first
    write(tmp_path, "good.sql", first)
    write(
        tmp_path,
        "bad.sql",
        INSERT.format(key="second", value="2") + ";\n\nINSERT INTO no_such_table VALUES (1);\n",
    )
    write(
        tmp_path,
        "r.qrf",
        "load S1-1.0.qstep.yaml\nomquser-exec-sql good.sql\n"
        "omquser-exec-sql bad.sql\nload WF-1.0.qwf.yaml\n",
    )
    before = {tb.name: _count(engine, tb) for tb in (t.steps, t.workflows, PROPS, t.releases)}
    with pytest.raises(LoadError) as exc:
        load(engine, [str(tmp_path / "r.qrf")])
    assert len(exc.value.problems) == 1
    msg = str(exc.value.problems[0])
    assert msg.startswith(f"{tmp_path / 'r.qrf'}:3:1: omquser-exec-sql {tmp_path / 'bad.sql'}:3:")
    assert "the statement failed" in msg and "no_such_table" in msg
    assert exc.value.desc == "1 error: nothing was loaded"
    after = {tb.name: _count(engine, tb) for tb in (t.steps, t.workflows, PROPS, t.releases)}
    assert after == before and _props(engine) == {}
    assert "user_stuff" not in _tables(engine)


def test_verify_schema_stops_the_load_on_a_mismatch(
    engine: Engine, tmp_path: Path, db_kind: str
) -> None:
    step(tmp_path, "S1")
    write(tmp_path, "r.qrf", "load S1-1.0.qstep.yaml\n\nverify-schema\n")
    write(tmp_path, "bad.qrf", "verify-schema now\n")
    with pytest.raises(LoadError, match="error") as exc:
        check(engine, [str(tmp_path / "bad.qrf")])
    assert "bad.qrf:1:15: 'verify-schema' takes no argument" in str(exc.value.problems[0])
    with engine.begin() as conn:
        refdata.set_schema_version(conn, "0.9")
    with pytest.raises(LoadError) as exc:
        load(engine, [str(tmp_path / "r.qrf")])
    assert "r.qrf:3:1: verify-schema: the schema version is 0.9" in str(exc.value.problems[0])
    assert _count(engine, t.steps) == 0
    with engine.begin() as conn:
        refdata.set_schema_version(conn, refdata.SCHEMA_VERSION)
    if db_kind != "mysql":  # each test has its own database there; MariaDB's is shared
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE release_components"))
        with pytest.raises(LoadError) as exc:
            load(engine, [str(tmp_path / "r.qrf")])
        assert "verify-schema: table release_components is missing" in str(exc.value.problems[0])
        assert _count(engine, t.steps) == 0
    else:
        assert load(engine, [str(tmp_path / "r.qrf")]).count("new") == 1


def test_validate_checks_the_sql_and_runs_nothing(engine: Engine, tmp_path: Path) -> None:
    write(tmp_path, "ok.sql", INSERT.format(key="k", value="v") + ";\n")
    write(tmp_path, "open.sql", "SELECT 1;\nSELECT 'never closed;\n")
    write(tmp_path, "r.qrf", "omquser-exec-sql ok.sql\nomquser-exec-sql open.sql\n")
    with pytest.raises(LoadError) as exc:
        check(engine, [str(tmp_path / "r.qrf")])
    assert [str(p) for p in exc.value.problems] == [
        f"{tmp_path / 'r.qrf'}:2:1: omquser-exec-sql {tmp_path / 'open.sql'}:2: "
        "unterminated string starting here"
    ]
    write(tmp_path, "r.qrf", "omquser-exec-sql ok.sql\n")
    assert check(engine, [str(tmp_path / "r.qrf")]).actions
    assert _props(engine) == {}


def test_show_release(cli: CliRunner, engine: Engine, tmp_path: Path) -> None:
    step(tmp_path / "sub", "S1")
    write(tmp_path / "sub", "inner.qrf", "load S1-1.0.qstep.yaml\n")
    write(tmp_path, "data.sql", INSERT.format(key="k", value="v") + ";\n")
    write(tmp_path, "outer.qrf", "load sub/inner.qrf\nomquser-exec-sql data.sql\n")
    r = cli.invoke(oload_main, ["-s"])
    assert r.exit_code == 0 and "no releases loaded" in r.output
    r = cli.invoke(oload_main, ["-s", str(tmp_path / "outer.qrf")])
    assert r.exit_code == 0 and "(not loaded)" in r.output
    assert "inner.qrf" in r.output and "omquser-exec-sql" in r.output
    assert _count(engine, t.releases) == 0
    r = cli.invoke(oload_main, [str(tmp_path / "outer.qrf"), "-u", "http://127.0.0.1:9"])
    assert r.exit_code == 0, r.output
    assert "ran omquser-exec-sql data.sql" in r.output and "1 SQL statements run" in r.output
    r = cli.invoke(oload_main, ["-s"])
    assert r.exit_code == 0 and "releases loaded (2)" in r.output
    assert "outer.qrf" in r.output and "inner.qrf" in r.output
    with engine.connect() as conn:
        ids = dict(conn.execute(select(t.releases.c.name, t.releases.c.releaseid)).all())
        sid = conn.execute(select(t.steps.c.stepid)).scalar_one()
    r = cli.invoke(oload_main, ["-s", "outer.qrf"])
    assert r.exit_code == 0 and f"release outer.qrf (id {ids['outer.qrf']})" in r.output
    lines = [ln for ln in r.output.splitlines() if ln.startswith("│")]
    assert any("release" in ln and "inner.qrf" in ln for ln in lines)
    assert any("sql" in ln and "data.sql" in ln for ln in lines)
    r = cli.invoke(oload_main, ["-s", str(ids["inner.qrf"])])
    assert r.exit_code == 0 and "components (1)" in r.output
    assert any("step" in ln and "S1" in ln and f" {sid} " in ln for ln in r.output.splitlines()), (
        r.output
    )
    r = cli.invoke(oload_main, ["-s", "never.qrf"])
    assert r.exit_code == 1 and "no release 'never.qrf' was loaded" in r.output


def test_delete_by_id(cli: CliRunner, engine: Engine, tmp_path: Path) -> None:
    step(tmp_path, "S1")
    workflow(tmp_path, "WF", '["S1"]')
    load(engine, [str(tmp_path)])
    with engine.connect() as conn:
        sid = conn.execute(select(t.steps.c.stepid)).scalar_one()
        wid = conn.execute(select(t.workflows.c.workflowid)).scalar_one()
    r = cli.invoke(oload_main, ["--delete-id", f"step:{sid}"])
    assert r.exit_code == 1 and "step S1:1.0 is used by workflow WF:1.0" in r.output
    assert "nothing deleted" in r.output and _count(engine, t.steps) == 1
    r = cli.invoke(oload_main, ["--delete-id", f"workflow:{wid + 1000}"])
    assert r.exit_code == 1 and f"workflow id {wid + 1000} does not exist" in r.output
    # several in one transaction, by id and by name alike
    r = cli.invoke(oload_main, ["--delete-id", f"workflow:{wid}", "--delete-id", f"step:{sid}"])
    assert r.exit_code == 0, r.output
    assert f"deleted workflow WF:1.0 (id {wid})" in r.output
    assert f"deleted step S1:1.0 (id {sid})" in r.output
    assert _count(engine, t.steps) == 0 and _count(engine, t.workflows) == 0
    r = cli.invoke(oload_main, ["--delete-id", "group:0"])
    assert r.exit_code == 1 and "DEFAULT group cannot be deleted" in r.output
