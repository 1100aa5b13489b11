"""storage.statements: the hot path's batched writes when the database goes away mid-block."""

from __future__ import annotations

import pytest

from storage.database import Database
from storage.statements import batched


class DatabaseWentAway(Exception):
    """Stands for the driver's error when the server drops the connection."""


def test_a_connection_lost_inside_a_batched_block_lets_the_original_error_through(database: Database) -> None:
    """A restart invalidates the connection; the block's clean-up must not replace the error (which the
    webhook answers with 503, "come back") by SQLAlchemy's "invalid transaction" (a 500)."""
    with pytest.raises(DatabaseWentAway), database.engine.connect() as connection, connection.begin():
        with batched(connection):
            connection.invalidate()
            raise DatabaseWentAway
