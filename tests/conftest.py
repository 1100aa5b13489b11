"""Shared fixtures: real SQLite and PostgreSQL databases, real Redis, and apps built on them.

Under CI=true a missing PostgreSQL or Redis fails the tests that need it; elsewhere they are skipped
with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot import create_app
from bot.settings import NAMES
from storage import schema
from storage.crypto import DataCipher, generate_key
from storage.database import Database
from storage.models import Base

ROOT = Path(__file__).resolve().parent.parent
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
TEST_REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
DATA_KEY = generate_key()


def service_missing(what: str, reason: str) -> None:
    """Fail under CI, skip elsewhere: a test that needs a server never passes without it."""
    message = f"{what} is not reachable ({reason})"
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own settings must not leak into tests.
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)


def _postgres_admin_url() -> str:
    return (
        make_url(TEST_DATABASE_URL.replace("postgres://", "postgresql://", 1))
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run, dropped at the end."""
    admin = _postgres_admin_url()
    name = f"smsbot_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        service_missing("PostgreSQL at TEST_DATABASE_URL", type(exc).__name__)
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    schema.upgrade(database)
    database.dispose()
    yield url
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database file for this test run."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
    database = Database(url)
    schema.upgrade(database)
    database.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each test using this runs once on SQLite and once on PostgreSQL, on empty tables."""
    url = request.getfixturevalue(f"{request.param}_url")
    yield url
    _empty_tables(url)


def _empty_tables(url: str) -> None:
    database = Database(url)
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    with database.engine.begin() as connection:
        if database.backend == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - table names from metadata
        # Put back the one row the migration creates, as a fresh database has it.
        connection.execute(
            text("INSERT INTO exchange_chain_head (id, seq, last_hash) VALUES (1, 0, :genesis)"),
            {"genesis": "0" * 64},
        )
    database.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """The Database object for the test's backend."""
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def cipher() -> DataCipher:
    """The cipher the test apps use."""
    return DataCipher([DATA_KEY])


def app_settings(database_url: str, **more: str) -> dict[str, str]:
    """Overrides for create_app: every secret given, so nothing is written to instance/."""
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "DATA_KEYS": DATA_KEY,
        "TWILIO_AUTH_TOKEN": "test-auth-token",
        **more,
    }


@pytest.fixture
def app(database_url: str):  # noqa: ANN201 - a Flask app
    """An app on the test's database (migrated, empty)."""
    application = create_app(app_settings(database_url))
    yield application
    application.extensions["database"].dispose()


@pytest.fixture
def client(app):  # noqa: ANN001, ANN201
    """A test client for `app`."""
    return app.test_client()


@pytest.fixture
def runner(app):  # noqa: ANN001, ANN201
    """A CLI runner for `app`'s commands."""
    return app.test_cli_runner()


@pytest.fixture
def redis_url() -> str:
    """A reachable Redis server's URL (REDIS_URL, default the local server)."""
    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError as exc:
        service_missing("Redis at REDIS_URL", type(exc).__name__)
    return TEST_REDIS_URL


@pytest.fixture
def write_csv(tmp_path: Path):  # noqa: ANN201 - a function
    """Write CSV text (lines joined with newlines) to a file in tmp_path and return its path."""

    def write(name: str, *lines: str) -> Path:
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write
