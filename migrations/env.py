"""Alembic environment: runs against the engine handed over by storage.schema, or DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context

from storage.database import Database
from storage.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("set DATABASE_URL, or run: flask --app bot migrate")
    engine = Database(url).engine

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
