"""The options in force: values, where each came from, and runtime changes."""

from __future__ import annotations

import copy
import socket
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from qorus_core.model.errors import OptionError
from qorus_core.omqdir import OmqDir
from qorus_core.options.names import lookup
from qorus_core.options.spec import OPTIONS, OptionSpec
from qorus_core.options.values import check_value

Source = Literal["default", "file", "command line", "runtime"]


def expand_omq(text: str, omq: OmqDir) -> Path:
    """A path option as a Path: ``$OMQ_DIR`` and ``~`` expanded, relative to ``$OMQ_DIR``."""
    text = text.replace("${OMQ_DIR}", str(omq.root)).replace("$OMQ_DIR", str(omq.root))
    path = Path(text).expanduser()
    return path if path.is_absolute() else omq.root / path


#: option names as the code spells them -> full names (every request reads several options)
_FULL_NAMES: dict[str, str] = {}


class Options:
    """Every option's value in force. Reads are plain dict reads; :meth:`set` takes a lock.

    Built by :func:`qorus_core.options.load_options`; ``Options()`` is all defaults.
    """

    def __init__(
        self,
        values: Mapping[str, Any] | None = None,
        sources: Mapping[str, Source] | None = None,
        path: Path | None = None,
    ) -> None:
        self._values: dict[str, Any] = {k: copy.deepcopy(s.default) for k, s in OPTIONS.items()}
        self._sources: dict[str, Source] = dict.fromkeys(OPTIONS, "default")
        for name, value in (values or {}).items():
            spec = lookup(name)
            full = spec.full_name
            self._values[full] = check_value(spec, value)
            self._sources[full] = (sources or {}).get(name, "file")
        self.path = path
        """The options file that was read, or None when there was none."""
        self._lock = threading.Lock()

    def spec(self, name: str) -> OptionSpec:
        """The spec of an option by short (``qorus`` domain), full or alias name."""
        return lookup(name)

    def get(self, name: str) -> Any:
        full = _FULL_NAMES.get(name)
        if full is None:  # the first time a name is used: resolved once, kept
            full = _FULL_NAMES[name] = lookup(name).full_name
        return self._values[full]

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def source(self, name: str) -> Source:
        return self._sources[lookup(name).full_name]

    def set(self, name: str, value: Any) -> Any:
        """Change an option at run time and return the value as stored.

        Start-up options are refused: they took effect when the system started.
        """
        spec = lookup(name)
        if spec.startup_only:
            raise OptionError(
                f"option {spec.full_name!r} can only be set at startup (in the options file "
                "or on the command line)",
                info={"option": spec.full_name},
            )
        stored = check_value(spec, value)
        with self._lock:
            self._values[spec.full_name] = stored
            self._sources[spec.full_name] = "runtime"
        return stored

    def items(self, domain: str | None = None) -> Iterator[tuple[str, Any]]:
        """(full name, value) pairs in table order, optionally of one domain."""
        for full, spec in OPTIONS.items():
            if domain is None or spec.domain == domain:
                yield full, self._values[full]

    def as_dict(self, domain: str | None = None) -> dict[str, Any]:
        """A copy of the values keyed by full name."""
        return {k: copy.deepcopy(v) for k, v in self.items(domain)}

    # --- resolved values -------------------------------------------------------------------

    @property
    def systemdb(self) -> str | None:
        """The system datasource text, or None for the embedded SQLite database."""
        value = self._values["qorus.systemdb"]
        return str(value) if value else None

    def logdir(self, omq: OmqDir) -> Path:
        """The log directory: the option, else ``$OMQ_DIR/log``."""
        value = self._values["qorus.logdir"]
        return expand_omq(value, omq) if value else omq.log

    def path_option(self, name: str, omq: OmqDir) -> Path | None:
        """A file or directory option with ``$OMQ_DIR`` expanded; None when unset."""
        value = self.get(name)
        return expand_omq(str(value), omq) if value else None

    @property
    def node(self) -> str:
        """This node's name: the option, else the host name."""
        value = self._values["qorus.node"]
        return str(value) if value else socket.gethostname()
