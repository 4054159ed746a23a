"""Sensitive order data in the system schema: creation with an order, reads, updates, deletes,
purges, the key file, and encryption at rest (no clear text in the table)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from qorus_core.crypto import KEY_SIZE, DecryptionError, SensitiveCipher, SensitiveKeyError
from qorus_core.db import orders, orders_ops, orders_query
from qorus_core.db import sensitive as sdb
from qorus_core.db import tables as t
from qorus_core.model.errors import QorusError
from tests.helpers.definitions import add_workflow, noop_step

pytestmark = pytest.mark.integration

PID = "PID-778899"
TAX = "TAX-SECRET-4711"
SD = {
    "personal_id": {
        PID: {"data": {"tax_number": TAX, "name": "Ann Example"}, "aliases": ["0"], "meta": {}},
        "PID-2": {"data": {"tax_number": "TAX-2"}, "meta": {"PURPOSE": "billing"}},
    },
    "email": {"ann@example.org": {"data": {"verified": True}, "aliases": ["mail"]}},
}


@pytest.fixture
def cipher() -> SensitiveCipher:
    return SensitiveCipher(os.urandom(KEY_SIZE))


@pytest.fixture
def wfid(engine: Engine) -> int:
    noop_step(engine, "S1")
    return add_workflow(engine, "SENSWF", ["S1"])


def _rows(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t.sensitive_order_data))]


def _count_orders(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.workflow_instance)).scalar_one())


def test_create_read_and_encryption_at_rest(
    engine: Engine, wfid: int, cipher: SensitiveCipher
) -> None:
    wfiid = orders.create_order(engine, wfid, {"a": 1}, sensitive_data=SD, cipher=cipher)
    rows = _rows(engine)
    assert len(rows) == 3 and {r["workflow_instanceid"] for r in rows} == {wfiid}
    dump = repr(rows)
    for clear in (PID, TAX, "Ann Example", "ann@example.org", "PID-2", "TAX-2"):
        assert clear not in dump
    assert {r["skey"] for r in rows} == {"personal_id", "email"}  # key names stay readable
    with engine.connect() as conn:
        entries = sdb.load(conn, cipher, wfiid)
        summary = orders_query.get_order_info(conn, wfiid)
    got = sdb.api_data(entries)
    assert got["personal_id"][PID] == {
        "data": {"tax_number": TAX, "name": "Ann Example"},
        "aliases": ["0"],
        "meta": {},
    }
    assert got["personal_id"]["PID-2"]["meta"] == {"PURPOSE": "billing"}
    assert got["email"]["ann@example.org"]["aliases"] == ["mail"]
    assert sdb.api_data(entries, "personal_id", "PID-2") == {
        "personal_id": {"PID-2": got["personal_id"]["PID-2"]}
    }
    # the order's information shows key names and aliases, never values or data
    assert summary["has_sensitive_data"] is True
    assert sorted(summary["sensitive_data_keys"], key=str) == sorted(
        [
            {"skey": "email", "aliases": ["mail"]},
            {"skey": "personal_id", "aliases": ["0"]},
            {"skey": "personal_id", "aliases": []},
        ],
        key=str,
    )
    assert PID not in repr(summary) and TAX not in repr(summary)


def test_refusals_leave_nothing(engine: Engine, wfid: int, cipher: SensitiveCipher) -> None:
    before = _count_orders(engine)
    with pytest.raises(QorusError) as info:
        orders.create_order(engine, wfid, {"a": 1}, sensitive_data=SD)  # no key loaded
    assert info.value.code == "SENSITIVE-DATA-KEY-ERROR"
    with pytest.raises(QorusError) as info:
        orders.create_orders(
            engine,
            wfid,
            [
                {"staticdata": {}, "sensitive_data": SD},
                {"staticdata": {}, "sensitive_data": {"k": {"v": {"data": {}}}}},
            ],
            cipher=cipher,
        )
    assert info.value.code == "ORDER-DATA-ERROR"
    assert _count_orders(engine) == before and _rows(engine) == []


def test_save_delete_and_aliases(engine: Engine, wfid: int, cipher: SensitiveCipher) -> None:
    wfiid = orders.create_order(engine, wfid, {}, sensitive_data=SD, cipher=cipher)
    with engine.begin() as conn:
        # replace one entry and take the alias "0" away from PID
        sdb.save(
            conn,
            cipher,
            wfiid,
            sdb.SensitiveEntry("personal_id", "PID-2", {"tax_number": "NEW"}, ["0", "1"], {}),
        )
        sdb.save(conn, cipher, wfiid, sdb.SensitiveEntry("card", "C-1", {"n": 1}))
    with engine.connect() as conn:
        got = sdb.api_data(sdb.load(conn, cipher, wfiid))
    assert got["personal_id"]["PID-2"] == {
        "data": {"tax_number": "NEW"},
        "aliases": ["0", "1"],
        "meta": {},
    }
    assert got["personal_id"][PID]["aliases"] == []
    assert got["card"]["C-1"]["data"] == {"n": 1}
    assert len(_rows(engine)) == 4
    with engine.begin() as conn:
        assert sdb.delete_entries(conn, cipher, wfiid, "personal_id", PID) == 1
        assert sdb.delete_entries(conn, cipher, wfiid, "personal_id", PID) == 0
        assert sdb.delete_entries(conn, cipher, wfiid, "email") == 1
    with engine.connect() as conn:
        left = sdb.api_data(sdb.load(conn, cipher, wfiid))
    assert {k: sorted(v) for k, v in left.items()} == {"personal_id": ["PID-2"], "card": ["C-1"]}
    with engine.begin() as conn:
        assert sdb.delete_entries(conn, None, wfiid) == 2
        with pytest.raises(QorusError):
            sdb.save(conn, cipher, wfiid, sdb.SensitiveEntry("", "x", {}))
    assert _rows(engine) == []


def test_tampered_row_and_wrong_key(engine: Engine, wfid: int, cipher: SensitiveCipher) -> None:
    wfiid = orders.create_order(engine, wfid, {}, sensitive_data=SD, cipher=cipher)
    with engine.connect() as conn, pytest.raises(DecryptionError):
        sdb.load(conn, SensitiveCipher(os.urandom(KEY_SIZE)), wfiid)
    sod = t.sensitive_order_data
    with engine.begin() as conn:
        row = conn.execute(select(sod.c.skey, sod.c.svalue, sod.c.mac).limit(1)).one()
        mac = row[2][:-4] + ("AAA=" if not row[2].endswith("AAA=") else "BBB=")
        conn.execute(
            update(sod).where(sod.c.skey == row[0], sod.c.svalue == row[1]).values(mac=mac)
        )
    with engine.connect() as conn, pytest.raises(DecryptionError) as info:
        sdb.load(conn, cipher, wfiid)
    assert "changed" in info.value.desc


def test_purge_and_cancel(engine: Engine, wfid: int, cipher: SensitiveCipher) -> None:
    a = orders.create_order(engine, wfid, {}, sensitive_data=SD, cipher=cipher, status="BLOCKED")
    b = orders.create_order(engine, wfid, {}, sensitive_data=SD, cipher=cipher, status="BLOCKED")
    c = orders.create_order(engine, wfid, {}, sensitive_data=SD, cipher=cipher, status="BLOCKED")
    with engine.connect() as conn:
        assert sdb.orders_with_data(conn, [a, b, c, 999999]) == {a, b, c}
    orders_ops.cancel_order(engine, a, purge_sensitive=True)
    orders_ops.cancel_order(engine, b)  # purge-sensitive-data-canceled off: kept
    assert {r["workflow_instanceid"] for r in _rows(engine)} == {b, c}
    with engine.begin() as conn:
        assert sdb.purge(conn, [c]) == 3
    assert {r["workflow_instanceid"] for r in _rows(engine)} == {b}


def test_key_file_at_start_up(engine: Engine, wfid: int, tmp_path: Path) -> None:
    path = tmp_path / "etc" / "sensitive_data.key"
    cipher, created = sdb.open_cipher(engine, path)
    assert created and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_bytes()) == KEY_SIZE
    wfiid = orders.create_order(engine, wfid, {}, sensitive_data=SD, cipher=cipher)
    again, created = sdb.open_cipher(engine, path)
    assert not created
    with engine.connect() as conn:
        assert sdb.api_data(sdb.load(conn, again, wfiid))["personal_id"][PID]["data"]["name"]
    # a lost key file is not replaced while the schema holds data it encrypted
    path.unlink()
    with pytest.raises(SensitiveKeyError, match="holds sensitive data"):
        sdb.open_cipher(engine, path)
    assert not path.exists()
    path.write_bytes(b"x" * 31)
    path.chmod(0o600)
    with pytest.raises(SensitiveKeyError, match="31 bytes"):
        sdb.open_cipher(engine, path)
