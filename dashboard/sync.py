"""Keep the dashboard's summaries current: one row per conversation, and the work queue.

Each call reads only what is new since the last one: exchange records after the last chain_seq read
(the chain head lock orders commits, so none can appear behind it), consent events after the last id
read (re-reading a small overlap, since ids may commit out of order), and failed deliveries not yet
queued (a partial index holds only those). Calls are serialised by locking the one dashboard_sync row;
a call that finds it busy leaves the work to the one holding it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import String, and_, cast, exists, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent import ledger
from storage.models import (
    FAILED_DELIVERY,
    ConsentEvent,
    Conversation,
    DashboardSync,
    Direction,
    Exchange,
    OutboundMessage,
    QueueItem,
    QueueKind,
    utcnow,
)

SYNC_ID = 1
BATCH = 5000
# Consent event ids are taken before their transaction commits: one committed late, behind the cursor,
# is caught by re-reading recent events just behind it.
CONSENT_OVERLAP = 200
LATE_COMMIT = timedelta(seconds=15)
QUEUE_INTENTS = {
    "agent_request": QueueKind.AGENT_REQUEST,
    "plain_language_revocation": QueueKind.PLAIN_LANGUAGE_REVOCATION,
    "clarified_revocation": QueueKind.PLAIN_LANGUAGE_REVOCATION,
}
NOT_UNDERSTOOD = "out_of_scope"


def _cursor(session: Session) -> DashboardSync | None:
    query = select(DashboardSync).where(DashboardSync.id == SYNC_ID)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    row = session.scalars(query).one_or_none()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = DashboardSync(id=SYNC_ID, exchange_seq=0, consent_event_id=0)
            session.add(row)
    except IntegrityError:
        return None  # made, and held, by another call just now
    return row


def sync(session: Session) -> int:
    """Bring the summaries up to date in the caller's transaction; returns how many records were read."""
    cursor = _cursor(session)
    if cursor is None:
        return 0
    with session.no_autoflush:  # flushing before every read costs more than the reads
        return _sync(session, cursor)


def _sync(session: Session, cursor: DashboardSync) -> int:
    read, touched_items = 0, set()
    while True:
        rows = session.execute(
            select(
                Exchange.chain_seq,
                Exchange.direction,
                Exchange.occurred_at,
                Exchange.phone_number_id,
                Exchange.intent,
                Exchange.consent_state,
            )
            .where(Exchange.chain_seq > cursor.exchange_seq)
            .order_by(Exchange.chain_seq)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        touched_items |= _apply_exchanges(session, rows)
        cursor.exchange_seq = rows[-1].chain_seq
        read += len(rows)
    _refresh_consent(session, cursor)
    touched_items |= _queue_failures(session)
    count_open_items(session, touched_items)
    if read:
        cursor.synced_at = utcnow()
    session.flush()
    return read


def _apply_exchanges(session: Session, rows: list) -> set[int]:
    phones = {row.phone_number_id for row in rows}
    known = {
        c.phone_number_id: c
        for c in session.scalars(select(Conversation).where(Conversation.phone_number_id.in_(phones)))
    }
    items: list[QueueItem] = []
    for row in rows:
        conversation = known.get(row.phone_number_id)
        if conversation is None:
            conversation = Conversation(
                phone_number_id=row.phone_number_id,
                first_at=row.occurred_at,
                last_at=row.occurred_at,
                last_seq=row.chain_seq,
                messages=0,
                last_intent=None,
                consent_state=row.consent_state,
                open_items=0,
            )
            session.add(conversation)
            known[row.phone_number_id] = conversation
        previous_intent = conversation.last_intent
        conversation.messages += 1
        conversation.last_at, conversation.last_seq = row.occurred_at, row.chain_seq
        conversation.consent_state = row.consent_state
        if row.direction != Direction.INBOUND.value:
            continue
        conversation.last_intent, conversation.last_inbound_seq = row.intent, row.chain_seq
        kind = QUEUE_INTENTS.get(row.intent or "")
        if kind is None and row.intent == NOT_UNDERSTOOD and previous_intent == NOT_UNDERSTOOD:
            kind = QueueKind.NOT_UNDERSTOOD
        if kind is not None:
            items.append(
                QueueItem(
                    kind=kind.value,
                    source=f"exchange:{row.chain_seq}",
                    phone_number_id=row.phone_number_id,
                    occurred_at=row.occurred_at,
                )
            )
    session.add_all(items)
    session.flush()
    return {item.phone_number_id for item in items}


def _refresh_consent(session: Session, cursor: DashboardSync) -> None:
    """Numbers whose ledger changed get their state from the ledger (imports change it without a text)."""
    recent = utcnow() - LATE_COMMIT
    events = session.execute(
        select(ConsentEvent.id, ConsentEvent.phone_number_id).where(
            or_(
                ConsentEvent.id > cursor.consent_event_id,
                and_(
                    ConsentEvent.id > cursor.consent_event_id - CONSENT_OVERLAP,
                    ConsentEvent.recorded_at >= recent,
                ),
            )
        )
    ).all()
    if not events:
        return
    phones = {phone for _, phone in events}
    for conversation in session.scalars(select(Conversation).where(Conversation.phone_number_id.in_(phones))):
        conversation.consent_state = ledger.current_state(session, conversation.phone_number_id).label
    cursor.consent_event_id = max(cursor.consent_event_id, max(event_id for event_id, _ in events))


def _not_queued(source: object) -> object:
    return ~exists().where(
        and_(QueueItem.kind == QueueKind.DELIVERY_FAILURE.value, QueueItem.source == source)
    )


def _queue_failures(session: Session) -> set[int]:
    exchange_source = literal("exchange:") + cast(Exchange.chain_seq, String)
    outbound_source = literal("outbound:") + cast(OutboundMessage.id, String)
    failed = session.execute(
        select(exchange_source, Exchange.phone_number_id, Exchange.occurred_at).where(
            Exchange.delivery_status.in_(FAILED_DELIVERY), _not_queued(exchange_source)
        )
    ).all()
    failed += session.execute(
        select(outbound_source, OutboundMessage.phone_number_id, OutboundMessage.updated_at).where(
            OutboundMessage.status.in_(FAILED_DELIVERY), _not_queued(outbound_source)
        )
    ).all()
    session.add_all(
        QueueItem(
            kind=QueueKind.DELIVERY_FAILURE.value, source=source, phone_number_id=phone, occurred_at=when
        )
        for source, phone, when in failed
    )
    session.flush()
    return {phone for _, phone, _ in failed}


def count_open_items(session: Session, phones: Iterable[int]) -> None:
    """Recount the open queue items of these numbers' conversations."""
    phones = list(phones)
    if not phones:
        return
    counts = dict(
        session.execute(
            select(QueueItem.phone_number_id, func.count())
            .where(QueueItem.phone_number_id.in_(phones), QueueItem.handled_at.is_(None))
            .group_by(QueueItem.phone_number_id)
        ).all()
    )
    session.flush()
    known = set(
        session.scalars(select(Conversation.phone_number_id).where(Conversation.phone_number_id.in_(phones)))
    )
    changes = [{"phone_number_id": p, "open_items": counts.get(p, 0)} for p in phones if p in known]
    if changes:
        session.execute(update(Conversation), changes)  # one executemany, by primary key
