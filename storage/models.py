"""The tables: participants, their phone numbers and cases, payments, appointments, consent events,
the exchange log, the outbox, supervisors and their access log.

Nothing here holds a name, SSN, date of birth or address. Phone numbers and message bodies are stored
encrypted (`*_enc`, see storage.crypto) with a keyed hash beside them for lookups.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    or_,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.statements import one_of


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and always read back timezone-aware.

    SQLite keeps no offsets; storing UTC everywhere makes both databases agree.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


# Constraint names must be stable for Alembic on both SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime}


class Language(enum.StrEnum):
    ENGLISH = "en"
    SPANISH = "es"


class CaseRole(enum.StrEnum):
    CUSTODIAL = "custodial"
    NONCUSTODIAL = "noncustodial"


class PaymentSource(enum.StrEnum):
    WITHHOLDING = "withholding"
    DIRECT = "direct"
    FEDERAL_TAX_OFFSET = "federal_tax_offset"  # FTI: never disclosed in a text
    STATE_TAX_OFFSET = "state_tax_offset"
    UNEMPLOYMENT = "unemployment"
    OTHER = "other"


class ConsentKind(enum.StrEnum):
    OPT_IN = "opt_in"
    OPT_OUT = "opt_out"
    HELP = "help"
    VERIFICATION = "verification"


class ConsentChannel(enum.StrEnum):
    """Where a consent event came from. The first four are authenticated: they verify the number."""

    WEB = "web"
    IVR = "ivr"
    SDU_PHONE = "sdu_phone"
    TECHNICIAN = "technician"
    SMS = "sms"  # an SMS opt-in/out recorded elsewhere and imported
    SMS_KEYWORD = "sms_keyword"
    SMS_PLAIN_LANGUAGE = "sms_plain_language"
    SMS_CASE_DIGITS = "sms_case_digits"  # verified by texting the last 4 digits of a case number
    TWILIO_OPT_OUT_TYPE = "twilio_opt_out_type"
    DELIVERY_ERROR_21610 = "delivery_error_21610"


class AppointmentKind(enum.StrEnum):
    HEARING = "hearing"
    APPOINTMENT = "appointment"
    GENETIC_TESTING = "genetic_testing"
    MEDIATION = "mediation"


class AppointmentStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class OutboundStatus(enum.StrEnum):
    """Lifecycle of an outbox row: QUEUED > SENDING > SENT > DELIVERED, or > UNDELIVERED / FAILED;
    DEFERRED (quiet hours) and CANCELLED (consent withdrawn before sending) end or pause it early."""

    QUEUED = "queued"
    DEFERRED = "deferred"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


class SupervisorRole(enum.StrEnum):
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Participant(Base):
    """A parent in the state system, known by the agency's participant id and nothing personal."""

    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(2), default=Language.ENGLISH.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PhoneNumber(Base):
    """A phone number (E.164), encrypted, with a keyed hash for lookups; may belong to a participant."""

    __tablename__ = "phone_numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    lookup_hash: Mapped[str] = mapped_column(String(64), unique=True)
    number_enc: Mapped[str] = mapped_column(Text)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Case(Base):
    """A child support case; case_ref is the state's case id, never sent whole in a text."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_ref: Mapped[str] = mapped_column(String(32), unique=True)
    county: Mapped[str] = mapped_column(String(64))
    next_due_date: Mapped[date | None] = mapped_column(Date)
    amount_due: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CaseMember(Base):
    """A participant's part in a case (custodial or noncustodial parent)."""

    __tablename__ = "case_members"
    __table_args__ = (UniqueConstraint("case_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))


class Payment(Base):
    """A payment posted to a case.

    The export carries no payment id, so a payment is known by (case, date, amount, source, seq):
    seq counts identical payments on the same day, which keeps a re-import from duplicating them.
    """

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("case_id", "paid_on", "amount", "source", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    source: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer, default=1)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class Appointment(Base):
    """A hearing or appointment on a case; starts_at is UTC, utc_offset_minutes the office's offset."""

    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime]
    utc_offset_minutes: Mapped[int] = mapped_column(Integer)
    office: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ConsentEvent(Base):
    """One entry of the append-only consent ledger; a number's consent state is derived from these.

    dedupe_key makes recording idempotent (a re-imported row, a retried MessageSid).
    """

    __tablename__ = "consent_events"
    __table_args__ = (Index("ix_consent_events_phone_time", "phone_number_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_number_id: Mapped[int] = mapped_column(ForeignKey("phone_numbers.id"))
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    evidence: Mapped[str] = mapped_column(String(128))
    dedupe_key: Mapped[str | None] = mapped_column(String(64), unique=True)


class Exchange(Base):
    """One inbound or outbound message in the protected record of every exchange.

    Bodies are encrypted. Records form a chain: chain_seq counts them, prev_hash is the record_hash of the
    one before, and record_hash is an HMAC (key named by key_id, derived from DATA_KEYS) over the record's
    fixed fields, so `flask --app bot verify-log` finds an altered, inserted or deleted record. Only
    delivery_status may change after writing, so it is outside the HMAC.
    """

    __tablename__ = "exchanges"
    __table_args__ = (
        UniqueConstraint("direction", "message_sid"),
        # The webhook's reads: this number's latest outbound (or recent inbound) messages, newest first.
        Index("ix_exchanges_phone_direction_time", "phone_number_id", "direction", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chain_seq: Mapped[int] = mapped_column(Integer, unique=True)
    direction: Mapped[str] = mapped_column(String(8))
    occurred_at: Mapped[datetime]
    message_sid: Mapped[str | None] = mapped_column(String(64))
    phone_number_id: Mapped[int] = mapped_column(ForeignKey("phone_numbers.id"))
    # The chain_seq of the inbound message this one answers: known before either row is written, so an
    # exchange and its reply are inserted together.
    reply_to_seq: Mapped[int | None] = mapped_column(ForeignKey("exchanges.chain_seq"), index=True)
    body_enc: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(32))
    template_id: Mapped[str | None] = mapped_column(String(64))
    consent_state: Mapped[str] = mapped_column(String(24))
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    # Why the guard replaced a reply with the safe fallback (e.g. "ssn"), never the blocked text.
    blocked_reason: Mapped[str | None] = mapped_column(String(32))
    prev_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))


class ExchangeChainHead(Base):
    """The single row that ends the exchange chain: how many records, the last one's hash, and an HMAC
    over both, so deleting the newest records is found too. Writers lock it, which orders the chain."""

    __tablename__ = "exchange_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    head_mac: Mapped[str | None] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(16))


class OutboundMessage(Base):
    """A notice that must go out: written before it is queued, so nothing is lost if a worker dies."""

    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_messages_status_after", "status", "send_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_number_id: Mapped[int] = mapped_column(ForeignKey("phone_numbers.id"), index=True)
    # Whom the notice is for: a number that moved to someone else since is not sent to.
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    # What the notice is about, as of when it was written (e.g. "appointment:12@2026-12-01T15:00:00+00:00"):
    # checked again at send time, so a rescheduled or cancelled appointment's reminder never goes out.
    subject: Mapped[str | None] = mapped_column(String(128))
    template_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2))
    body_enc: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=OutboundStatus.QUEUED.value)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[int | None] = mapped_column(Integer)
    # Why a row ended without going out (opted_out, stale, number_moved, ...) or was held (quiet_hours).
    reason: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    send_after: Mapped[datetime] = mapped_column(default=utcnow)
    # When a job was last put on Redis for it (None: never, e.g. Redis was down) and when a worker took it.
    enqueued_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Announcement(Base):
    """An agency-wide text, approved through the CLI; the same words go to everyone who opted in."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    text_en: Mapped[str] = mapped_column(Text)
    text_es: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str] = mapped_column(String(128))
    approved_at: Mapped[datetime] = mapped_column(default=utcnow)


class Supervisor(Base):
    """A staff member who may sign in to the dashboard; never texts participants."""

    __tablename__ = "supervisors"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SupervisorAccess(Base):
    """Who saw, revealed or exported what, and when (records access is itself recorded)."""

    __tablename__ = "supervisor_access"
    __table_args__ = (Index("ix_supervisor_access_time", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("supervisors.id"))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(128))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What else the record needs, never personal data: the export's format and size, the CLI's OS user.
    detail: Mapped[str | None] = mapped_column(String(255))


# --- The supervisors' dashboard: its work queue, conversation summaries, and what keeps them current ---


class QueueKind(enum.StrEnum):
    """Why a conversation needs a person."""

    AGENT_REQUEST = "agent_request"
    NOT_UNDERSTOOD = "not_understood"  # two texts in a row the assistant could not answer
    PLAIN_LANGUAGE_REVOCATION = "plain_language_revocation"
    DELIVERY_FAILURE = "delivery_failure"


class QueueItem(Base):
    """One thing a supervisor should look at; open until someone marks it handled, with a note.

    source names the record that raised it ("exchange:<chain_seq>" or "outbound:<id>"), so the same
    record never raises two items. The note is encrypted: staff may write personal details in it.
    """

    __tablename__ = "queue_items"
    __table_args__ = (
        UniqueConstraint("kind", "source"),
        Index("ix_queue_items_open_time", "handled_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(48))
    phone_number_id: Mapped[int] = mapped_column(ForeignKey("phone_numbers.id"), index=True)
    occurred_at: Mapped[datetime]
    handled_at: Mapped[datetime | None]
    handled_by: Mapped[int | None] = mapped_column(ForeignKey("supervisors.id"))
    note_enc: Mapped[str | None] = mapped_column(Text)


class Conversation(Base):
    """A summary of one number's conversation, kept current from the exchange log for the list page."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_consent_last", "consent_state", "last_at"),
        Index("ix_conversations_intent_last", "last_intent", "last_at"),
    )

    phone_number_id: Mapped[int] = mapped_column(ForeignKey("phone_numbers.id"), primary_key=True)
    first_at: Mapped[datetime]
    last_at: Mapped[datetime] = mapped_column(index=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    last_intent: Mapped[str | None] = mapped_column(String(32))  # of the latest inbound text
    last_inbound_seq: Mapped[int | None] = mapped_column(Integer)  # the latest inbound text, for a preview
    consent_state: Mapped[str] = mapped_column(String(24))
    open_items: Mapped[int] = mapped_column(Integer, default=0)


class DashboardSync(Base):
    """How far the dashboard's summaries have read the exchange log and the consent ledger (one row)."""

    __tablename__ = "dashboard_sync"

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_seq: Mapped[int] = mapped_column(Integer, default=0)
    consent_event_id: Mapped[int] = mapped_column(Integer, default=0)
    synced_at: Mapped[datetime | None]


class SignInFailure(Base):
    """A failed sign-in from one client (keyed hash of its address), for throttling; pruned as it ages."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_client_time", "client_hash", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_hash: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


# The dashboard's reads of the exchange log: a time range (overview, date-range exports), and the few
# messages whose delivery failed (a partial index: nothing to maintain for the many that did not).
FAILED_DELIVERY = ("failed", "undelivered")
Index("ix_exchanges_time", Exchange.occurred_at)
Index("ix_consent_events_time", ConsentEvent.occurred_at)

# A number's consent state (consent.ledger.state_columns) reads its latest opt-in/opt-out and whether any
# event verified it. HELP and other events may be thousands (keywords are always honoured, however many
# come): these partial indexes hold only the events that decide, so the reads stay one index probe.
STATUS_KINDS = (ConsentKind.OPT_IN.value, ConsentKind.OPT_OUT.value)
# Channels where the agency knew who it was talking to: an opt-in there also verifies the number.
AUTHENTICATED_CHANNELS = frozenset(
    {ConsentChannel.WEB, ConsentChannel.IVR, ConsentChannel.SDU_PHONE, ConsentChannel.TECHNICIAN}
)


def decides_status(events: type[ConsentEvent] | Any = ConsentEvent) -> ColumnElement[bool]:
    """The events whose latest gives the status: opt-ins and opt-outs (constants: see one_of)."""
    return one_of(events.kind, STATUS_KINDS)


def verifies(events: type[ConsentEvent] | Any = ConsentEvent) -> ColumnElement[bool]:
    """The events that verify a number: a verification, or an opt-in on an authenticated channel."""
    return or_(
        one_of(events.kind, [ConsentKind.VERIFICATION.value]),
        and_(
            one_of(events.kind, [ConsentKind.OPT_IN.value]),
            one_of(events.channel, sorted(channel.value for channel in AUTHENTICATED_CHANNELS)),
        ),
    )


Index(
    "ix_consent_events_phone_status",
    ConsentEvent.phone_number_id,
    ConsentEvent.occurred_at,
    ConsentEvent.id,
    sqlite_where=decides_status(),
    postgresql_where=decides_status(),
)
Index(
    "ix_consent_events_phone_verified",
    ConsentEvent.phone_number_id,
    sqlite_where=verifies(),
    postgresql_where=verifies(),
)
Index(
    "ix_exchanges_delivery_failed",
    Exchange.delivery_status,
    sqlite_where=Exchange.delivery_status.in_(FAILED_DELIVERY),
    postgresql_where=Exchange.delivery_status.in_(FAILED_DELIVERY),
)


class LegalHold(Base):
    """A number whose records must be kept whatever their age (litigation, an investigation)."""

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_number_id: Mapped[int] = mapped_column(ForeignKey("phone_numbers.id"), index=True)
    reference: Mapped[str] = mapped_column(String(128))  # the matter's reference, never personal data
    placed_by: Mapped[str] = mapped_column(String(128))
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]
    released_by: Mapped[str | None] = mapped_column(String(128))


class ChainPurge(Base):
    """One retention purge: what it removed, sealed with an HMAC over its tombstones, so the exchange
    chain stays verifiable across the gap and a purge cannot be faked to hide a deletion."""

    __tablename__ = "chain_purges"

    id: Mapped[int] = mapped_column(primary_key=True)
    purged_at: Mapped[datetime] = mapped_column(default=utcnow)
    cutoff: Mapped[datetime]
    purged_by: Mapped[str] = mapped_column(String(128))
    records: Mapped[int] = mapped_column(Integer)
    outbound_rows: Mapped[int] = mapped_column(Integer, default=0)
    digest: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    seal: Mapped[str] = mapped_column(String(64))


class ExchangeTombstone(Base):
    """What is left of a purged exchange-log record: its place in the chain and its hash, no content."""

    __tablename__ = "exchange_tombstones"

    chain_seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    record_hash: Mapped[str] = mapped_column(String(64))
    purge_id: Mapped[int] = mapped_column(ForeignKey("chain_purges.id"), index=True)
