"""Event filters, as the reference has them: a criteria list is a list of hashes whose keys are
``class``, ``classstr``, ``event``, ``eventstr`` (and their ``...hash`` forms: a hash whose keys
are the accepted values), ``minseverity``, ``minseveritystr``, ``minuserseverity``,
``minuserseveritystr``, ``mincompositeseverity``, ``mincompositeseveritystr``, ``all``,
``none``, and ours: ``info`` (a hash of info keys and the values they must have; nested hashes
match nested info). "Or" filtering takes an event that matches every key of any one hash, "and"
filtering one that matches some key of every hash. Used by ``wait-for-events`` and the
``/apievents`` WebSocket; every bound here keeps a hostile filter cheap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from qorus_core.model.errors import ValidationError
from qorus_server.events import (
    EVENT_CLASSES,
    EVENT_CODES,
    SEVERITIES,
    Event,
    severity_name,
)

MAX_CRITERIA = 100
MAX_INFO_KEYS = 32
MAX_INFO_DEPTH = 4
_MAX_TEXT = 400


#: criteria key -> the kind of value it takes
CRITERIA: dict[str, str] = {
    "class": "class",
    "classhash": "classhash",
    "classstr": "classstr",
    "classstrhash": "classstrhash",
    "event": "event",
    "eventhash": "eventhash",
    "eventstr": "eventstr",
    "eventstrhash": "eventstrhash",
    "minseverity": "severity",
    "minseveritystr": "severitystr",
    "minuserseverity": "severity",
    "minuserseveritystr": "severitystr",
    "mincompositeseverity": "severity",
    "mincompositeseveritystr": "severitystr",
    "all": "any",
    "none": "any",
    "info": "info",
}

Criterion = tuple[str, Any]
Criteria = list[list[Criterion]]


def _bad(name: str, what: str, code: str = "INVALID-CRITERIA-CODE") -> ValidationError:
    return ValidationError(f"{name}: {what}", code=code)


def _int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _bad(name, f"expected an integer, got {type(value).__name__}")
    try:
        n = int(value)
    except ValueError:
        raise _bad(name, f"expected an integer, got {str(value)[:40]!r}") from None
    if abs(n) > 2**63:
        raise _bad(name, "the integer is out of range")
    return n


def _name(value: object, name: str) -> str:
    if not isinstance(value, str) or len(value) > _MAX_TEXT or "\x00" in value:
        raise _bad(name, "expected a name")
    return value.strip().upper()


def _keys_hash(value: object, name: str, as_int: bool) -> frozenset[Any]:
    if not isinstance(value, Mapping):
        raise _bad(
            name, f"expected a hash whose keys are the values taken, got {type(value).__name__}"
        )
    if len(value) > MAX_CRITERIA:
        raise _bad(name, f"at most {MAX_CRITERIA} keys")
    out = set()
    for k, v in value.items():
        if not v:
            continue
        out.add(_int(k, name) if as_int else _name(k, name))
    return frozenset(out)


def _info(value: object, name: str, depth: int = 1) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _bad(name, f"expected a hash of info keys and values, got {type(value).__name__}")
    if depth > MAX_INFO_DEPTH:
        raise _bad(name, f"nested more than {MAX_INFO_DEPTH} levels")
    if len(value) > MAX_INFO_KEYS:
        raise _bad(name, f"at most {MAX_INFO_KEYS} keys")
    out: dict[str, Any] = {}
    for k, v in value.items():
        if not isinstance(k, str) or len(k) > _MAX_TEXT or "\x00" in k:
            raise _bad(name, "the info keys must be names")
        if isinstance(v, Mapping):
            out[k] = _info(v, f"{name}.{k}", depth + 1)
        elif v is None or isinstance(v, bool | int | str):
            if isinstance(v, str) and (len(v) > _MAX_TEXT or "\x00" in v):
                raise _bad(f"{name}.{k}", "the text is too long or holds NUL")
            out[k] = v
        elif isinstance(v, float) and math.isfinite(v):
            out[k] = v
        else:
            raise _bad(f"{name}.{k}", f"cannot match a value of type {type(v).__name__}")
    return out


def _criterion(key: object, value: object, name: str) -> Criterion:
    if not isinstance(key, str) or key not in CRITERIA:
        raise _bad(
            name,
            f"invalid criteria code {str(key)[:40]!r}; expecting one of: {', '.join(CRITERIA)}",
        )
    kind = CRITERIA[key]
    where = f"{name}.{key}"
    if kind in ("class", "event", "severity"):
        return key, _int(value, where)
    if kind == "classstr":
        return key, _name(value, where)
    if kind == "eventstr":
        return key, _name(value, where)
    if kind == "severitystr":
        try:
            return key, SEVERITIES[severity_name(_name(value, where))]
        except ValueError as exc:
            raise _bad(where, str(exc)) from None
    if kind in ("classhash", "eventhash"):
        return key, _keys_hash(value, where, as_int=True)
    if kind in ("classstrhash", "eventstrhash"):
        return key, _keys_hash(value, where, as_int=False)
    if kind == "info":
        return key, _info(value, where)
    return key, None  # all, none: the value is ignored


def parse_criteria(value: object, name: str = "filter") -> Criteria:
    """A criteria list (a hash, or a list of hashes) checked and normalised; 400 naming the
    argument when it is not one."""
    if value is None:
        return []
    items = [value] if isinstance(value, Mapping) else value
    if not isinstance(items, list | tuple):
        raise _bad(
            name,
            f"expected a list of criteria hashes, got {type(value).__name__}",
            "GET-EVENTS-ERROR",
        )
    if len(items) > MAX_CRITERIA:
        raise _bad(name, f"at most {MAX_CRITERIA} criteria hashes", "GET-EVENTS-ERROR")
    out: Criteria = []
    for i, c in enumerate(items):
        if not isinstance(c, Mapping):
            raise _bad(
                f"{name}[{i}]",
                f"a criteria element must be a hash, not {type(c).__name__}",
                "GET-EVENTS-ERROR",
            )
        if len(c) > len(CRITERIA):
            raise _bad(f"{name}[{i}]", "too many keys")
        out.append([_criterion(k, v, f"{name}[{i}]") for k, v in c.items()])
    return out


def _info_match(want: Mapping[str, Any], have: object) -> bool:
    if not isinstance(have, Mapping):
        return False
    for k, v in want.items():
        got = have.get(k)
        if isinstance(v, Mapping):
            if not _info_match(v, got):
                return False
        elif got != v and not (
            isinstance(got, int | str) and isinstance(v, int | str) and str(got) == str(v)
        ):
            return False
    return True


def check(event: Event, key: str, value: Any) -> bool:
    """Whether ``event`` meets one criterion."""
    if key == "class":
        return bool(EVENT_CLASSES[event.classstr] == value)
    if key == "classhash":
        return EVENT_CLASSES[event.classstr] in value
    if key == "classstr":
        return bool(event.classstr == value)
    if key == "classstrhash":
        return event.classstr in value
    if key == "event":
        return bool(EVENT_CODES[event.eventstr] == value)
    if key == "eventhash":
        return EVENT_CODES[event.eventstr] in value
    if key == "eventstr":
        return bool(event.eventstr == value)
    if key == "eventstrhash":
        return event.eventstr in value
    if key in ("minseverity", "minseveritystr"):
        return bool(event.severity >= value)
    if key in ("minuserseverity", "minuserseveritystr"):
        user = event.userseverity
        return user is not None and bool(user >= value)
    if key in ("mincompositeseverity", "mincompositeseveritystr"):
        return bool(event.compositeseverity >= value)
    if key == "info":
        return _info_match(value, event.info)
    return key == "all"


def match_or(event: Event, criteria: Criteria) -> bool:
    """Every key of some hash matches."""
    return any(all(check(event, k, v) for k, v in c) for c in criteria)


def match_and(event: Event, criteria: Criteria) -> bool:
    """Some key of every hash matches."""
    return all(any(check(event, k, v) for k, v in c) for c in criteria)


@dataclass(frozen=True)
class EventFilter:
    """What a client asked to see: ``mode`` ``or`` (an event matching any criteria hash, less
    those matching every hash of ``negated``) or ``and`` (an event matching every hash, plus
    those matching none of ``negated``); either way less those matching any hash of
    ``nfilt``. No criteria at all: every event."""

    criteria: Criteria = field(default_factory=list)
    mode: str = "or"
    negated: Criteria = field(default_factory=list)
    nfilt: Criteria = field(default_factory=list)

    @property
    def everything(self) -> bool:
        return not (self.criteria or self.negated or self.nfilt)

    def __call__(self, event: Event) -> bool:
        if self.everything:
            return True
        if self.mode == "and":
            ok = match_and(event, self.criteria) or bool(
                self.negated and not match_or(event, self.negated)
            )
        else:
            ok = (not self.criteria or match_or(event, self.criteria)) and not (
                self.negated and match_and(event, self.negated)
            )
        return ok and not (self.nfilt and match_or(event, self.nfilt))


def parse_filter(value: object, name: str = "filter") -> EventFilter:
    """The filter of ``wait-for-events`` and of the ``/apievents`` filter message: a criteria
    list ("or"), or a hash ``{or|and: [...], and_not|or_not: [...], nfilt: [...]}``."""
    if isinstance(value, Mapping) and set(value) & {"or", "and", "and_not", "or_not", "nfilt"}:
        extra = set(value) - {"or", "and", "and_not", "or_not", "nfilt"}
        if extra:
            raise _bad(
                name, f"unknown keys {sorted(str(k)[:40] for k in extra)}", "GET-EVENTS-ERROR"
            )
        mode = "and" if "and" in value or "or_not" in value else "or"
        if mode == "and" and ("or" in value or "and_not" in value):
            raise _bad(name, "use either or / and_not or and / or_not", "GET-EVENTS-ERROR")
        return EventFilter(
            parse_criteria(value.get(mode), f"{name}.{mode}"),
            mode,
            parse_criteria(
                value.get("or_not" if mode == "and" else "and_not"),
                f"{name}.{'or_not' if mode == 'and' else 'and_not'}",
            ),
            parse_criteria(value.get("nfilt"), f"{name}.nfilt"),
        )
    return EventFilter(parse_criteria(value, name))
