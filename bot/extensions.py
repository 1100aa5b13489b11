"""The app's shared services (settings, database, cipher, Redis) and the per-request session."""

from __future__ import annotations

import redis
from flask import current_app, g
from sqlalchemy.orm import Session

from bot.settings import Settings
from storage.crypto import DataCipher
from storage.database import Database


def settings() -> Settings:
    """The running app's settings."""
    return current_app.extensions["settings"]


def database() -> Database:
    """The running app's database."""
    return current_app.extensions["database"]


def cipher() -> DataCipher:
    """The running app's cipher for personal data."""
    return current_app.extensions["cipher"]


def redis_connection() -> redis.Redis | None:
    """The running app's Redis connection, or None when REDIS_URL is not set (jobs then run inline)."""
    return current_app.extensions["redis"]


def db_session() -> Session:
    """This request's (or CLI command's) session, closed when the app context ends."""
    if "db_session" not in g:
        g.db_session = database().session()
    return g.db_session


def close_db_session(_exc: BaseException | None = None) -> None:
    """Close this context's session, rolling back anything left uncommitted."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
