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
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
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
from storage.statements import Statement, connection_of

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
_CASES = Statement(
    select(Case.id, Case.case_ref, CaseMember.role, Case.next_due_date, Case.amount_due)
    .join(CaseMember, CaseMember.case_id == Case.id)
    .where(CaseMember.participant_id == bindparam("participant"))
)


def _case_binds(count: int) -> list:
    return [bindparam(f"case_{n}") for n in range(count)]


@cache
def _payments(count: int) -> Statement:
    return Statement(
        select(Payment.case_id, Payment.paid_on, Payment.amount, Payment.source)
        .where(Payment.case_id.in_(_case_binds(count)))
        .order_by(Payment.case_id, Payment.paid_on.desc(), Payment.id.desc())
    )


@cache
def _appointments(count: int) -> Statement:
    return Statement(
        select(
            Appointment.case_id,
            Appointment.kind,
            Appointment.starts_at,
            Appointment.utc_offset_minutes,
            Appointment.office,
        )
        .where(
            Appointment.case_id.in_(_case_binds(count)),
            Appointment.status == AppointmentStatus.SCHEDULED.value,
            Appointment.starts_at >= bindparam("now"),
        )
        .order_by(Appointment.case_id, Appointment.starts_at)
    )


def _case_params(case_ids: list[int]) -> dict[str, int]:
    return {f"case_{n}": case_id for n, case_id in enumerate(case_ids)}


def cases_of(db: Session | Connection, participant_id: int) -> list[CaseFacts]:
    """The participant's cases, in a stable order (by the last 4 digits)."""
    rows = _CASES.rows(connection_of(db), {"participant": participant_id})
    facts = [
        CaseFacts(case_id, last4(case_ref), CaseRole(role), next_due_date, amount_due)
        for case_id, case_ref, role, next_due_date, amount_due in rows
    ]
    return sorted(facts, key=lambda case: (case.last4, case.case_id))


def last_payments(db: Session | Connection, case_ids: list[int]) -> dict[int, PaymentFacts]:
    """For each case, the newest payment a text may mention."""
    found = {case_id: PaymentFacts(None, None, False) for case_id in case_ids}
    if not case_ids:
        return found
    rows = _payments(len(case_ids)).rows(connection_of(db), _case_params(case_ids))
    seen: set[int] = set()
    hidden: set[int] = set()
    for case_id, paid_on, amount, source in rows:
        if case_id in seen:
            continue
        if source in UNDISCLOSED_SOURCES:
            hidden.add(case_id)
            continue
        seen.add(case_id)
        found[case_id] = PaymentFacts(paid_on, amount, case_id in hidden)
    for case_id in hidden - seen:
        found[case_id] = PaymentFacts(None, None, True)
    return found


def next_appointments(
    db: Session | Connection, case_ids: list[int], now: datetime | None = None
) -> dict[int, AppointmentFacts]:
    """For each case that has one, the next scheduled (never a cancelled) hearing or appointment."""
    if not case_ids:
        return {}
    params = _case_params(case_ids) | {"now": now or utcnow()}
    found: dict[int, AppointmentFacts] = {}
    for case_id, kind, starts_at, offset_minutes, office in _appointments(len(case_ids)).rows(
        connection_of(db), params
    ):
        if case_id not in found:
            local = starts_at.astimezone(timezone(timedelta(minutes=offset_minutes)))
            found[case_id] = AppointmentFacts(kind, local, office)
    return found
