"""The consent ledger: append consent events, derive a number's current consent state from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ConsentChannel, ConsentEvent, ConsentKind, utcnow

# Channels where the agency knew who it was talking to: an opt-in there also verifies the number.
AUTHENTICATED_CHANNELS = frozenset(
    {ConsentChannel.WEB, ConsentChannel.IVR, ConsentChannel.SDU_PHONE, ConsentChannel.TECHNICIAN}
)


class ConsentStatus(StrEnum):
    NEVER_OPTED_IN = "never_opted_in"
    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"


@dataclass(frozen=True)
class ConsentState:
    """A number's consent as of now: its status and whether the number was verified."""

    status: ConsentStatus
    verified: bool

    @property
    def label(self) -> str:
        """The state in one word, as the exchange log records it."""
        if self.status is ConsentStatus.OPTED_IN:
            return "opted_in_verified" if self.verified else "opted_in_unverified"
        return self.status.value


def record(
    session: Session,
    phone_number_id: int,
    kind: ConsentKind,
    channel: ConsentChannel,
    evidence: str,
    *,
    occurred_at: datetime | None = None,
    dedupe_key: str | None = None,
) -> ConsentEvent | None:
    """Append one event; with a dedupe_key already on file (a retried MessageSid), add nothing."""
    if dedupe_key is not None:
        existing = session.scalar(select(ConsentEvent.id).where(ConsentEvent.dedupe_key == dedupe_key))
        if existing is not None:
            return None
    event = ConsentEvent(
        phone_number_id=phone_number_id,
        kind=kind.value,
        channel=channel.value,
        occurred_at=occurred_at or utcnow(),
        evidence=evidence[:128],
        dedupe_key=dedupe_key,
    )
    session.add(event)
    session.flush()
    return event


def current_state(session: Session, phone_number_id: int) -> ConsentState:
    """Derive the state from the ledger: the latest opt-in or opt-out decides; verification sticks."""
    rows = session.execute(
        select(ConsentEvent.kind, ConsentEvent.channel)
        .where(ConsentEvent.phone_number_id == phone_number_id)
        .order_by(ConsentEvent.occurred_at, ConsentEvent.id)
    ).all()
    status, verified = ConsentStatus.NEVER_OPTED_IN, False
    for kind, channel in rows:
        if kind == ConsentKind.OPT_IN:
            status = ConsentStatus.OPTED_IN
            verified = verified or channel in AUTHENTICATED_CHANNELS
        elif kind == ConsentKind.OPT_OUT:
            status = ConsentStatus.OPTED_OUT
        elif kind == ConsentKind.VERIFICATION:
            verified = True
    return ConsentState(status, verified)


def history(session: Session, phone_number_id: int) -> list[ConsentEvent]:
    """Every event for a number, oldest first (for transcripts and records requests)."""
    return list(
        session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.phone_number_id == phone_number_id)
            .order_by(ConsentEvent.occurred_at, ConsentEvent.id)
        )
    )
