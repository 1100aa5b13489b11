"""Statements for the webhook's hot path: compiled once per database, run on the driver's own cursor.

SQLAlchemy's `Connection.execute` spends about 60 µs of Python per statement (execution context,
parameter and result objects) on top of the driver's 20 µs, and the webhook runs several per text. A
`Statement` keeps what matters of SQLAlchemy: the SQL it compiles for each database, and the types' own
bind and result processors, so SQLite and PostgreSQL store and read exactly what `Connection.execute`
would. Driver errors are raised as SQLAlchemy's (IntegrityError; DBAPIError with connection_invalidated
after a lost connection, which the connection then drops); the engine's cursor events still fire and
its statement log (echo, or the sqlalchemy.engine logger at INFO) still shows each statement.

`pipelined(connection)`: on PostgreSQL, run the block in psycopg's pipeline mode, where a write is queued
and travels with the next read or with the COMMIT: a transaction costs one round trip per read plus one
for its writes and commit together. Inside it, run statements only through `Statement`:
`Connection.execute` cannot read results in pipeline mode.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exc, literal
from sqlalchemy.engine import Connection, Dialect
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


def one_of(column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN (...)` over fixed values, written out (SQLAlchemy's own IN expands at every execution)."""
    return column.in_([literal(value, column.type) for value in values])


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
        args = compiled.arguments(params)
        cursor = _cursor(connection)
        events = connection._has_events or connection.engine._has_events  # noqa: SLF001
        sql = compiled.sql
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
        return compiled, cursor

    def run(self, connection: Connection, params: Mapping[str, Any] | None = None) -> None:
        """Run a write (inside `pipelined`, PostgreSQL queues it until the next read or COMMIT)."""
        self._execute(connection, params or {})

    def rows(self, connection: Connection, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run a query; every row as a tuple, values as SQLAlchemy's types give them."""
        compiled, cursor = self._execute(connection, params or {})
        try:
            found = cursor.fetchall()
        except Exception as error:  # noqa: BLE001 - pipeline mode reports a queued write's error here
            _raise_mapped(connection, error, compiled.sql, None)
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


@contextlib.contextmanager
def pipelined(connection: Connection) -> Iterator[None]:
    """On PostgreSQL, run the block in pipeline mode (see the module's docstring); elsewhere just run it.

    Commit inside the block, so the COMMIT travels with the queued writes. When the block raises, what
    is still queued is collected and the transaction rolled back before the error goes on.
    """
    if connection.dialect.name != "postgresql":
        yield
        return
    dbapi_error = connection.dialect.loaded_dbapi.Error
    driver = connection.connection.driver_connection
    try:
        with driver.pipeline() as pipeline:
            try:
                yield
            except BaseException:
                # Collect what is still queued (an aborted pipeline repeats its first error: already
                # raised), then roll back here: a COMMIT that failed leaves SQLAlchemy believing the
                # transaction is over, and the pool would hand out a connection stuck in it.
                with contextlib.suppress(dbapi_error):
                    pipeline.sync()
                with contextlib.suppress(dbapi_error):
                    driver.rollback()
                raise
    except dbapi_error as error:  # from the pipeline itself: entering it, or its last sync
        _raise_mapped(connection, error, "(pipeline)", None)
