"""Phone numbers: stored encrypted, found by keyed hash, created in bulk by the importers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.bulk import Counts, chunked, insert_rows
from storage.crypto import DataCipher
from storage.models import PhoneNumber
from storage.progress import NoProgress, Progress

# Passed as an owner: leave the number's participant as it is (consent imports know no participant).
KEEP_OWNER: Any = object()


def find_phone(session: Session, cipher: DataCipher, number: str) -> PhoneNumber | None:
    """The stored phone number for an E.164 number, whichever DATA_KEYS key hashed it."""
    hashes = cipher.lookup_hashes(number)
    return session.scalars(select(PhoneNumber).where(PhoneNumber.lookup_hash.in_(hashes))).first()


def save_phones(
    session: Session,
    cipher: DataCipher,
    owners: dict[str, Any],
    progress: Progress | None = None,
) -> tuple[dict[str, int], Counts]:
    """Make sure every number in `owners` (E.164 -> participant id, or KEEP_OWNER to leave as is) exists.

    Returns the phone row id of each number, and the counts. An existing number given another owner is
    moved to it: numbers are recycled, and the newest export is the truth.
    """
    progress = progress or NoProgress()
    numbers = list(owners)
    by_hash: dict[str, str] = {}
    for number in numbers:
        for digest in cipher.lookup_hashes(number):
            by_hash[digest] = number
    ids: dict[str, int] = {}
    counts = Counts()
    moves: list[dict[str, Any]] = []
    hashes = list(by_hash)
    for chunk in chunked(hashes):
        stmt = select(PhoneNumber.id, PhoneNumber.lookup_hash, PhoneNumber.participant_id).where(
            PhoneNumber.lookup_hash.in_(chunk)
        )
        for row in session.execute(stmt):
            number = by_hash[row.lookup_hash]
            ids[number] = row.id
            owner = owners[number]
            if owner is not KEEP_OWNER and owner != row.participant_id:
                moves.append({"id": row.id, "participant_id": owner})
            else:
                counts.unchanged += 1
    new = [
        {
            "lookup_hash": cipher.lookup_hash(number),
            "number_enc": cipher.encrypt(number),
            "participant_id": None if owners[number] is KEEP_OWNER else owners[number],
        }
        for number in numbers
        if number not in ids
    ]
    by_new_hash = {
        row["lookup_hash"]: number for row, number in zip(new, _missing(numbers, ids), strict=True)
    }
    inserted = insert_rows(session, PhoneNumber, ("lookup_hash",), new)
    ids.update({by_new_hash[digest]: phone_id for (digest,), phone_id in inserted.items()})
    progress.advance(len(new))
    for chunk in chunked(moves):
        session.execute(update(PhoneNumber), list(chunk))
        progress.advance(len(chunk))
    progress.advance(counts.unchanged)
    counts.created, counts.updated = len(new), len(moves)
    return ids, counts


def _missing(numbers: Iterable[str], ids: dict[str, int]) -> list[str]:
    return [number for number in numbers if number not in ids]
