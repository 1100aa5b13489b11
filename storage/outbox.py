"""The outbox: one row per notice that must go out, written before any job is queued.

A row moves QUEUED/DEFERRED -> SENDING (claimed by exactly one worker) -> SENT -> DELIVERED, or ends
UNDELIVERED, FAILED or CANCELLED. Claiming is one conditional UPDATE, so two jobs for the same row (a
re-enqueue, a retried job) never both send it. Status callbacks only move a row forward.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from storage.crypto import DataCipher
from storage.models import Exchange, OutboundMessage, OutboundStatus, PhoneNumber, UTCDateTime, utcnow
from storage.statements import Statement, connection_of, one_of

WAITING = (OutboundStatus.QUEUED.value, OutboundStatus.DEFERRED.value)
FINAL = frozenset(
    {
        OutboundStatus.DELIVERED.value,
        OutboundStatus.UNDELIVERED.value,
        OutboundStatus.FAILED.value,
        OutboundStatus.CANCELLED.value,
    }
)
# How far along a message is, by what Twilio says; a callback never moves a row to a lower rank.
# "read" (WhatsApp/RCS) means delivered for us; "accepted"/"scheduled" are Twilio's own queueing.
_CALLBACK_STATUS = {
    "accepted": ("sent", 1),
    "scheduled": ("sent", 1),
    "queued": ("sent", 1),
    "sending": ("sent", 1),
    "sent": ("sent", 2),
    "delivered": ("delivered", 3),
    "read": ("delivered", 3),
    "undelivered": ("undelivered", 3),
    "failed": ("failed", 3),
}
_RANK = {"sending": 0, "sent": 2, "delivered": 3, "undelivered": 3, "failed": 3}
_INSERT_CHUNK = 1000


@dataclass(frozen=True)
class NewNotice:
    """A notice to write to the outbox; dedupe_key makes writing it twice a no-op."""

    phone_number_id: int
    participant_id: int | None
    kind: str
    template_id: str
    language: str
    body: str
    dedupe_key: str
    subject: str | None = None
    send_after: datetime | None = None


@dataclass(frozen=True)
class Claimed:
    """A row a worker now owns: it alone may send it."""

    id: int
    phone_number_id: int
    participant_id: int | None
    kind: str
    subject: str | None
    template_id: str
    language: str
    body_enc: str
    attempts: int
    claimed_at: datetime

    @classmethod
    def of(cls, row: OutboundMessage) -> Claimed:
        """A row already taken (recovery, or a callback adopting a dead worker's row) in claimed form."""
        return cls(
            row.id,
            row.phone_number_id,
            row.participant_id,
            row.kind,
            row.subject,
            row.template_id,
            row.language,
            row.body_enc,
            row.attempts,
            row.claimed_at or utcnow(),
        )


def _insert_ignoring_duplicates(session: Session):  # noqa: ANN202 - a dialect's Insert
    table = OutboundMessage.__table__
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"])


def add(
    session: Session, cipher: DataCipher, notices: Iterable[NewNotice], now: datetime | None = None
) -> list[int]:
    """Write the notices not already in the outbox; return the new rows' ids (duplicates are skipped)."""
    now = now or utcnow()
    statement = _insert_ignoring_duplicates(session).returning(OutboundMessage.__table__.c.id)
    ids: list[int] = []
    batch: list[dict[str, object]] = []

    def flush() -> None:
        if batch:
            ids.extend(session.execute(statement, batch).scalars())
            batch.clear()

    for notice in notices:
        batch.append(
            {
                "phone_number_id": notice.phone_number_id,
                "participant_id": notice.participant_id,
                "kind": notice.kind,
                "subject": notice.subject,
                "template_id": notice.template_id,
                "language": notice.language,
                "body_enc": cipher.encrypt(notice.body),
                "status": OutboundStatus.QUEUED.value,
                "dedupe_key": notice.dedupe_key,
                "attempts": 0,
                "created_at": now,
                "send_after": notice.send_after or now,
                "updated_at": now,
            }
        )
        if len(batch) >= _INSERT_CHUNK:
            flush()
    flush()
    return ids


def existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """Which of these dedupe keys are already in the outbox."""
    found: set[str] = set()
    for start in range(0, len(keys), _INSERT_CHUNK):
        chunk = keys[start : start + _INSERT_CHUNK]
        found.update(
            session.scalars(select(OutboundMessage.dedupe_key).where(OutboundMessage.dedupe_key.in_(chunk)))
        )
    return found


def mark_enqueued(session: Session, ids: Sequence[int], now: datetime | None = None) -> None:
    """Note that jobs were put on Redis for these rows."""
    now = now or utcnow()
    for start in range(0, len(ids), _INSERT_CHUNK):
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id.in_(ids[start : start + _INSERT_CHUNK]))
            .values(enqueued_at=now),
            execution_options={"synchronize_session": False},
        )


def unmark_enqueued(session: Session, ids: Sequence[int]) -> None:
    """Rows whose job ended before it got to them: those still waiting have no job (the sweep queues them)."""
    for start in range(0, len(ids), _INSERT_CHUNK):
        session.execute(
            update(OutboundMessage)
            .where(
                OutboundMessage.id.in_(ids[start : start + _INSERT_CHUNK]),
                OutboundMessage.status.in_(WAITING),
            )
            .values(enqueued_at=None),
            execution_options={"synchronize_session": False},
        )


_T = OutboundMessage.__table__.c


@dataclass(frozen=True)
class Recipient:
    """The phone row a claimed notice goes to, as it is now: its number (encrypted) and its participant."""

    number_enc: str
    participant_id: int | None


def _of_phone(column: object) -> object:
    return (
        select(column)
        .where(PhoneNumber.id == _T.phone_number_id)
        .correlate(OutboundMessage.__table__)
        .scalar_subquery()
    )


_NOW = bindparam("now", type_=UTCDateTime())
# Built once and run on the driver's cursor (storage.statements): a worker runs these for every row.
# The claim reads the number with it (subqueries in RETURNING: SQLite's UPDATE ... FROM cannot return
# the joined table's columns), one statement instead of two.
_CLAIM = Statement(
    update(OutboundMessage.__table__)
    .where(_T.id == bindparam("row"), one_of(_T.status, list(WAITING)), _T.send_after <= _NOW)
    .values(status=OutboundStatus.SENDING.value, claimed_at=_NOW, attempts=_T.attempts + 1, updated_at=_NOW)
    .returning(
        _T.id,
        _T.phone_number_id,
        _T.participant_id,
        _T.kind,
        _T.subject,
        _T.template_id,
        _T.language,
        _T.body_enc,
        _T.attempts,
        _of_phone(PhoneNumber.number_enc),
        _of_phone(PhoneNumber.participant_id),
    )
)


def claim_to_send(
    db: Session | Connection, outbox_id: int, now: datetime | None = None
) -> tuple[Claimed, Recipient] | None:
    """Take a waiting row that is due for sending, and read its phone row, in one statement; None if
    another job has it, it ended, or it is not due."""
    now = now or utcnow()
    row = _CLAIM.first(connection_of(db), {"row": outbox_id, "now": now})
    if row is None:
        return None
    return Claimed(*row[:9], claimed_at=now), Recipient(*row[9:])


def claim(db: Session | Connection, outbox_id: int, now: datetime | None = None) -> Claimed | None:
    """Take a waiting row that is due for sending; None if another job has it, it ended, or it is not due."""
    taken = claim_to_send(db, outbox_id, now)
    return None if taken is None else taken[0]


@cache
def _finishing(names: tuple[str, ...]) -> Statement:
    return Statement(
        update(OutboundMessage.__table__)
        .where(_T.id == bindparam("row"), _T.status == OutboundStatus.SENDING.value)
        .values({name: bindparam(name, type_=_T[name].type) for name in names})
    )


def _finish(db: Session | Connection, outbox_id: int, **values: object) -> bool:
    """Update a row this worker claimed; False if it is no longer "sending" (a callback adopted it)."""
    values.setdefault("updated_at", utcnow())
    statement = _finishing(tuple(sorted(values)))
    return statement.count(connection_of(db), {"row": outbox_id, **values}) > 0


def mark_sent(
    session: Session | Connection,
    outbox_id: int,
    twilio_sid: str | None,
    status: str = "sent",
    now: datetime | None = None,
) -> bool:
    """Twilio accepted the message: keep its SID (status callbacks find the row by it)."""
    now = now or utcnow()
    return _finish(
        session, outbox_id, status=status, twilio_sid=twilio_sid, sent_at=now, updated_at=now, reason=None
    )


def mark_failed(session: Session | Connection, outbox_id: int, error_code: int | None, reason: str) -> None:
    """A permanent failure (Twilio's error code kept), or retries used up."""
    _finish(session, outbox_id, status=OutboundStatus.FAILED.value, error_code=error_code, reason=reason)


def cancel(session: Session | Connection, outbox_id: int, reason: str) -> None:
    """The notice must not go out any more (consent withdrawn, appointment moved, number moved...)."""
    _finish(session, outbox_id, status=OutboundStatus.CANCELLED.value, reason=reason)


def hold(
    session: Session | Connection, outbox_id: int, until: datetime, reason: str, error_code: int | None = None
) -> None:
    """Put a claimed row back to wait until `until` (quiet hours, or a retry after a transient error)."""
    status = OutboundStatus.DEFERRED.value if reason == "quiet_hours" else OutboundStatus.QUEUED.value
    _finish(
        session,
        outbox_id,
        status=status,
        send_after=until,
        reason=reason,
        error_code=error_code,
        enqueued_at=None,
    )


def release(session: Session | Connection, outbox_id: int) -> None:
    """Give a claimed row back unchanged (it was never sent), to be enqueued again."""
    _finish(session, outbox_id, status=OutboundStatus.QUEUED.value, enqueued_at=None)


@dataclass(frozen=True)
class StatusChange:
    """What a status callback did: the row's id and status before and after, or nothing (unknown SID)."""

    outbox_id: int | None
    before: str | None
    after: str | None
    phone_number_id: int | None = None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def apply_callback(
    session: Session, twilio_sid: str, message_status: str, error_code: int | None
) -> StatusChange:
    """Move the row (and its exchange-log record) forward; an older or repeated status changes nothing."""
    mapped = _CALLBACK_STATUS.get(message_status)
    row = session.execute(
        select(_T.id, _T.status, _T.phone_number_id).where(_T.twilio_sid == twilio_sid).with_for_update()
    ).one_or_none()
    if row is None:
        return StatusChange(None, None, None)
    if mapped is None:
        return StatusChange(row.id, row.status, row.status, row.phone_number_id)
    status, rank = mapped
    current_rank = _RANK.get(row.status, -1)
    if row.status in FINAL or rank <= current_rank:
        return StatusChange(row.id, row.status, row.status, row.phone_number_id)
    values: dict[str, object] = {"status": status, "updated_at": utcnow()}
    if error_code is not None:
        values["error_code"] = error_code
    session.execute(update(OutboundMessage.__table__).where(_T.id == row.id).values(**values))
    session.execute(
        update(Exchange.__table__)
        .where(Exchange.direction == "outbound", Exchange.message_sid == twilio_sid)
        .values(delivery_status=status)
    )
    return StatusChange(row.id, row.status, status, row.phone_number_id)


def due(session: Session, now: datetime, requeue_after: timedelta, limit: int | None = 10_000) -> list[int]:
    """Waiting rows that are due with no live job: never enqueued (Redis was down) or enqueued long ago.

    At most `limit` (None: all of them), the longest waiting first."""
    stale = now - requeue_after
    return list(
        session.scalars(
            select(_T.id)
            .where(
                _T.status.in_(WAITING),
                _T.send_after <= now,
                (_T.enqueued_at.is_(None)) | (_T.enqueued_at < stale),
            )
            .order_by(_T.send_after, _T.id)
            .limit(limit)
        )
    )


def stuck_sending(session: Session, claimed_before: datetime) -> list[tuple[int, int, str, datetime]]:
    """Rows a worker claimed and never finished (it was killed): id, phone, body_enc, claimed_at."""
    return [
        tuple(row)
        for row in session.execute(
            select(_T.id, _T.phone_number_id, _T.body_enc, _T.claimed_at)
            .where(_T.status == OutboundStatus.SENDING.value, _T.claimed_at < claimed_before)
            .order_by(_T.id)
        )
    ]


def counts(session: Session) -> dict[str, int]:
    """Rows per status (for summaries and the dashboard)."""
    return dict(session.execute(select(_T.status, func.count()).group_by(_T.status)).tuples().all())
