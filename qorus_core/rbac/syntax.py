"""The argument syntax of ``user-tool`` (the real tool's): ``user,pass,role[,role...],desc``,
``name:key=value[,key=value...]``, ``role:desc:perm,...[:group,...]``, ``type:name``.

Parse errors never quote an argument that may hold a password.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

from qorus_core.model.args import FALSE_WORDS, TRUE_WORDS
from qorus_core.rbac.errors import RbacError

#: user-tool also takes the one-letter forms of the boolean words
TRUE = TRUE_WORDS | {"y", "t"}
FALSE = FALSE_WORDS | {"n", "f"}
DELETE_KINDS = {k: k for k in ("user", "role", "perm", "group")} | {"permission": "perm"}


@dataclass(frozen=True)
class NewUser:
    username: str
    password: str | None  # None: ask for it at a hidden prompt
    roles: tuple[str, ...]
    description: str


def split_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def parse_bool(value: str, what: str) -> bool:
    v = value.strip().lower()
    if v in TRUE:
        return True
    if v in FALSE:
        return False
    raise RbacError(f"{what}: expecting true or false, got {value!r}", code="ARG-ERROR")


def parse_add_user(arg: str) -> NewUser:
    """``user,pass,role[,role...][,desc]``: with four fields or more the last one is the
    description; an empty password is asked for at a prompt. Double quotes protect commas."""
    fields = next(csv.reader([arg], skipinitialspace=True), [])
    if len(fields) < 3:
        user = fields[0].strip() if fields else ""
        raise RbacError(
            f'--add-user {user!r}: expecting user,password,role[,role...][,"description"]',
            code="ADD-USER-ERROR",
        )
    user, password = fields[0].strip(), fields[1]
    if len(fields) == 3:
        roles, desc = fields[2:], ""
    else:
        roles, desc = fields[2:-1], fields[-1]
    return NewUser(
        username=user,
        password=password or None,
        roles=tuple(r.strip() for r in roles if r.strip()),
        description=desc.strip(),
    )


def split_target(arg: str, what: str, form: str) -> tuple[str, str]:
    """``name:rest`` -> (name, rest); the rest may be empty only when ``form`` allows it."""
    name, sep, rest = arg.partition(":")
    if not sep or not name.strip():
        raise RbacError(f"{what}: expecting {form}", code="ARG-ERROR")
    return name.strip(), rest


def split_key_values(
    text: str, keys: tuple[str, ...], what: str, *, any_key: bool = True
) -> dict[str, str]:
    """``key=value[,key=value...]`` (``;`` separates too). A comma starts a new pair only when
    a word and ``=`` follow it (``any_key``, the real tool's rule), or, with ``any_key=False``,
    only when a known key and ``=`` follow it (so a password keeps its commas and ``=``)."""
    text = text.strip()
    alt = r"[A-Za-z_][\w-]*" if any_key else "|".join(re.escape(k) for k in keys)
    if not re.match(rf"^(?:{alt})=", text):
        raise RbacError(
            f"{what}: expecting key=value with key one of: {', '.join(keys)}", code="ARG-ERROR"
        )
    out: dict[str, str] = {}
    for part in re.split(rf"[,;](?=(?:{alt})=)", text):
        key, _, value = part.partition("=")
        if key not in keys:
            raise RbacError(
                f"{what}: unknown key {key!r}; valid keys: {', '.join(keys)}", code="ARG-ERROR"
            )
        if key in out:
            raise RbacError(f"{what}: key {key!r} given twice", code="ARG-ERROR")
        out[key] = value
    return out


def parse_add_role(arg: str) -> tuple[str, str, list[str], list[str]]:
    """``role:desc[:perm,...[:group,...]]`` -> (role, description, permissions, groups)."""
    fields = arg.split(":")
    if len(fields) < 2 or len(fields) > 4 or not fields[0].strip():
        raise RbacError(
            f'--add-role {arg!r}: expecting role:"description":permission,...[:group,...]',
            code="ADD-ROLE-ERROR",
        )
    perms = split_list(fields[2]) if len(fields) > 2 else []
    groups = split_list(fields[3]) if len(fields) > 3 else []
    return fields[0].strip(), fields[1].strip(), perms, groups


def parse_delete(arg: str) -> tuple[str, str]:
    """``user|role|perm|group:NAME`` -> (kind, name)."""
    kind, sep, name = arg.partition(":")
    k = DELETE_KINDS.get(kind.strip().lower())
    if not sep or k is None or not name.strip():
        raise RbacError(
            f"--delete {arg!r}: expecting user:NAME, role:NAME, perm:NAME or group:NAME",
            code="DELETE-ERROR",
        )
    return k, name.strip()
