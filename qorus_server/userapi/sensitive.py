"""Sensitive data in step code: the ``WorkflowApi`` methods of the real API and the order's
sensitive data as a step sees them.

The order's entries are read and decrypted on first use. Changes (update, delete) are kept
with the running step and written by the engine in the step's own commit, together with its
status and dynamic data (``OrderSensitive.flush``); a step that fails still commits them, as
dynamic data. Nothing here logs a value: only key names appear in logs and events.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.engine import Connection

from qorus_core.db import sensitive as sdb
from qorus_core.db.engine import READONLY
from qorus_core.db.sensitive import SensitiveEntry
from qorus_core.model.errors import QorusError

from . import context

Key = tuple[str, str]


class OrderSensitive:
    """One order's sensitive data during a run: the entries and the changes not yet written."""

    def __init__(self, ctx: context.OrderContext) -> None:
        cipher = ctx.runtime.sensitive
        if cipher is None:
            raise sdb.no_key_error()
        self.cipher = cipher
        self.wfiid = ctx.workflow_instanceid
        with ctx.runtime.engine.connect().execution_options(**{READONLY: True}) as conn:
            loaded = sdb.load(conn, cipher, self.wfiid)
        self.entries: dict[Key, SensitiveEntry] = {(e.skey, e.svalue): e for e in loaded}
        #: (skey, svalue) -> the entry to write, or None to delete it
        self.pending: dict[Key, SensitiveEntry | None] = {}

    @property
    def dirty(self) -> bool:
        return bool(self.pending)

    def alias(self, alias: object) -> SensitiveEntry:
        for e in self.entries.values():
            if str(alias) in e.aliases:
                return e
        known = sorted(a for e in self.entries.values() for a in e.aliases)
        raise QorusError(
            f"alias {alias!r} for sensitive data is unknown; known aliases: {known}",
            code="INVALID-ALIAS",
        )

    def put(self, entry: SensitiveEntry) -> None:
        if entry.aliases:
            taken = set(entry.aliases)
            for other in self.entries.values():
                if (other.skey, other.svalue) != (entry.skey, entry.svalue):
                    other.aliases = [a for a in other.aliases if a not in taken]
        self.entries[(entry.skey, entry.svalue)] = entry
        self.pending[(entry.skey, entry.svalue)] = entry

    def remove(self, key: Key) -> bool:
        if key not in self.entries:
            return False
        del self.entries[key]
        self.pending[key] = None
        return True

    def flush(self, conn: Connection) -> list[str]:
        """Write the pending changes in the caller's transaction; the key names changed."""
        for (skey, svalue), entry in self.pending.items():
            if entry is None:
                sdb.delete_entries(conn, self.cipher, self.wfiid, skey, svalue)
            else:
                sdb.save(conn, self.cipher, self.wfiid, entry)
        names = sorted({k for k, _ in self.pending})
        self.pending.clear()
        return names


def state() -> OrderSensitive:
    ctx = context.require()
    if ctx.sensitive is None:
        ctx.sensitive = OrderSensitive(ctx)
    return ctx.sensitive


def _fields(args: Iterable[Any]) -> list[Any]:
    flat: list[Any] = []
    for a in args:
        if isinstance(a, list | tuple):
            flat.extend(a)
        elif a is not None:
            flat.append(a)
    return flat


def _select(data: Mapping[str, object] | None, fields: list[Any]) -> Any:
    if data is None:
        return None
    if not fields:
        return copy.deepcopy(dict(data))
    if len(fields) == 1:
        return copy.deepcopy(data.get(fields[0]))
    return {f: copy.deepcopy(data[f]) for f in fields if f in data}


def _entry(skey: str, svalue: str) -> SensitiveEntry | None:
    sdb.check_keys(skey, svalue)
    return state().entries.get((skey, svalue))


class SensitiveDataApi:
    """The sensitive data methods of ``WorkflowApi`` (static, as in Qorus). Values returned are
    sensitive: never log them."""

    @staticmethod
    def getSensitiveData(skey: str, svalue: str, *fields: object) -> Any:
        """The data hash of ``skey``/``svalue`` (None when absent); one field: its value;
        several: a hash of them."""
        e = _entry(skey, svalue)
        return _select(e.data if e else None, _fields(fields))

    @staticmethod
    def getSensitiveDataArgs(skey: str, svalue: str, keylist: object = None) -> Any:
        e = _entry(skey, svalue)
        return _select(e.data if e else None, _fields([keylist]))

    @staticmethod
    def getSensitiveDataFromAlias(alias: str, *fields: object) -> dict[str, object]:
        """``{skey, svalue, value}`` for an alias; INVALID-ALIAS when unknown."""
        e = state().alias(alias)
        return {"skey": e.skey, "svalue": e.svalue, "value": _select(e.data, _fields(fields))}

    @staticmethod
    def getSensitiveDataFromAliasArgs(alias: str, keylist: object = None) -> dict[str, object]:
        e = state().alias(alias)
        return {"skey": e.skey, "svalue": e.svalue, "value": _select(e.data, _fields([keylist]))}

    @staticmethod
    def getSensitiveMetadata(skey: str, svalue: str) -> dict[str, object]:
        e = _entry(skey, svalue)
        return copy.deepcopy(e.meta) if e else {}

    @staticmethod
    def getSensitiveMetadataFromAlias(alias: str) -> dict[str, object]:
        e = state().alias(alias)
        return {"skey": e.skey, "svalue": e.svalue, "value": copy.deepcopy(e.meta)}

    @staticmethod
    def getSensitiveDataAliases() -> dict[str, dict[str, str]]:
        """``{alias: {skey, svalue}}`` of the order."""
        return {
            a: {"skey": e.skey, "svalue": e.svalue}
            for e in state().entries.values()
            for a in e.aliases
        }

    @staticmethod
    def getSensitiveDataKeyValues() -> dict[str, list[str]]:
        """``{skey: [svalue, ...]}``: what indexes the order's sensitive data."""
        out: dict[str, list[str]] = {}
        for skey, svalue in state().entries:
            out.setdefault(skey, []).append(svalue)
        return out

    @staticmethod
    def updateSensitiveData(
        skey: str,
        svalue: str,
        data: Mapping[str, object],
        aliases: object = None,
        meta: Mapping[str, object] | None = None,
    ) -> None:
        """Merge ``data`` into the hash of ``skey``/``svalue`` (created when absent); given
        ``aliases`` replace the entry's aliases, given ``meta`` its metadata."""
        if not isinstance(data, Mapping):
            raise sdb.sensitive_error("updateSensitiveData() needs a hash of data")
        if meta is not None and not isinstance(meta, Mapping):
            raise sdb.sensitive_error("sensitive metadata must be a hash")
        new_aliases = None if aliases is None else sdb.as_aliases(aliases)
        sdb.check_keys(skey, svalue, new_aliases or [])
        st = state()
        old = st.entries.get((skey, svalue))
        merged = dict(copy.deepcopy(old.data)) if old else {}
        merged.update(copy.deepcopy(dict(data)))
        st.put(
            SensitiveEntry(
                skey,
                svalue,
                merged,
                new_aliases if new_aliases is not None else (list(old.aliases) if old else []),
                dict(meta) if meta is not None else (dict(old.meta) if old else {}),
            )
        )

    @staticmethod
    def updateSensitiveDataFromAlias(
        alias: str, data: Mapping[str, object], meta: Mapping[str, object] | None = None
    ) -> None:
        e = state().alias(alias)
        SensitiveDataApi.updateSensitiveData(e.skey, e.svalue, data, None, meta)

    @staticmethod
    def deleteSensitiveData(skey: str, svalue: str) -> bool:
        """Delete the entry of ``skey``/``svalue``; False when there was none."""
        sdb.check_keys(skey, svalue)
        return state().remove((skey, svalue))

    @staticmethod
    def deleteSensitiveDataKey(skey: str, svalue: str, keys: object) -> bool:
        """Delete fields of the entry's hash; False when nothing was deleted."""
        e = _entry(skey, svalue)
        names = _fields([keys])
        if e is None or not any(k in e.data for k in names):
            return False
        data = {k: v for k, v in e.data.items() if k not in names}
        state().put(SensitiveEntry(e.skey, e.svalue, data, list(e.aliases), dict(e.meta)))
        return True
