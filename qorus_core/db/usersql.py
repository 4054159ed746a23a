"""SQL files run by a release's ``omquser-exec-sql`` line on the system datasource.

They run inside oload's one load transaction, so a failing statement takes the whole load
back. That promise only holds for statements that stay inside the transaction: transaction
control is refused everywhere, and where DDL commits implicitly (MySQL/MariaDB, Oracle) only
DML is allowed. Each statement goes to the driver on its own, through a call that refuses a
second statement (sqlite3 and PyMySQL by default; psycopg's extended protocol), so a
statement the splitter misreads can never smuggle another one past these checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from qorus_core.model.errors import QorusError

#: the largest SQL file a release may run
MAX_SQL_BYTES = 4 * 1024 * 1024
#: the most statements one file may hold
MAX_STATEMENTS = 10_000

_TX_CONTROL = frozenset(
    {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "XA"}
)
_SET_TX = re.compile(
    r"SET\s+(?:(?:SESSION|GLOBAL|LOCAL)\s+)?"
    r"(?:CHARACTERISTICS|TRANSACTION|@@(?:SESSION\.|GLOBAL\.)?AUTOCOMMIT|AUTOCOMMIT)\b",
    re.I,
)
_PREPARED_TX = re.compile(r"(PREPARE|COMMIT|ROLLBACK)\s+PREPARED|PREPARE\s+TRANSACTION", re.I)
_WORD = re.compile(r"[A-Za-z_]+")
_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


class UserSqlError(QorusError):
    """A SQL file that cannot run in the load transaction; ``line`` is where (1-based)."""

    code = "SQL-FILE-ERROR"
    http_status = 400

    def __init__(self, desc: str, line: int | None = None) -> None:
        super().__init__(desc)
        self.line = line


@dataclass(frozen=True)
class Statement:
    text: str
    line: int  # where it starts in its file

    @property
    def verb(self) -> str:
        m = _WORD.match(self.text.lstrip("( \t\r\n"))
        return m.group(0).upper() if m else ""


class _Dialect:
    """How one database reads and runs a SQL file."""

    name = "generic"
    backslash_escapes = False  # MySQL: '\'' is a quote inside a string
    hash_comments = False  # MySQL: '# ...' is a comment
    backticks = False  # MySQL: `name`
    dollar_quotes = False  # PostgreSQL: $tag$ ... $tag$
    nested_comments = False  # PostgreSQL: /* /* */ */
    #: statements allowed when DDL would commit the transaction; None: any but tx control
    allowed: frozenset[str] | None = None
    refused: frozenset[str] = frozenset()

    def refusal(self, stmt: Statement) -> str | None:
        verb = stmt.verb
        head = stmt.text.lstrip("( \t\r\n")
        if verb in _TX_CONTROL or _SET_TX.match(head) or _PREPARED_TX.match(head):
            return (
                f"{verb} controls the transaction; a release's SQL runs inside oload's one "
                "load transaction and may not end or change it"
            )
        if verb in self.refused:
            return f"{verb} acts outside the transaction on {self.name} and cannot be taken back"
        if self.allowed is not None and verb not in self.allowed:
            return (
                f"{verb or 'this statement'} commits implicitly on {self.name}, which would "
                f"break the load's one transaction; only {', '.join(sorted(self.allowed))} are "
                "allowed there (run DDL with the database's own client)"
            )
        return None

    def execute(self, cursor: Any, text: str) -> None:
        cursor.execute(text)


class _Sqlite(_Dialect):
    name = "SQLite"
    refused = frozenset({"ATTACH", "DETACH", "VACUUM", "PRAGMA"})


class _Postgres(_Dialect):
    name = "PostgreSQL"
    dollar_quotes = True
    nested_comments = True

    def execute(self, cursor: Any, text: str) -> None:
        # binary results force the extended protocol, which runs exactly one statement
        cursor.execute(text, binary=True)


class _Mysql(_Dialect):
    name = "MySQL/MariaDB"
    backslash_escapes = True
    hash_comments = True
    backticks = True
    allowed = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "SELECT", "WITH"})


class _Oracle(_Dialect):
    name = "Oracle"
    allowed = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "SELECT", "WITH"})


_DIALECTS: dict[str, _Dialect] = {
    "sqlite": _Sqlite(),
    "postgresql": _Postgres(),
    "mysql": _Mysql(),
    "mariadb": _Mysql(),
    "oracle": _Oracle(),
}


def dialect_for(name: str) -> _Dialect:
    return _DIALECTS.get(name, _Dialect())


def read(path: Path) -> str:
    """The file's text, bounded and checked: UTF-8, no NUL, at most :data:`MAX_SQL_BYTES`."""
    if not path.is_file():
        raise UserSqlError("not a regular file")
    try:
        size = path.stat().st_size
        if size > MAX_SQL_BYTES:
            raise UserSqlError(f"{size} bytes is more than the {MAX_SQL_BYTES} a SQL file may hold")
        with path.open("rb") as fh:
            data = fh.read(MAX_SQL_BYTES + 1)
    except OSError as exc:
        raise UserSqlError(f"cannot read the SQL file: {exc.strerror or exc}") from None
    if len(data) > MAX_SQL_BYTES:
        raise UserSqlError(f"more than the {MAX_SQL_BYTES} bytes a SQL file may hold")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserSqlError("not UTF-8 text", line) from None
    if "\0" in text:
        raise UserSqlError("holds a NUL character", text[: text.index("\0")].count("\n") + 1)
    return text


def split(text: str, dialect: _Dialect) -> list[Statement]:
    """Statements separated by ``;`` outside strings, quoted names and comments."""
    out: list[Statement] = []
    buf: list[str] = []
    start: int | None = None  # line of the statement's first real character
    line = 1
    i, n = 0, len(text)

    def opener(what: str, at: int) -> UserSqlError:
        return UserSqlError(f"unterminated {what} starting here", at)

    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if (c == "-" and nxt == "-") or (c == "#" and dialect.hash_comments):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if c == "/" and nxt == "*":
            at, depth, i = line, 1, i + 2
            while i < n and depth:
                if text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                elif dialect.nested_comments and text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                else:
                    line += text[i] == "\n"
                    i += 1
            if depth:
                raise opener("comment", at)
            buf.append(" ")
            continue
        if c == ";":
            body = "".join(buf).strip()
            if body:
                out.append(Statement(body, start or line))
            buf, start, i = [], None, i + 1
            continue
        if not c.isspace() and start is None:
            start = line
        if c in "'\"" or (c == "`" and dialect.backticks):
            j, at = _quoted(text, i, c, dialect), line
            if j < 0:
                raise opener("string" if c == "'" else "quoted name", at)
            chunk = text[i:j]
            line += chunk.count("\n")
            buf.append(chunk)
            i = j
            continue
        if c == "$" and dialect.dollar_quotes:
            m = _DOLLAR.match(text, i)
            prev = text[i - 1] if i else ""
            if m and not (prev.isalnum() or prev == "_"):
                tag = m.group(0)
                end = text.find(tag, m.end())
                if end < 0:
                    raise opener(f"{tag} string", line)
                chunk = text[i : end + len(tag)]
                line += chunk.count("\n")
                buf.append(chunk)
                i = end + len(tag)
                continue
        line += c == "\n"
        buf.append(c)
        i += 1
    body = "".join(buf).strip()
    if body:
        out.append(Statement(body, start or line))
    if len(out) > MAX_STATEMENTS:
        raise UserSqlError(f"{len(out)} statements; a SQL file may hold {MAX_STATEMENTS}")
    return out


def _quoted(text: str, i: int, q: str, dialect: _Dialect) -> int:
    """The index just after the quoted item opening at ``i``, or -1 when it never closes."""
    prev = text[i - 1] if i else ""
    before = text[i - 2] if i > 1 else ""
    escapes = dialect.backslash_escapes or (
        q == "'" and prev != "" and prev in "eE" and not (before.isalnum() or before == "_")
    )
    j, n = i + 1, len(text)
    while j < n:
        c = text[j]
        if escapes and c == "\\" and q != "`":
            j += 2
            continue
        if c == q:
            if j + 1 < n and text[j + 1] == q:
                j += 2
                continue
            return j + 1
        j += 1
    return -1


def parse(path: Path, dialect_name: str) -> list[Statement]:
    """Read, split and check a SQL file for a dialect; raises :class:`UserSqlError`."""
    dialect = dialect_for(dialect_name)
    stmts = split(read(path), dialect)
    if not stmts:
        raise UserSqlError("holds no SQL statement")
    for s in stmts:
        why = dialect.refusal(s)
        if why:
            raise UserSqlError(why, s.line)
    return stmts


def execute(conn: Connection, stmts: list[Statement]) -> None:
    """Run the statements on the connection's transaction, one driver call each; the first
    failure raises :class:`UserSqlError` naming its line (the caller rolls back)."""
    dialect = dialect_for(conn.dialect.name)
    errors = conn.dialect.loaded_dbapi.Error
    raw = conn.connection.driver_connection
    assert raw is not None
    for s in stmts:
        cur = raw.cursor()
        try:
            dialect.execute(cur, s.text)
        except errors as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserSqlError(f"the statement failed: {reason}", s.line) from None
        finally:
            cur.close()
