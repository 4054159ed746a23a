"""The sensitive data cipher and key files (no database)."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from qorus_core.crypto import (
    KEY_SIZE,
    DecryptionError,
    Sealed,
    SensitiveCipher,
    SensitiveKeyError,
    create_key,
    load_key,
)
from qorus_core.db.sensitive import parse_order_arg
from qorus_core.model.errors import QorusError

AAD = b"12\x00personal_id\x00A-1"


@pytest.fixture
def cipher() -> SensitiveCipher:
    return SensitiveCipher(os.urandom(KEY_SIZE))


def _flip(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[0] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def test_round_trip_and_fresh_nonce(cipher: SensitiveCipher) -> None:
    a = cipher.seal(b'{"tax": "123"}', AAD)
    b = cipher.seal(b'{"tax": "123"}', AAD)
    assert a.iv != b.iv and a.data != b.data
    assert len(base64.b64decode(a.iv)) == 12 and len(base64.b64decode(a.mac)) == 16
    assert b"123" not in base64.b64decode(a.data)
    assert cipher.open(a, AAD) == b'{"tax": "123"}'


@pytest.mark.parametrize("part", ["data", "iv", "mac"])
def test_tampered_ciphertext_fails_clearly(cipher: SensitiveCipher, part: str) -> None:
    sealed = cipher.seal(b"secret data", AAD)
    bad = Sealed(**{**sealed.__dict__, part: _flip(getattr(sealed, part))})
    with pytest.raises(DecryptionError) as info:
        cipher.open(bad, AAD)
    assert info.value.code == "SENSITIVE-DATA-DECRYPTION-ERROR"
    assert "cannot be decrypted" in info.value.desc
    assert "secret" not in info.value.desc


def test_other_row_or_wrong_key_fails(cipher: SensitiveCipher) -> None:
    sealed = cipher.seal(b"secret", AAD)
    with pytest.raises(DecryptionError):
        cipher.open(sealed, b"13\x00personal_id\x00A-1")  # copied to another order
    with pytest.raises(DecryptionError):
        SensitiveCipher(os.urandom(KEY_SIZE)).open(sealed, AAD)
    with pytest.raises(DecryptionError, match="not valid base64"):
        cipher.open(Sealed("***", sealed.iv, sealed.mac), AAD)


def test_values_are_deterministic_and_bound(cipher: SensitiveCipher) -> None:
    ctx = [b"12", b"personal_id"]
    token = cipher.seal_value("A-1", ctx)
    assert token == cipher.seal_value("A-1", ctx)
    assert token != cipher.seal_value("A-1", [b"13", b"personal_id"])
    assert "A-1" not in token
    assert cipher.open_value(token, ctx) == "A-1"
    with pytest.raises(DecryptionError):
        SensitiveCipher(os.urandom(KEY_SIZE)).open_value(token, ctx)
    with pytest.raises(DecryptionError):
        cipher.open_value(_flip(token), ctx)


def test_key_files(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "sensitive_data.key"
    key = create_key(path)
    assert len(key) == KEY_SIZE and path.read_bytes() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(path) == key
    with pytest.raises(SensitiveKeyError, match="cannot create"):
        create_key(path)  # never overwritten
    short = tmp_path / "short.key"
    short.write_bytes(b"x" * 16)
    short.chmod(0o600)
    with pytest.raises(SensitiveKeyError, match="holds 16 bytes; it must hold exactly 32"):
        load_key(short)
    path.chmod(0o644)
    with pytest.raises(SensitiveKeyError, match="chmod 600"):
        load_key(path)
    with pytest.raises(SensitiveKeyError, match="cannot read"):
        load_key(tmp_path / "missing.key")
    with pytest.raises(SensitiveKeyError):
        SensitiveCipher(b"short")


def test_order_argument_validation() -> None:
    [e] = parse_order_arg(
        {"personal_id": {"A-1": {"data": {"tax": 1}, "aliases": ["0", 7], "meta": {"P": 1}}}}
    )
    assert (e.skey, e.svalue, e.data, e.aliases, e.meta) == (
        "personal_id",
        "A-1",
        {"tax": 1},
        ["0", "7"],
        {"P": 1},
    )
    bad = [
        ([1], "must be a hash"),
        ({"k": "x"}, "must be a hash of values"),
        ({"k": {}}, "has no values"),
        ({"k": {"SECRET": {"data": {}}}}, "empty data hash"),
        ({"k": {"SECRET": {"data": 1}}}, "'data' must be a hash"),
        ({"k": {"SECRET": {"data": {"a": 1}, "x": 1}}}, "unknown key"),
        ({"k": {"SECRET": {"data": {"a": 1}, "meta": 1}}}, "'meta' must be a hash"),
        ({"": {"SECRET": {"data": {"a": 1}}}}, "key is empty"),
        ({"k" * 151: {"SECRET": {"data": {"a": 1}}}}, "longer than 150"),
        ({"k": {"S" * 151: {"data": {"a": 1}}}}, "longer than 150"),
        ({"k": {"SECRET": {"data": {"a": 1}, "aliases": [""]}}}, "alias 0"),
        ({"k": {"SECRET": {"data": {"a": object()}}}}, "cannot be stored"),
        (
            {
                "k": {
                    "SECRET": {"data": {"a": 1}, "aliases": ["x"]},
                    "S2": {"data": {"a": 1}, "aliases": ["x"]},
                }
            },
            "given twice",
        ),
    ]
    for value, msg in bad:
        with pytest.raises(QorusError) as info:
            parse_order_arg(value)
        assert info.value.code == "ORDER-DATA-ERROR"
        assert msg in info.value.desc, info.value.desc
        assert "SECRET" not in info.value.desc  # values are named by position only
