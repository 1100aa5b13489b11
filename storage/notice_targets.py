"""Who a notice is for: the case-data queries behind each kind of outbound notice.

Every target is a phone number that belongs to a participant on a case. Consent is not checked here
(consent/ does that); a federal or state tax offset is never a reason for a notice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from storage.case_answers import UNDISCLOSED_SOURCES, last4
from storage.models import (
    Appointment,
    AppointmentStatus,
    Case,
    CaseMember,
    CaseRole,
    Participant,
    Payment,
    PhoneNumber,
)

# A payment posted this many days before a due date counts toward it (monthly obligations).
PAYMENT_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Target:
    """One participant's number, on one case."""

    phone_number_id: int
    participant_id: int
    language: str
    case_id: int
    case_last4: str
    role: str


_MEMBERS = (
    select(
        PhoneNumber.id,
        Participant.id,
        Participant.language,
        Case.id,
        Case.case_ref,
        CaseMember.role,
    )
    .join(Participant, Participant.id == PhoneNumber.participant_id)
    .join(CaseMember, CaseMember.participant_id == Participant.id)
    .join(Case, Case.id == CaseMember.case_id)
)


def _target(row: tuple) -> Target:
    phone_id, participant_id, language, case_id, case_ref, role = row[:6]
    return Target(phone_id, participant_id, language, case_id, last4(case_ref), role)


def payers_due_on(session: Session, due_on: date) -> Iterator[tuple[Target, date]]:
    """Paying parents of cases whose next payment is due on `due_on`."""
    query = _MEMBERS.where(
        Case.next_due_date == due_on, CaseMember.role == CaseRole.NONCUSTODIAL.value
    ).order_by(PhoneNumber.id, Case.id)
    for row in session.execute(query):
        yield _target(row), due_on


def payers_missed(session: Session, due_on: date, today: date) -> Iterator[tuple[Target, date]]:
    """Paying parents of cases due on `due_on` with no payment of any kind posted for it by `today`.

    Any source counts as paid here (a tax offset too): a "missed" text must never be wrong.
    """
    paid = exists().where(
        Payment.case_id == Case.id,
        Payment.paid_on > due_on - timedelta(days=PAYMENT_WINDOW_DAYS),
        Payment.paid_on <= today,
    )
    query = _MEMBERS.where(
        Case.next_due_date == due_on, CaseMember.role == CaseRole.NONCUSTODIAL.value, ~paid
    ).order_by(PhoneNumber.id, Case.id)
    for row in session.execute(query):
        yield _target(row), due_on


@dataclass(frozen=True)
class PostedPayment:
    id: int
    paid_on: date


def payments_posted(session: Session, since: date, until: date) -> Iterator[tuple[Target, PostedPayment]]:
    """Both parents of each case with a payment posted in [since, until], except tax offsets."""
    query = (
        _MEMBERS.add_columns(Payment.id, Payment.paid_on)
        .join(Payment, Payment.case_id == Case.id)
        .where(
            Payment.paid_on >= since,
            Payment.paid_on <= until,
            Payment.source.not_in(sorted(UNDISCLOSED_SOURCES)),
        )
        .order_by(PhoneNumber.id, Payment.id)
    )
    for row in session.execute(query):
        yield _target(row), PostedPayment(row[6], row[7])


@dataclass(frozen=True)
class UpcomingAppointment:
    id: int
    external_id: str
    kind: str
    starts_at: datetime  # UTC
    utc_offset_minutes: int
    office: str

    @property
    def local_start(self) -> datetime:
        """The start in the office's own time (what the text says)."""
        return (self.starts_at + timedelta(minutes=self.utc_offset_minutes)).replace(tzinfo=None)

    @property
    def subject(self) -> str:
        """Names this appointment at this time: a reschedule makes a new subject."""
        return f"appointment:{self.id}@{self.starts_at.isoformat()}"


def appointments_on(session: Session, local_day: date) -> Iterator[tuple[Target, UpcomingAppointment]]:
    """Every parent on a case with a scheduled appointment on `local_day` in the office's time."""
    # Offsets run from -12 h to +14 h: read a wide UTC window, then keep the office-local day.
    midnight = datetime.combine(local_day, time.min, tzinfo=UTC)
    start, end = midnight - timedelta(hours=15), midnight + timedelta(hours=39)
    query = (
        _MEMBERS.add_columns(
            Appointment.id,
            Appointment.external_id,
            Appointment.kind,
            Appointment.starts_at,
            Appointment.utc_offset_minutes,
            Appointment.office,
        )
        .join(Appointment, Appointment.case_id == Case.id)
        .where(
            Appointment.status == AppointmentStatus.SCHEDULED.value,
            and_(Appointment.starts_at >= start, Appointment.starts_at < end),
        )
        .order_by(PhoneNumber.id, Appointment.id)
    )
    for row in session.execute(query):
        appointment = UpcomingAppointment(*row[6:12])
        if appointment.local_start.date() == local_day:
            yield _target(row), appointment


def appointment_subject(session: Session | Connection, appointment_id: int) -> str | None:
    """The current subject of an appointment, or None if it is cancelled or gone."""
    row = session.execute(
        select(Appointment.id, Appointment.starts_at, Appointment.status).where(
            Appointment.id == appointment_id
        )
    ).one_or_none()
    if row is None or row.status != AppointmentStatus.SCHEDULED.value:
        return None
    return f"appointment:{row.id}@{row.starts_at.isoformat()}"


def numbers_of_participants(session: Session) -> Iterator[tuple[int, int, str]]:
    """Every number that belongs to a participant: phone id, participant id, language."""
    query = (
        select(PhoneNumber.id, Participant.id, Participant.language)
        .join(Participant, Participant.id == PhoneNumber.participant_id)
        .order_by(PhoneNumber.id)
    )
    yield from ((row[0], row[1], row[2]) for row in session.execute(query))
