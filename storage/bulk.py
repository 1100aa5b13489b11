"""Bulk writes by natural key: make a table hold the rows a file describes, fast, without duplicates."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.progress import NoProgress, Progress

CHUNK = 1000
T = TypeVar("T")


def chunked(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """Yield consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class Counts:
    """How many rows of one table an import created, changed or left as they were."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"{self.created} new, {self.updated} updated, {self.unchanged} unchanged"


@dataclass
class ImportSummary:
    """What one import did, table by table."""

    source: str
    rows: int
    counts: dict[str, Counts] = field(default_factory=dict)

    def describe(self) -> str:
        """One line for the operator."""
        parts = "; ".join(f"{table} {counts}" for table, counts in self.counts.items())
        return f"{self.source}: {self.rows} rows imported; {parts}"


def upsert_rows(
    session: Session,
    model: Any,
    key: Sequence[str],
    desired: dict[tuple[Any, ...], dict[str, Any]],
    progress: Progress | None = None,
) -> tuple[dict[tuple[Any, ...], int], Counts]:
    """Make `model`'s table hold `desired` (natural key -> column values).

    Rows found by key are updated only where a value differs; the rest are inserted. Returns the row id
    of every key, and the counts.
    """
    progress = progress or NoProgress()
    key_columns = [getattr(model, name) for name in key]
    value_names = sorted({name for values in desired.values() for name in values})
    value_columns = [getattr(model, name) for name in value_names]
    ids: dict[tuple[Any, ...], int] = {}
    counts = Counts()
    to_update: list[dict[str, Any]] = []
    keys = list(desired)
    for chunk in chunked(keys):
        wanted = set(chunk)
        stmt = select(model.id, *key_columns, *value_columns).where(key_columns[0].in_({k[0] for k in chunk}))
        for row in session.execute(stmt):
            row_key = tuple(row[1 : 1 + len(key)])
            if row_key not in wanted:
                continue
            ids[row_key] = row.id
            stored = dict(zip(value_names, row[1 + len(key) :], strict=True))
            values = desired[row_key]
            if any(stored[name] != value for name, value in values.items()):
                to_update.append({"id": row.id, **values})
            else:
                counts.unchanged += 1
    new_keys = [k for k in keys if k not in ids]
    ids.update(
        insert_rows(session, model, key, [{**dict(zip(key, k, strict=True)), **desired[k]} for k in new_keys])
    )
    progress.advance(len(new_keys))
    for chunk in chunked(to_update):
        session.execute(update(model), list(chunk))
        progress.advance(len(chunk))
    progress.advance(counts.unchanged)
    counts.created = len(new_keys)
    counts.updated = len(to_update)
    return ids, counts


def insert_rows(
    session: Session, model: Any, key: Sequence[str], rows: Sequence[dict[str, Any]]
) -> dict[tuple[Any, ...], int]:
    """Insert rows (all with the same columns) and return their ids by natural key.

    A plain executemany, then the ids read back by key: INSERT .. RETURNING of 1,000 rows makes one
    huge statement that the PostgreSQL driver re-parses on every batch (3x slower, bench/import_cases.py).
    """
    if not rows:
        return {}
    table = model.__table__
    for chunk in chunked(rows):
        session.execute(table.insert(), list(chunk))
    key_columns = [getattr(model, name) for name in key]
    wanted = {tuple(row[name] for name in key) for row in rows}
    ids: dict[tuple[Any, ...], int] = {}
    first_values = sorted({k[0] for k in wanted})
    for chunk in chunked(first_values):
        for row in session.execute(select(model.id, *key_columns).where(key_columns[0].in_(chunk))):
            found = tuple(row[1:])
            if found in wanted:
                ids[found] = row.id
    return ids
