"""Sensitive order data in ``sensitive_order_data``: one row per (order, key name, key value).

``skey`` (the kind of key, e.g. ``personal_id``) is stored in clear: it is logged and audited
as the trail of changes. ``svalue`` (the key value) is sealed deterministically (AES-SIV) so it
can be looked up; ``data`` is sealed with AES-256-GCM (``iv`` and ``mac`` beside it); ``meta``
holds the aliases and the metadata hash in clear JSON. Nothing here logs a value, and error
messages name a value by its position, never by its text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Engine

from qorus_core.crypto import Sealed, SensitiveCipher, SensitiveKeyError, create_key, load_key
from qorus_core.db import tables as t
from qorus_core.db.refdata import now
from qorus_core.db.unit import dumps
from qorus_core.model.args import check_data, shown
from qorus_core.model.errors import QorusError
from qorus_core.omqdir import OmqDir
from qorus_core.options import Options

#: longest key name, key value and alias in bytes (as real Qorus)
MAX_KEY_LEN = 150
MAX_VALUE_LEN = 150

sod = t.sensitive_order_data


def sensitive_error(desc: str) -> QorusError:
    return QorusError(desc, code="SENSITIVE-DATA-ERROR")


def no_key_error() -> QorusError:
    return QorusError(
        "sensitive data cannot be used: no sensitive-data-key is loaded",
        code="SENSITIVE-DATA-KEY-ERROR",
    )


@dataclass
class SensitiveEntry:
    """The data stored against one key name and value of an order."""

    skey: str
    svalue: str
    data: dict[str, Any]
    aliases: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------- validation


def check_keys(skey: Any, svalue: Any, aliases: Iterable[Any] = ()) -> None:
    """Key name, value and aliases present, short enough and without NUL characters
    (SENSITIVE-DATA-ERROR)."""
    if not isinstance(skey, str) or not skey:
        raise sensitive_error("sensitive data key is empty")
    if len(skey.encode()) > MAX_KEY_LEN:
        raise sensitive_error(
            f"sensitive data key {shown(skey)} is longer than {MAX_KEY_LEN} bytes"
        )
    if "\x00" in skey:
        raise sensitive_error("sensitive data key contains a NUL character")
    if not isinstance(svalue, str) or not svalue:
        raise sensitive_error(f"sensitive data value for key {skey!r} is empty")
    if len(svalue.encode()) > MAX_VALUE_LEN:
        raise sensitive_error(
            f"sensitive data value for key {skey!r} is longer than {MAX_VALUE_LEN} bytes"
        )
    if "\x00" in svalue:
        raise sensitive_error(f"sensitive data value for key {skey!r} contains a NUL character")
    for n, alias in enumerate(aliases):
        if not isinstance(alias, str):
            raise sensitive_error(
                f"sensitive alias {n} of key {skey!r} is a {type(alias).__name__}, not a string"
            )
        if not alias:
            raise sensitive_error(f"sensitive alias {n} of key {skey!r} is empty")
        if len(alias.encode()) > MAX_VALUE_LEN:
            raise sensitive_error(
                f"sensitive alias {n} of key {skey!r} is longer than {MAX_VALUE_LEN} bytes"
            )
        if "\x00" in alias:
            raise sensitive_error(f"sensitive alias {n} of key {skey!r} contains a NUL character")


def as_aliases(value: Any) -> list[str]:
    if value is None:
        return []
    items = list(value) if isinstance(value, list | tuple) else [value]
    return [str(a) if isinstance(a, int) and not isinstance(a, bool) else a for a in items]


def parse_order_arg(value: Any, err: type[QorusError] | None = None) -> list[SensitiveEntry]:
    """The ``sensitive_data`` argument of createOrder: ``{skey: {svalue: {"data": {...},
    "aliases": [...], "meta": {...}}}}``; ORDER-DATA-ERROR when malformed."""

    def bad(desc: str) -> QorusError:
        return QorusError(f"sensitive_data: {desc}", code="ORDER-DATA-ERROR")

    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise bad("sensitive_data must be a hash of key names to hashes of values")
    out: list[SensitiveEntry] = []
    seen_aliases: set[str] = set()
    for skey, values in value.items():
        if not isinstance(values, Mapping):
            raise bad(f"sensitive data key {skey!r} must be a hash of values")
        if not values:
            raise bad(f"sensitive data key {skey!r} has no values")
        for n, (svalue, info) in enumerate(values.items()):
            where = f"sensitive data key {skey!r} value {n}"
            if not isinstance(info, Mapping):
                raise bad(f"{where} must be a hash with 'data' (and 'aliases', 'meta')")
            unknown = sorted(set(info) - {"data", "aliases", "meta"})
            if unknown:
                raise bad(f"{where} has unknown key(s): {', '.join(map(str, unknown))}")
            data = info.get("data")
            if not isinstance(data, Mapping):
                raise bad(f"{where}: 'data' must be a hash")
            if not data:
                raise bad(f"{where} has an empty data hash")
            meta = info.get("meta")
            if meta is not None and not isinstance(meta, Mapping):
                raise bad(f"{where}: 'meta' must be a hash")
            aliases = as_aliases(info.get("aliases"))
            try:
                check_keys(skey, str(svalue), aliases)
            except QorusError as exc:
                raise bad(exc.desc) from None
            for alias in aliases:
                if alias in seen_aliases:
                    raise bad(f"{where}: alias {alias!r} is given twice")
                seen_aliases.add(alias)
            check_data(data, f"{where} data", bad)
            check_data(meta or {}, f"{where} meta", bad)
            _check_serializable(data, where)
            out.append(SensitiveEntry(skey, str(svalue), dict(data), aliases, dict(meta or {})))
    return out


def _check_serializable(data: Mapping[str, Any], where: str) -> None:
    try:
        dumps(data)
    except (TypeError, ValueError):
        raise QorusError(
            f"{where}: data cannot be stored as JSON", code="ORDER-DATA-ERROR"
        ) from None


# ---------------------------------------------------------------------- rows


def _aad(wfiid: int, skey: str, svalue: str) -> bytes:
    return b"\x00".join((str(wfiid).encode(), skey.encode(), svalue.encode()))


def _value_ctx(wfiid: int, skey: str) -> list[bytes]:
    return [str(wfiid).encode(), skey.encode()]


def _meta_text(entry: SensitiveEntry) -> str | None:
    if not entry.aliases and not entry.meta:
        return None
    return dumps({"aliases": entry.aliases, "meta": entry.meta})


def _meta_of(text: str | None) -> tuple[list[str], dict[str, Any]]:
    if not text:
        return [], {}
    value = json.loads(text)
    return list(value.get("aliases") or []), dict(value.get("meta") or {})


def _row(
    cipher: SensitiveCipher, wfiid: int, entry: SensitiveEntry, ts: datetime
) -> dict[str, Any]:
    sealed = cipher.seal(dumps(entry.data).encode("utf-8"), _aad(wfiid, entry.skey, entry.svalue))
    return {
        "workflow_instanceid": wfiid,
        "skey": entry.skey,
        "svalue": cipher.seal_value(entry.svalue, _value_ctx(wfiid, entry.skey)),
        "data": sealed.data,
        "iv": sealed.iv,
        "mac": sealed.mac,
        "meta": _meta_text(entry),
        "created": ts,
        "modified": ts,
    }


def insert_entries(
    conn: Connection, cipher: SensitiveCipher, wfiid: int, entries: Iterable[SensitiveEntry]
) -> None:
    """Store the sensitive data of a new order (no rows exist yet)."""
    ts = now()
    rows = [_row(cipher, wfiid, e, ts) for e in entries]
    if rows:
        conn.execute(insert(sod), rows)


def load(conn: Connection, cipher: SensitiveCipher, wfiid: int) -> list[SensitiveEntry]:
    """Every entry of the order, decrypted (DecryptionError when a row does not
    authenticate)."""
    out: list[SensitiveEntry] = []
    for skey, token, data, iv, mac, meta in conn.execute(
        select(sod.c.skey, sod.c.svalue, sod.c.data, sod.c.iv, sod.c.mac, sod.c.meta)
        .where(sod.c.workflow_instanceid == wfiid)
        .order_by(sod.c.skey, sod.c.created)
    ):
        svalue = cipher.open_value(token, _value_ctx(wfiid, skey))
        plain = cipher.open(Sealed(data, iv, mac), _aad(wfiid, skey, svalue))
        aliases, md = _meta_of(meta)
        out.append(SensitiveEntry(skey, svalue, json.loads(plain.decode("utf-8")), aliases, md))
    return out


def save(conn: Connection, cipher: SensitiveCipher, wfiid: int, entry: SensitiveEntry) -> None:
    """Write one entry (replacing a stored one of the same key and value); its aliases are
    taken away from other entries of the order that held them."""
    check_keys(entry.skey, entry.svalue, entry.aliases)
    token = cipher.seal_value(entry.svalue, _value_ctx(wfiid, entry.skey))
    ts = now()
    if entry.aliases:
        wanted = set(entry.aliases)
        for skey, other, meta in conn.execute(
            select(sod.c.skey, sod.c.svalue, sod.c.meta).where(
                sod.c.workflow_instanceid == wfiid, sod.c.meta.is_not(None)
            )
        ):
            if skey == entry.skey and other == token:
                continue
            aliases, md = _meta_of(meta)
            if wanted & set(aliases):
                kept = [a for a in aliases if a not in wanted]
                text = dumps({"aliases": kept, "meta": md}) if kept or md else None
                conn.execute(
                    update(sod)
                    .where(
                        sod.c.workflow_instanceid == wfiid,
                        sod.c.skey == skey,
                        sod.c.svalue == other,
                    )
                    .values(meta=text, modified=ts)
                )
    key = (
        sod.c.workflow_instanceid == wfiid,
        sod.c.skey == entry.skey,
        sod.c.svalue == token,
    )
    created = conn.execute(select(sod.c.created).where(*key)).scalar()
    row = _row(cipher, wfiid, entry, ts)
    if created is None:
        conn.execute(insert(sod), [row])
    else:
        row.pop("created")
        conn.execute(update(sod).where(*key).values(**row))


def delete_entries(
    conn: Connection,
    cipher: SensitiveCipher | None,
    wfiid: int,
    skey: str | None = None,
    svalue: str | None = None,
) -> int:
    """Delete the order's entries (all, those of ``skey``, or one); how many went."""
    q = delete(sod).where(sod.c.workflow_instanceid == wfiid)
    if skey is not None:
        q = q.where(sod.c.skey == skey)
        if svalue is not None:
            if cipher is None:
                raise no_key_error()
            q = q.where(sod.c.svalue == cipher.seal_value(svalue, _value_ctx(wfiid, skey)))
    return int(conn.execute(q).rowcount)


def purge(conn: Connection, wfiids: Iterable[int]) -> int:
    """Delete every entry of these orders (no key needed)."""
    ids = list(wfiids)
    if not ids:
        return 0
    return int(conn.execute(delete(sod).where(sod.c.workflow_instanceid.in_(ids))).rowcount)


def orders_with_data(conn: Connection, wfiids: Iterable[int]) -> set[int]:
    ids = list(wfiids)
    if not ids:
        return set()
    return {
        int(i)
        for i in conn.execute(
            select(sod.c.workflow_instanceid).where(sod.c.workflow_instanceid.in_(ids)).distinct()
        ).scalars()
    }


def summary(conn: Connection, wfiid: int) -> list[dict[str, Any]]:
    """What an order holds without any value: key names with their aliases (no key needed)."""
    out: list[dict[str, Any]] = []
    for skey, meta in conn.execute(
        select(sod.c.skey, sod.c.meta)
        .where(sod.c.workflow_instanceid == wfiid)
        .order_by(sod.c.skey, sod.c.created)
    ):
        aliases, _ = _meta_of(meta)
        out.append({"skey": skey, "aliases": aliases})
    return out


def api_data(
    entries: Iterable[SensitiveEntry], skey: str | None = None, svalue: str | None = None
) -> dict[str, dict[str, dict[str, Any]]]:
    """``{skey: {svalue: {"data", "aliases", "meta"}}}`` as the REST API answers."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for e in entries:
        if skey is not None and e.skey != skey:
            continue
        if svalue is not None and e.svalue != svalue:
            continue
        out.setdefault(e.skey, {})[e.svalue] = {
            "data": e.data,
            "aliases": list(e.aliases),
            "meta": dict(e.meta),
        }
    return out


def redact(sensitive_data: Any) -> Any:
    """What may be audited of a ``sensitive_data`` argument: key names and value counts."""
    if not isinstance(sensitive_data, Mapping):
        return "<sensitive data>"
    return {
        str(k): f"<{len(v) if isinstance(v, Mapping) else '?'} value(s)>"
        for k, v in sensitive_data.items()
    }


# ---------------------------------------------------------------------- the key at start-up


def key_path(options: Options, omq: OmqDir) -> Path:
    """The ``sensitive-data-key`` file: the option, else ``$OMQ_DIR/etc/sensitive_data.key``."""
    return options.path_option("sensitive-data-key", omq) or omq.etc / "sensitive_data.key"


def open_cipher(engine: Engine, path: Path) -> tuple[SensitiveCipher, bool]:
    """The cipher of the key in ``path``, and whether the key was created now.

    A missing file is created with a random key (mode 0600), unless the schema already holds
    sensitive data: a new key could not decrypt them, so that is refused.
    """
    if path.exists():
        return SensitiveCipher(load_key(path)), False
    with engine.connect() as conn:
        stored = conn.execute(select(sod.c.workflow_instanceid).limit(1)).first()
    if stored is not None:
        raise SensitiveKeyError(
            f"sensitive-data-key: {path} does not exist but the system schema holds sensitive "
            "data encrypted with a key; restore the key file"
        )
    return SensitiveCipher(create_key(path)), True
