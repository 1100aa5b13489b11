"""What the answering step may know about a participant's cases, read for one participant at a time.

Federal tax information never leaves this module: payments whose source is federal_tax_offset are not
returned, and `last_payments` says only whether a newer payment exists that cannot be shown, so the
reply can point to a call or the portal without saying why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from storage.models import (
    Appointment,
    AppointmentStatus,
    Case,
    CaseMember,
    CaseRole,
    Payment,
    PaymentSource,
    utcnow,
)

# Sources a text may never mention (IRS Publication 1075). State offsets are not FTI but are treated
# with the same care by default (COMPLIANCE.md).
UNDISCLOSED_SOURCES = frozenset(
    {PaymentSource.FEDERAL_TAX_OFFSET.value, PaymentSource.STATE_TAX_OFFSET.value}
)


def last4(case_ref: str) -> str:
    """The last 4 digits of a case id: all a text may carry of it."""
    digits = re.sub(r"\D", "", case_ref)
    return digits[-4:] if len(digits) >= 4 else digits.rjust(4, "0")


@dataclass(frozen=True)
class CaseFacts:
    """One of the participant's cases, as the replies may describe it."""

    case_id: int
    last4: str
    role: CaseRole
    next_due_date: date | None
    amount_due: Decimal | None


@dataclass(frozen=True)
class PaymentFacts:
    """The newest payment on a case that a text may mention, and whether a newer one is hidden."""

    paid_on: date | None
    amount: Decimal | None
    hidden_newer: bool


@dataclass(frozen=True)
class AppointmentFacts:
    """The next scheduled hearing or appointment on a case, in the office's local time."""

    kind: str
    starts_at: datetime
    office: str


# Built once: composing a statement costs more than running it on the webhook's path.
_CASES = (
    select(Case.id, Case.case_ref, CaseMember.role, Case.next_due_date, Case.amount_due)
    .join(CaseMember, CaseMember.case_id == Case.id)
    .where(CaseMember.participant_id == bindparam("participant"))
)
_PAYMENTS = (
    select(Payment.case_id, Payment.paid_on, Payment.amount, Payment.source)
    .where(Payment.case_id.in_(bindparam("cases", expanding=True)))
    .order_by(Payment.case_id, Payment.paid_on.desc(), Payment.id.desc())
)
_APPOINTMENTS = (
    select(
        Appointment.case_id,
        Appointment.kind,
        Appointment.starts_at,
        Appointment.utc_offset_minutes,
        Appointment.office,
    )
    .where(
        Appointment.case_id.in_(bindparam("cases", expanding=True)),
        Appointment.status == AppointmentStatus.SCHEDULED.value,
        Appointment.starts_at >= bindparam("now"),
    )
    .order_by(Appointment.case_id, Appointment.starts_at)
)


def cases_of(session: Session, participant_id: int) -> list[CaseFacts]:
    """The participant's cases, in a stable order (by the last 4 digits)."""
    rows = session.connection().execute(_CASES, {"participant": participant_id}).all()
    facts = [
        CaseFacts(row.id, last4(row.case_ref), CaseRole(row.role), row.next_due_date, row.amount_due)
        for row in rows
    ]
    return sorted(facts, key=lambda case: (case.last4, case.case_id))


def last_payments(session: Session, case_ids: list[int]) -> dict[int, PaymentFacts]:
    """For each case, the newest payment a text may mention."""
    found = {case_id: PaymentFacts(None, None, False) for case_id in case_ids}
    rows = session.connection().execute(_PAYMENTS, {"cases": case_ids}).all()
    seen: set[int] = set()
    hidden: set[int] = set()
    for row in rows:
        if row.case_id in seen:
            continue
        if row.source in UNDISCLOSED_SOURCES:
            hidden.add(row.case_id)
            continue
        seen.add(row.case_id)
        found[row.case_id] = PaymentFacts(row.paid_on, row.amount, row.case_id in hidden)
    for case_id in hidden - seen:
        found[case_id] = PaymentFacts(None, None, True)
    return found


def next_appointments(
    session: Session, case_ids: list[int], now: datetime | None = None
) -> dict[int, AppointmentFacts]:
    """For each case that has one, the next scheduled (never a cancelled) hearing or appointment."""
    now = now or utcnow()
    rows = session.connection().execute(_APPOINTMENTS, {"cases": case_ids, "now": now}).all()
    found: dict[int, AppointmentFacts] = {}
    for row in rows:
        if row.case_id not in found:
            local = row.starts_at.astimezone(timezone(timedelta(minutes=row.utc_offset_minutes)))
            found[row.case_id] = AppointmentFacts(row.kind, local, row.office)
    return found
