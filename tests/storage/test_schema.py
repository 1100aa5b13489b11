"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from storage import schema
from storage.models import Base


def test_migrations_match_the_models(database) -> None:  # noqa: ANN001
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_every_model_table_exists(database) -> None:  # noqa: ANN001
    # compare_metadata is only as good as reflection; check the tables by name as well.
    tables = set(inspect(database.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert tables - set(Base.metadata.tables) == {"alembic_version"}


def test_the_database_is_at_the_newest_revision(database) -> None:  # noqa: ANN001
    head = schema.head_revision()
    assert head is not None
    assert schema.current_revision(database) == head


def test_upgrading_again_changes_nothing(database) -> None:  # noqa: ANN001
    schema.upgrade(database)
    assert schema.current_revision(database) == schema.head_revision()
    with database.engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []
