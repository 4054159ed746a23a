"""THE masker of secrets: every answer, listing, log line, event and audit row that may hold a
password goes through :func:`mask_secrets` (or :func:`mask_option` for an option value).

What counts as a secret:

* the password of a datasource string, Qore form ``driver:user/pass@db%host:port`` or an
  SQLAlchemy URL ``dialect+driver://user:pass@host/db``;
* the password of any URL with credentials (``proxy-url``, ``client-url``, ``ldap.uri``);
* ``password=...`` (and ``pass=``, ``pwd=``, ``*password=``, ``*secret=``, ``*passphrase=``)
  in listener parameters ``{cert=..;key=..;password=..}``, query strings and messages;
* the value of a mapping key with such a name (``{"pass": ...}``, ``{"ldap.password": ...}``);
* every option the options table marks ``secret``.

Masking errs on the side of hiding: an ``@`` inside the password hides up to the last ``@`` of
the word. The user name, host, port and database stay visible so messages remain useful.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import URL

if TYPE_CHECKING:
    from qorus_core.options.spec import OptionSpec

MASK = "********"
"""What a secret is replaced with, everywhere."""

# a key ending in password/passwd/passphrase/secret (sslpassword, client_secret), or pass/pwd
# alone or after a separator (pass, db-pwd; not bypass)
_KEY = r"(?:[\w.-]*(?:password|passwd|passphrase|secret)|(?:[\w.-]*[-_.])?(?:pass|pwd))"

_SECRET_KEY = re.compile(rf"(?i){_KEY}")

# scheme://user:PASSWORD@  (the password may hold ':' and '/', as SQLAlchemy allows)
_URL_PW = re.compile(
    r"(?P<pre>(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:'\"]*:)[^\s'\"]*(?=@)"
)
# driver:user/PASSWORD@  (Qore datasource form; the user name is never empty)
_QORE_PW = re.compile(r"(?P<pre>(?<![\w/.+\-])[A-Za-z]\w*:[^\s/@:'\"]+/)[^\s'\"]*(?=@)")
# password=VALUE  (listener parameters, query strings, messages)
_KV_PW = re.compile(
    rf"(?i)(?P<pre>(?<![\w.\-]){_KEY}\s*=\s*)(?P<val>\"[^\"]*\"|'[^']*'|[^;&}}\s'\"]*)"
)
# "password": "VALUE" / 'password': 'VALUE'  (JSON and Python reprs)
_QUOTED_PW = re.compile(
    rf"(?i)(?P<pre>(?P<q>[\"']){_KEY}(?P=q)\s*:\s*)(?P<val>\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*')"
)


_SECRET_NAMES: set[str] = set()


def register_secret_names(names: Iterable[str]) -> None:
    """Names that are secret whatever they look like (the options table registers the short,
    full and alias names of every option marked ``secret``)."""
    _SECRET_NAMES.update(n.lower() for n in names)
    is_secret_key.cache_clear()


@functools.lru_cache(maxsize=4096)  # every event and log line asks for the same few keys
def is_secret_key(name: str) -> bool:
    """Whether a mapping key or parameter name names a secret (``pass``, ``ldap.password``)."""
    name = name.strip()
    return name.lower() in _SECRET_NAMES or _SECRET_KEY.fullmatch(name) is not None


def _hide_value(m: re.Match[str]) -> str:
    val = m["val"]
    if not val:
        return m[0]
    if val[0] in "\"'" and val[-1] == val[0] and len(val) >= 2:
        return f"{m['pre']}{val[0]}{MASK}{val[0]}"
    return f"{m['pre']}{MASK}"


def mask_text(text: str) -> str:
    """Text with every password it holds replaced by :data:`MASK`."""
    if "@" in text:
        text = _URL_PW.sub(lambda m: m["pre"] + MASK, text)
        text = _QORE_PW.sub(lambda m: m["pre"] + MASK, text)
    if "=" in text:
        text = _KV_PW.sub(_hide_value, text)
    if ":" in text:
        text = _QUOTED_PW.sub(_hide_value, text)
    return text


def mask_secrets(value: Any) -> Any:
    """A copy of ``value`` safe to show: text masked, mapping values under secret keys
    replaced, lists and tuples masked item by item; other values are returned as they are."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, URL):
        return mask_url(value)
    if isinstance(value, Mapping):
        return {k: _masked_item(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    if isinstance(value, tuple):
        return tuple(mask_secrets(v) for v in value)
    return value


def _masked_item(key: Any, value: Any) -> Any:
    if isinstance(key, str) and is_secret_key(key) and value not in (None, ""):
        return MASK
    return mask_secrets(value)


def mask_option(spec: OptionSpec, value: Any) -> Any:
    """An option's value as shown: a ``secret`` option's whole value is hidden when set;
    any other value is masked like any text (``systemdb``, listeners, URLs)."""
    if spec.secret:
        return MASK if value not in (None, "", [], {}) else value
    return mask_secrets(value)


def mask_url(url: URL) -> str:
    """An SQLAlchemy URL as text with its password replaced by :data:`MASK`."""
    text = url.render_as_string(hide_password=True)
    if url.password is not None:
        text = text.replace(":***@", f":{MASK}@", 1)
    return mask_text(text)  # a password given as a query parameter
