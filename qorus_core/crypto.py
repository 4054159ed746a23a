"""Encryption of sensitive order data under the ``sensitive-data-key`` (32 bytes).

The data of each row is sealed with AES-256-GCM under that key: a fresh 12-byte nonce per
write, the order id, key name and key value as associated data (a row copied to another
order or key does not decrypt). Key values (``svalue``, sensitive themselves, but looked up by
equality) are sealed deterministically with AES-SIV under a sub-key derived by HKDF, so the
same value in the same order always gives the same stored text.
"""

from __future__ import annotations

import base64
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from qorus_core.model.errors import QorusError
from qorus_core.omqdir import make_private_dir

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16


class SensitiveKeyError(QorusError):
    """The key file is missing, unreadable, of the wrong size or readable by others."""

    def __init__(self, desc: str) -> None:
        super().__init__(desc, code="SENSITIVE-DATA-KEY-ERROR")


class DecryptionError(QorusError):
    """Stored sensitive data do not authenticate: tampered with, or another key."""

    def __init__(self, desc: str) -> None:
        super().__init__(desc, code="SENSITIVE-DATA-DECRYPTION-ERROR")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise DecryptionError(f"stored {what} is not valid base64") from None


def load_key(path: Path) -> bytes:
    """The key in ``path``: exactly 32 bytes, not readable by group or others."""
    try:
        st = path.stat()
        raw = path.read_bytes()
    except OSError as exc:
        raise SensitiveKeyError(
            f"sensitive-data-key: cannot read {path}: {exc.strerror or exc}"
        ) from None
    if len(raw) != KEY_SIZE:
        raise SensitiveKeyError(
            f"sensitive-data-key: {path} holds {len(raw)} bytes; it must hold exactly "
            f"{KEY_SIZE} bytes"
        )
    if os.name == "posix" and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SensitiveKeyError(
            f"sensitive-data-key: {path} is accessible by group or others "
            f"(mode {stat.S_IMODE(st.st_mode):04o}); run 'chmod 600 {path}'"
        )
    return raw


def create_key(path: Path) -> bytes:
    """Write a new random key to ``path`` (mode 0600); refuses to overwrite a file."""
    key = os.urandom(KEY_SIZE)
    make_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise SensitiveKeyError(
            f"sensitive-data-key: cannot create {path}: {exc.strerror or exc}"
        ) from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


@dataclass(frozen=True)
class Sealed:
    """One encrypted value as stored: ciphertext, nonce and tag, each base64 text."""

    data: str
    iv: str
    mac: str


class SensitiveCipher:
    """Seals and opens sensitive data and key values under one 32-byte key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_SIZE:
            raise SensitiveKeyError(f"a sensitive data key has {KEY_SIZE} bytes, not {len(key)}")
        self._gcm = AESGCM(key)
        sub = HKDF(
            algorithm=hashes.SHA256(), length=64, salt=None, info=b"qorus sensitive value"
        ).derive(key)
        self._siv = AESSIV(sub)

    def seal(self, plaintext: bytes, aad: bytes) -> Sealed:
        nonce = os.urandom(NONCE_SIZE)
        out = self._gcm.encrypt(nonce, plaintext, aad)
        return Sealed(_b64(out[:-TAG_SIZE]), _b64(nonce), _b64(out[-TAG_SIZE:]))

    def open(self, sealed: Sealed, aad: bytes) -> bytes:
        nonce = _unb64(sealed.iv, "iv")
        body = _unb64(sealed.data, "data") + _unb64(sealed.mac, "mac")
        try:
            return self._gcm.decrypt(nonce, body, aad)
        except (InvalidTag, ValueError):
            raise DecryptionError(
                "sensitive data cannot be decrypted: the stored data were changed or the "
                "sensitive-data-key is not the one they were written with"
            ) from None

    def seal_value(self, value: str, context: list[bytes]) -> str:
        """Deterministic: the same value and context always give the same text."""
        return _b64(self._siv.encrypt(value.encode("utf-8"), context))

    def open_value(self, token: str, context: list[bytes]) -> str:
        try:
            return self._siv.decrypt(_unb64(token, "key value"), context).decode("utf-8")
        except (InvalidTag, ValueError):
            raise DecryptionError(
                "a sensitive key value cannot be decrypted: it was changed or the "
                "sensitive-data-key is not the one it was written with"
            ) from None
