"""Statements for the hot paths (the webhook's, a worker's per-row sending): compiled once per database,
run on the driver's own cursor.

SQLAlchemy's `Connection.execute` spends about 60 µs of Python per statement (execution context,
parameter and result objects) on top of the driver's 20 µs, and the webhook runs several per text. A
`Statement` keeps what matters of SQLAlchemy: the SQL it compiles for each database, and the types' own
bind and result processors, so SQLite and PostgreSQL store and read exactly what `Connection.execute`
would. Driver errors are raised as SQLAlchemy's (IntegrityError; DBAPIError with connection_invalidated
after a lost connection, which the connection then drops); the engine's cursor events still fire and
its statement log (echo, or the sqlalchemy.engine logger at INFO) still shows each statement.

`batched(connection)`: on PostgreSQL, the block's writes are held back and sent as one statement, as
data-modifying WITH queries before the next read or together at the block's end: the webhook's consent
event goes with the chain lock's SELECT, the log's rows with the chain head's UPDATE. One round trip
and one statement for PostgreSQL to run instead of several (psycopg's pipeline mode was tried: it sends
each statement in its own packets, and cost more system calls than it saved).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exc, literal_column
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

Row = tuple[Any, ...]
Processor = Callable[[Any], Any] | None


@dataclass
class _Compiled:
    """One statement's SQL for one database, its parameters in order, and their processors."""

    sql: str
    names: tuple[str, ...]  # bind names, in the order a positional driver wants them
    keys: tuple[str | None, ...]  # the caller's parameter for each name (None: a value fixed in the SQL)
    fixed: tuple[Any, ...]
    processors: tuple[Processor, ...]
    positional: bool
    result_types: tuple[Any, ...]  # the selected columns' types (empty for writes)
    result_processors: tuple[Processor, ...] | None = None  # from the first result's type codes

    def arguments(self, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values = []
        for key, fixed, process in zip(self.keys, self.fixed, self.processors, strict=True):
            value = fixed if key is None else params[key]
            values.append(value if process is None or value is None else process(value))
        return values if self.positional else dict(zip(self.names, values, strict=True))


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    by_name = {name: bind for bind, name in compiled.bind_names.items()}
    names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(by_name)
    keys, fixed, processors = [], [], []
    for name in names:
        bind = by_name[name]
        if bind.expanding:
            raise ValueError(f"{name}: expanding IN is not supported here (use `one_of`)")
        keys.append(bind.key if bind.required else None)
        fixed.append(None if bind.required else bind.effective_value)
        processors.append(bind.type.dialect_impl(dialect).bind_processor(dialect))
    selected = getattr(statement, "exported_columns", None)  # a query's columns, or what RETURNING returns
    return _Compiled(
        compiled.string,
        names,
        tuple(keys),
        tuple(fixed),
        tuple(processors),
        compiled.positional,
        tuple(column.type for column in selected or ()),
    )


def _cursor(connection: Connection) -> Any:
    # One cursor per database connection, reused: making one costs as much as running a statement.
    info = connection.info
    cursor = info.get("hot_path_cursor")
    if cursor is None:
        cursor = info["hot_path_cursor"] = connection.connection.driver_connection.cursor()
    return cursor


def _raise_mapped(connection: Connection, error: Exception, sql: str, args: Any) -> None:
    dialect = connection.dialect
    if not isinstance(error, dialect.loaded_dbapi.Error):
        raise error
    lost = dialect.is_disconnect(error, connection.connection.dbapi_connection, None)
    if lost:
        connection.invalidate(error)
    raise exc.DBAPIError.instance(
        sql, args, error, dialect.loaded_dbapi.Error, connection_invalidated=lost, dialect=dialect
    ) from error


def connection_of(db: Session | Connection) -> Connection:
    """The Connection to run statements on: the caller's own, or its ORM session's (same transaction)."""
    return db.connection() if isinstance(db, Session) else db


_CONSTANT = re.compile(r"[A-Za-z0-9_]+")


def one_of(column: ColumnElement[Any], values: Sequence[str]) -> ColumnElement[bool]:
    """`column IN ('a', 'b')` over fixed codes, written into the SQL as constants.

    SQLAlchemy's own IN expands at every execution; bound values would also hide the codes from the
    planner of a prepared statement, which then cannot use a partial index whose condition names them.
    Only the application's own codes (letters, digits, underscores) are accepted: never outside input.
    """
    for value in values:
        if not _CONSTANT.fullmatch(value):
            raise ValueError(f"one_of takes the application's own codes, not {value!r}")
    return column.in_([literal_column(f"'{value}'", column.type) for value in values])


_WRITES = "hot_path_writes"  # connection.info key: the writes `batched` holds back
_PLACEHOLDER = re.compile(r"%\(([^)]+)\)s")
_combined: dict[tuple[int, ...], str] = {}


def _combine(parts: list[tuple[_Compiled, dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
    """One PostgreSQL statement for several: all but the last as data-modifying WITH queries."""
    key = tuple(id(compiled) for compiled, _ in parts)
    sql = _combined.get(key)
    if sql is None:
        renamed = [_PLACEHOLDER.sub(rf"%(w{n}_\1)s", compiled.sql) for n, (compiled, _) in enumerate(parts)]
        ctes = ", ".join(f"w{n} AS ({part})" for n, part in enumerate(renamed[:-1]))
        sql = _combined[key] = f"WITH {ctes} {renamed[-1]}"
    args = {f"w{n}_{name}": value for n, (_, given) in enumerate(parts) for name, value in given.items()}
    return sql, args


class Statement:
    """A Core statement compiled once per kind of database and run on the driver's cursor."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[tuple[type, str], _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        key = (type(dialect), dialect.paramstyle)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = _compile(self.statement, dialect)
        return found

    def _execute(self, connection: Connection, params: Mapping[str, Any]) -> tuple[_Compiled, Any]:
        compiled = self._for(connection.dialect)
        sql, args = compiled.sql, compiled.arguments(params)
        held = connection.info.get(_WRITES)
        if held:  # writes held back by `batched` go first, in the same statement
            held.append((compiled, args))
            sql, args = _combine(held)
            held.clear()
        _send(connection, sql, args)
        return compiled, _cursor(connection)

    def run(self, connection: Connection, params: Mapping[str, Any] | None = None) -> None:
        """Run a write (inside `batched`, PostgreSQL gets it with the next read or at the block's end)."""
        held = connection.info.get(_WRITES)
        if held is not None:
            compiled = self._for(connection.dialect)
            held.append((compiled, compiled.arguments(params or {})))
            return
        self._execute(connection, params or {})

    def count(self, connection: Connection, params: Mapping[str, Any] | None = None) -> int:
        """Run a write now (with any writes `batched` held before it); how many rows it changed."""
        _, cursor = self._execute(connection, params or {})
        return cursor.rowcount

    def rows(self, connection: Connection, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run a query; every row as a tuple, values as SQLAlchemy's types give them."""
        compiled, cursor = self._execute(connection, params or {})
        found = cursor.fetchall()
        processors = compiled.result_processors
        if processors is None:
            dialect = connection.dialect
            processors = compiled.result_processors = tuple(
                type_.dialect_impl(dialect).result_processor(dialect, description[1])
                for type_, description in zip(compiled.result_types, cursor.description, strict=True)
            )
        if not any(processors):
            return [tuple(row) for row in found]
        return [
            tuple(value if p is None else p(value) for p, value in zip(processors, row, strict=True))
            for row in found
        ]

    def first(self, connection: Connection, params: Mapping[str, Any] | None = None) -> Row | None:
        """The first row, or None."""
        found = self.rows(connection, params)
        return found[0] if found else None


def _send(connection: Connection, sql: str, args: Any) -> None:
    cursor = _cursor(connection)
    events = connection._has_events or connection.engine._has_events  # noqa: SLF001
    if events:  # as Connection.execute calls them (a listener may rewrite the statement)
        for listener in connection.dispatch.before_cursor_execute:
            sql, args = listener(connection, cursor, sql, args, None, False)
    if connection._echo:  # noqa: SLF001 - the engine's statement log, as Connection.execute writes it
        connection._log_info(sql)  # noqa: SLF001
        connection._log_info("[hot path] %r", args)  # noqa: SLF001
    try:
        cursor.execute(sql, args)
    except Exception as error:  # noqa: BLE001 - mapped like Connection.execute maps it
        _raise_mapped(connection, error, sql, args)
    if events:
        connection.dispatch.after_cursor_execute(connection, cursor, sql, args, None, False)


@contextlib.contextmanager
def batched(connection: Connection) -> Iterator[None]:
    """On PostgreSQL, hold back the block's writes (`Statement.run`) and send them as one statement: with
    the next read (as WITH queries before it), or, for those left, when the block ends. Elsewhere (SQLite,
    in-process: no round trips to save) each write runs at once. A read in the block does not see the
    writes held before it (WITH queries and their statement share one snapshot): batch only writes that
    no later read of the block depends on.
    """
    if connection.dialect.paramstyle != "pyformat" or connection.info.get(_WRITES) is not None:
        yield
        return
    held: list[tuple[_Compiled, dict[str, Any]]] = []
    # Kept from here: once the database drops the connection (a restart), reading connection.info again
    # raises "invalid transaction", which would hide the error that says the database went away.
    info = connection.info
    info[_WRITES] = held
    try:
        yield
        if held:
            sql, args = _combine(held) if len(held) > 1 else (held[0][0].sql, held[0][1])
            held.clear()
            _send(connection, sql, args)
    finally:
        del info[_WRITES]
