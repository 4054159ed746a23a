"""Password hashing (argon2id) and the password policy options.

Clear-text passwords only ever live in local variables: they are hashed before they reach the
database and never appear in an error message.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from qorus_core.options import Options
from qorus_core.rbac.errors import BAD_ARGUMENT, RbacError

_hasher = PasswordHasher()
# verified against when the user does not exist, so that a bad user name costs as much time as
# a bad password and does not reveal which user names exist
_DUMMY_HASH = _hasher.hash("qorus-no-such-user")


@dataclass(frozen=True)
class PasswordPolicy:
    """The ``password-policy-*`` options in force."""

    min_length: int = 8
    mixed_case: bool = False
    numbers: bool = False
    symbols: bool = False

    @classmethod
    def from_options(cls, options: Options) -> PasswordPolicy:
        return cls(
            min_length=int(options.get("password-policy-min-length")),
            mixed_case=bool(options.get("password-policy-mixed-case")),
            numbers=bool(options.get("password-policy-numbers")),
            symbols=bool(options.get("password-policy-symbols")),
        )

    def violations(self, password: str) -> list[str]:
        """What the password lacks, in words (empty when it is acceptable)."""
        out: list[str] = []
        if len(password) < self.min_length:
            out.append(f"at least {self.min_length} characters (option password-policy-min-length)")
        if self.mixed_case and not (
            any(c.isupper() for c in password) and any(c.islower() for c in password)
        ):
            out.append("upper- and lower-case letters (option password-policy-mixed-case)")
        if self.numbers and not any(c.isdigit() for c in password):
            out.append("a digit (option password-policy-numbers)")
        if self.symbols and all(c.isalnum() for c in password):
            out.append("a character that is no letter or digit (option password-policy-symbols)")
        return out

    def check(self, password: str, username: str) -> None:
        """Raise PASSWORD-POLICY-ERROR naming each rule broken (never the password itself)."""
        missing = self.violations(password)
        if missing:
            raise RbacError(
                f"the password of user {username!r} is too weak: it needs " + "; ".join(missing),
                code="PASSWORD-POLICY-ERROR",
                status=BAD_ARGUMENT,
            )


def hash_password(password: str) -> str:
    """An argon2id hash with a random salt (the encoded form holds the parameters)."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing (external user) or corrupt hash never matches."""
    if not stored_hash:
        _dummy_verify(password)
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _dummy_verify(password: str) -> None:
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY_HASH, password)


def burn_time(password: str) -> None:
    """Spend the time of one verification (for unknown users)."""
    _dummy_verify(password)
