"""Where things are: ``$OMQ_DIR`` and its ``etc/``, ``log/``, ``user/`` and ``var/`` folders.

Resolution order: the ``-d/--qorus-dir`` option, then the ``OMQ_DIR`` environment variable,
then ``~/.qorus`` (:data:`DEFAULT_OMQ_DIR`), so a new user needs nothing set up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_OMQ_DIR = Path("~/.qorus")


@dataclass(frozen=True)
class OmqDir:
    root: Path

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def log(self) -> Path:
        return self.root / "log"

    @property
    def user(self) -> Path:
        return self.root / "user"

    @property
    def var(self) -> Path:
        return self.root / "var"

    @property
    def options_file(self) -> Path:
        return self.etc / "options"

    @property
    def default_sqlite(self) -> Path:
        """The embedded system database used when ``qorus.systemdb`` is not set."""
        return self.var / "qorus.sqlite"

    def ensure(self) -> OmqDir:
        """Create the standard folders (idempotent). New ones are private: ``etc`` (options,
        keys) and ``var`` (the database) 0700, the others 0750; existing folders keep their
        mode (the operator's choice)."""
        make_private_dir(self.root, SHARED_DIR_MODE)
        for d, mode in (
            (self.etc, PRIVATE_DIR_MODE),
            (self.log, SHARED_DIR_MODE),
            (self.user, SHARED_DIR_MODE),
            (self.var, PRIVATE_DIR_MODE),
        ):
            make_private_dir(d, mode)
        return self


PRIVATE_DIR_MODE = 0o700
"""Mode of new folders holding data or secrets (``etc``, ``var``)."""
SHARED_DIR_MODE = 0o750
"""Mode of new folders a group may read (``$OMQ_DIR`` itself, ``log``, ``user``)."""


def make_private_dir(path: Path, mode: int = PRIVATE_DIR_MODE) -> None:
    """Create ``path`` and its missing parents with ``mode`` (a stricter umask still applies);
    existing folders are left as they are."""
    missing = []
    while not path.is_dir() and path != path.parent:
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(mode=mode, exist_ok=True)


def resolve_omq_dir(qorus_dir: str | os.PathLike[str] | None = None) -> OmqDir:
    """Return the ``$OMQ_DIR`` in force: the option, the environment, then the default."""
    raw = qorus_dir or os.environ.get("OMQ_DIR") or DEFAULT_OMQ_DIR
    return OmqDir(Path(raw).expanduser().resolve())
