"""What release files do besides loading definitions: ``verify-schema`` and
``omquser-exec-sql`` lines, run in the load transaction, and the record of each release loaded."""

from __future__ import annotations

import getpass
import socket
from pathlib import Path

from sqlalchemy.engine import Connection

from qorus_core.db import releases, schema, usersql
from qorus_core.loader.problems import Problems
from qorus_core.loader.release import Action, Inputs
from qorus_core.loader.store import Outcome

Parsed = dict[Action, list[usersql.Statement]]


def check(dialect: str, inputs: Inputs, problems: Problems) -> Parsed:
    """Read and check every SQL file the releases name (nothing runs): too big, not text,
    unterminated strings, statements that would leave the transaction."""
    parsed: Parsed = {}
    for act in inputs.actions:
        if act.path is None:
            continue
        try:
            parsed[act] = usersql.parse(act.path, dialect)
        except usersql.UserSqlError as exc:
            where = f"{act.path}:{exc.line}" if exc.line else str(act.path)
            problems.add(act.release, f"omquser-exec-sql {where}: {exc.desc}", (act.line, 1))
    return parsed


def run(conn: Connection, inputs: Inputs, parsed: Parsed, problems: Problems) -> None:
    """The release lines in file order; the first failure is a problem naming its release
    line, and the caller rolls the whole load back."""
    for act in inputs.actions:
        if act.command == "verify-schema":
            for found in schema.verify(conn):
                problems.add(act.release, f"verify-schema: {found}", (act.line, 1))
        else:
            try:
                usersql.execute(conn, parsed[act])
            except usersql.UserSqlError as exc:
                problems.add(
                    act.release,
                    f"omquser-exec-sql {act.path}:{exc.line}: {exc.desc}",
                    (act.line, 1),
                )
        if problems:
            return


def record(conn: Connection, inputs: Inputs, outcomes: list[Outcome]) -> list[int]:
    """One ``releases`` row per release file of the run, with what its own lines brought."""
    by_path = {o.definition.path.resolve(): o for o in outcomes}
    try:
        user: str | None = getpass.getuser()
    except (OSError, KeyError):
        user = None
    host = socket.gethostname()
    ids = []
    for rel in inputs.releases:
        comps: list[releases.Component] = []
        for kind, path in inputs.components.get(rel, []):
            comps.append(_component(kind, path, by_path))
        ids.append(releases.record(conn, rel.name, str(rel), comps, user, host))
    return ids


def _component(kind: str, path: Path, by_path: dict[Path, Outcome]) -> releases.Component:
    o = by_path.get(path)
    if o is not None:
        d = o.definition
        return releases.Component(d.kind, d.name, d.version, o.oid, str(path))
    return releases.Component(kind, path.name, None, None, str(path))
