"""One database: its engine, its sessions, and a reachability check."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker


def normalise_url(url: str) -> URL:
    """Parse a database URL, choosing the psycopg 3 driver for PostgreSQL URLs without one."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _tune_sqlite(dbapi_connection: object, _record: object) -> None:
    # We issue BEGIN ourselves (below), so pysqlite must not.
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # Foreign keys are off by default in SQLite; WAL lets web processes read while one writes.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _begin_immediate(connection: object) -> None:
    # Take SQLite's write lock when a transaction starts, not at its first write: a transaction that
    # read first and writes later would otherwise fail at once ("database is locked") when another
    # process wrote in between, instead of waiting its turn.
    connection.exec_driver_sql("BEGIN IMMEDIATE")  # type: ignore[attr-defined]


class Database:
    """An engine and a session factory for one database URL."""

    def __init__(self, url: str, *, echo: bool = False, threads: int = 1) -> None:
        """threads: how many threads of this process may each hold a connection at once (a worker's
        senders, SEND_CONCURRENCY, plus the thread that runs the job); the pool keeps that many."""
        self.url = normalise_url(url)
        options: dict[str, object] = {"echo": echo}
        if self.url.get_backend_name() == "postgresql":
            # No pre-ping (a round trip per request): a connection found dead raises an error with
            # connection_invalidated set, the pool drops its stale connections, and callers retry.
            # Connections are opened when first needed: a bigger pool costs a process nothing it
            # does not use.
            options |= {"pool_size": max(5, threads), "max_overflow": 10}
        self.engine: Engine = create_engine(self.url, **options)
        if self.url.get_backend_name() == "sqlite":
            event.listen(self.engine, "connect", _tune_sqlite)
            event.listen(self.engine, "begin", _begin_immediate)
        # gunicorn --preload forks after the app is built: children must not share connections.
        os.register_at_fork(after_in_child=lambda: self.engine.dispose(close=False))
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        """The backend's name: "sqlite" or "postgresql"."""
        return self.url.get_backend_name()

    def session(self) -> Session:
        """Open a new session; the caller commits or rolls back and closes it."""
        return self.sessions()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits when the block ends and rolls back if it raises."""
        with self.sessions.begin() as session:
            yield session

    def ping(self) -> None:
        """Run a trivial query; raises the driver's error if the database cannot be reached."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
