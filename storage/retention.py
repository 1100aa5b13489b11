"""Retention: purge records older than the agency's retention period, except numbers on legal hold.

A purge deletes exchange-log records (and old finished outbox rows and handled queue items) but leaves a
tombstone per record (its chain position and hash), sealed by a ChainPurge row whose HMAC covers all of
them: `verify-log` then walks across the gap, and a purge cannot be forged to hide a deletion. A record
is kept if a newer kept record answers it (the reply's hash covers the link). Consent events are never
purged: they are the evidence of consent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, exists, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from storage.crypto import DataCipher
from storage.exchange_log import lock_head, purge_bytes, tombstone_digest
from storage.models import (
    ChainPurge,
    Exchange,
    ExchangeTombstone,
    LegalHold,
    OutboundMessage,
    QueueItem,
    utcnow,
)
from storage.outbox import FINAL

log = logging.getLogger(__name__)
CHUNK = 1000


@dataclass(frozen=True)
class PurgeSummary:
    """What a purge removed (or, dry run, would remove)."""

    records: int
    outbound_rows: int
    queue_items: int
    kept_on_hold: int
    purge_id: int | None = None


def _held():  # noqa: ANN202 - a select
    return select(LegalHold.phone_number_id).where(LegalHold.released_at.is_(None))


def _purgeable(cutoff: datetime):  # noqa: ANN202 - a select
    answer = aliased(Exchange)

    def old_and_free(record) -> object:  # noqa: ANN001 - an Exchange alias
        return and_(record.occurred_at < cutoff, record.phone_number_id.not_in(_held()))

    kept_answer = exists().where(answer.reply_to_seq == Exchange.chain_seq, ~old_and_free(answer))
    return (
        select(Exchange.chain_seq, Exchange.record_hash)
        .where(old_and_free(Exchange), ~kept_answer)
        .order_by(Exchange.chain_seq)
    )


def purge(
    session: Session, cipher: DataCipher, cutoff: datetime, purged_by: str, dry_run: bool = False
) -> PurgeSummary:
    """Purge what is older than cutoff in the caller's transaction (appends wait on the chain head)."""
    lock_head(session)
    held_old = session.scalar(
        select(func.count())
        .select_from(Exchange)
        .where(Exchange.occurred_at < cutoff, Exchange.phone_number_id.in_(_held()))
    )
    pairs = [(seq, record_hash) for seq, record_hash in session.execute(_purgeable(cutoff))]
    old_outbound = and_(
        OutboundMessage.created_at < cutoff,
        OutboundMessage.status.in_(sorted(FINAL)),
        OutboundMessage.phone_number_id.not_in(_held()),
    )
    old_items = and_(
        QueueItem.occurred_at < cutoff,
        QueueItem.handled_at.is_not(None),
        QueueItem.phone_number_id.not_in(_held()),
    )
    if dry_run:
        return PurgeSummary(
            len(pairs),
            session.scalar(select(func.count()).select_from(OutboundMessage).where(old_outbound)),
            session.scalar(select(func.count()).select_from(QueueItem).where(old_items)),
            held_old,
        )
    digest = tombstone_digest(iter(pairs))
    record = ChainPurge(
        cutoff=cutoff, purged_by=purged_by[:128], records=len(pairs), digest=digest, key_id="", seal=""
    )
    session.add(record)
    session.flush()
    record.key_id, record.seal = cipher.sign(purge_bytes(record.id, cutoff, len(pairs), digest))
    for start in range(0, len(pairs), CHUNK):
        chunk = pairs[start : start + CHUNK]
        session.execute(
            insert(ExchangeTombstone),
            [
                {"chain_seq": seq, "record_hash": record_hash, "purge_id": record.id}
                for seq, record_hash in chunk
            ],
        )
    # Newest first: a reply goes before the record it answers (reply_to_seq is a foreign key).
    seqs = [seq for seq, _ in reversed(pairs)]
    for start in range(0, len(seqs), CHUNK):
        session.execute(delete(Exchange).where(Exchange.chain_seq.in_(seqs[start : start + CHUNK])))
    outbound = session.execute(delete(OutboundMessage).where(old_outbound)).rowcount or 0
    items = session.execute(delete(QueueItem).where(old_items)).rowcount or 0
    record.outbound_rows = outbound
    session.flush()
    log.info(
        "purge %s: %d log records, %d outbox rows, %d queue items before %s",
        record.id,
        len(pairs),
        outbound,
        items,
        cutoff.date(),
    )
    return PurgeSummary(len(pairs), outbound, items, held_old, record.id)


class HoldError(ValueError):
    """A legal hold cannot be placed or released as asked."""


def place_hold(session: Session, phone_number_id: int, reference: str, placed_by: str) -> LegalHold:
    """Keep this number's records whatever their age until the hold is released."""
    reference = reference.strip()
    if not reference or len(reference) > 128:
        raise HoldError("a hold needs a reference (the matter, 1-128 characters)")
    if session.scalar(_held().where(LegalHold.phone_number_id == phone_number_id)) is not None:
        raise HoldError("that number is on legal hold already")
    hold = LegalHold(phone_number_id=phone_number_id, reference=reference, placed_by=placed_by[:128])
    session.add(hold)
    session.flush()
    return hold


def release_hold(session: Session, phone_number_id: int, released_by: str) -> None:
    """End the number's hold; its old records are purged by the next purge."""
    result = session.execute(
        update(LegalHold)
        .where(LegalHold.phone_number_id == phone_number_id, LegalHold.released_at.is_(None))
        .values(released_at=utcnow(), released_by=released_by[:128])
    )
    if not result.rowcount:
        raise HoldError("that number is not on legal hold")


def active_holds(session: Session) -> list[LegalHold]:
    """Holds in force, oldest first."""
    return list(
        session.scalars(
            select(LegalHold).where(LegalHold.released_at.is_(None)).order_by(LegalHold.placed_at)
        )
    )
