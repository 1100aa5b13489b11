"""The request's one database session, used as units of work.

One session per request: on SQLite every transaction takes the write lock (storage.database), so a
second session in the same request would wait for the first one forever.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from bot.extensions import db_session


@contextmanager
def work() -> Iterator[Session]:
    """This request's session: committed when the block ends, rolled back if it raises."""
    session = db_session()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    session.commit()
