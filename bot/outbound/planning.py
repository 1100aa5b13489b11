"""Who is due a notice today, and its text: the rows `send-reminders` writes to the outbox.

Only numbers that opted in are planned for. Notices about a case (everything but announcements) also
need a verified number: the agency must know the phone is the participant's before it says anything
about the case. A text the guard would block is not planned (it is counted, never sent).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from bot.guard import blocked_reason
from bot.replies import Replies
from consent.ledger import NO_CONSENT, ConsentStatus, states
from intents import wording
from storage import notice_targets
from storage.models import Announcement
from storage.notice_targets import Target
from storage.outbox import NewNotice

KINDS = ("due_soon", "payment_received", "payment_missed", "appointment_reminder", "announcement")
# Days before (due_soon, appointment_reminder) or after (payment_missed) the date, or the look-back
# window for payments posted (payment_received), when --days is not given.
DEFAULT_DAYS: dict[str, tuple[int, ...]] = {
    "due_soon": (3,),
    "payment_received": (2,),
    "payment_missed": (1,),
    "appointment_reminder": (7, 3, 1),
    "announcement": (0,),
}
DAILY_KINDS = KINDS[:4]


@dataclass
class Plan:
    """The notices to write, and how many were left out and why."""

    notices: list[NewNotice] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class _Draft:
    phone_number_id: int
    participant_id: int
    language: str
    template_id: str
    fields: dict[str, str]
    dedupe_key: str
    subject: str | None = None


def _case_drafts(session: Session, kind: str, today: date, days: int) -> Iterator[_Draft]:
    if kind == "due_soon":
        due_on = today + timedelta(days=days)
        for target, due in notice_targets.payers_due_on(session, due_on):
            yield _case_draft(
                target,
                "notice_due_soon",
                {"due_date": due},
                f"due_soon:{target.case_id}:{due}:{days}d:{target.phone_number_id}",
            )
    elif kind == "payment_missed":
        due_on = today - timedelta(days=days)
        for target, due in notice_targets.payers_missed(session, due_on, today):
            yield _case_draft(
                target,
                "notice_payment_missed",
                {"due_date": due},
                f"missed:{target.case_id}:{due}:{target.phone_number_id}",
            )
    elif kind == "payment_received":
        for target, payment in notice_targets.payments_posted(session, today - timedelta(days=days), today):
            template = "notice_payment_received" if target.role == "custodial" else "notice_payment_posted"
            yield _case_draft(
                target,
                template,
                {"paid_on": payment.paid_on},
                f"payment:{payment.id}:{target.phone_number_id}",
            )
    elif kind == "appointment_reminder":
        for target, appointment in notice_targets.appointments_on(session, today + timedelta(days=days)):
            local = appointment.local_start
            yield _Draft(
                target.phone_number_id,
                target.participant_id,
                target.language,
                "notice_appointment_reminder",
                {
                    "kind": wording.kind(appointment.kind, target.language),
                    "day": wording.day(local.date(), target.language),
                    "time": wording.clock(local, target.language),
                    "office": appointment.office,
                },
                f"appt:{appointment.id}:{appointment.starts_at.isoformat()}:{days}d:{target.phone_number_id}",
                appointment.subject,
            )
    else:
        raise ValueError(f"unknown notice kind {kind!r}")


def _case_draft(target: Target, template_id: str, dates: dict[str, date], key: str) -> _Draft:
    fields = {"case_last4": target.case_last4}
    fields.update({name: wording.day(value, target.language) for name, value in dates.items()})
    return _Draft(target.phone_number_id, target.participant_id, target.language, template_id, fields, key)


def _announcement_drafts(session: Session, announcement: Announcement) -> Iterator[_Draft]:
    for phone_id, participant_id, language in notice_targets.numbers_of_participants(session):
        text = announcement.text_es if language == "es" else announcement.text_en
        yield _Draft(
            phone_id,
            participant_id,
            language,
            "notice_announcement",
            {"message": text},
            f"announce:{announcement.id}:{phone_id}",
        )


def plan(
    session: Session,
    replies: Replies,
    kind: str,
    today: date,
    days: Iterable[int] | None = None,
    announcement: Announcement | None = None,
) -> Plan:
    """The notices of one kind due today (for each of `days`), consent and the guard checked."""
    if kind == "announcement":
        if announcement is None:
            raise ValueError("an announcement needs --announcement NAME (approved with approve-announcement)")
        drafts: list[_Draft] = list(_announcement_drafts(session, announcement))
    else:
        drafts = [
            draft for n in (days or DEFAULT_DAYS[kind]) for draft in _case_drafts(session, kind, today, n)
        ]
    consent = states(session, sorted({draft.phone_number_id for draft in drafts}))
    result = Plan()
    seen: set[str] = set()
    for draft in drafts:
        if draft.dedupe_key in seen:
            continue
        seen.add(draft.dedupe_key)
        state = consent.get(draft.phone_number_id, NO_CONSENT)
        if state.status is not ConsentStatus.OPTED_IN:
            result.skipped[state.status.value] += 1
            continue
        if kind != "announcement" and not state.verified:
            result.skipped["not_verified"] += 1
            continue
        body = replies.render(draft.template_id, draft.language, **draft.fields)
        reason = blocked_reason(body)
        if reason is not None:
            result.skipped[f"blocked_{reason}"] += 1
            continue
        result.notices.append(
            NewNotice(
                phone_number_id=draft.phone_number_id,
                participant_id=draft.participant_id,
                kind=kind,
                template_id=draft.template_id,
                language=draft.language,
                body=body,
                dedupe_key=draft.dedupe_key,
                subject=draft.subject,
            )
        )
    return result
