"""The consent ledger: append consent events, derive a number's current consent state from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import and_, bindparam, exists, or_, select
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
    assume_new: bool = False,
) -> ConsentEvent | None:
    """Append one event; with a dedupe_key already on file (a retried MessageSid), add nothing.

    assume_new: the caller's transaction is already known to be new (the webhook checked the
    MessageSid), so skip the look-up; a duplicate would then fail on the unique key instead.
    """
    if dedupe_key is not None and not assume_new:
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


def apply(state: ConsentState, kind: str, channel: str) -> ConsentState:
    """The state after one more event: the latest opt-in or opt-out decides; verification sticks."""
    if kind == ConsentKind.OPT_IN:
        return ConsentState(ConsentStatus.OPTED_IN, state.verified or channel in AUTHENTICATED_CHANNELS)
    if kind == ConsentKind.OPT_OUT:
        return ConsentState(ConsentStatus.OPTED_OUT, state.verified)
    if kind == ConsentKind.VERIFICATION:
        return ConsentState(state.status, True)
    return state


NO_CONSENT = ConsentState(ConsentStatus.NEVER_OPTED_IN, False)


# One round trip, whatever the length of the history: the latest opt-in or opt-out, and whether any
# event ever verified the number. Same answer as replaying every event through `apply`.
_PHONE = bindparam("phone")
_LATEST_STATUS = (
    select(ConsentEvent.kind)
    .where(
        ConsentEvent.phone_number_id == _PHONE,
        ConsentEvent.kind.in_([ConsentKind.OPT_IN.value, ConsentKind.OPT_OUT.value]),
    )
    .order_by(ConsentEvent.occurred_at.desc(), ConsentEvent.id.desc())
    .limit(1)
    .scalar_subquery()
)
_VERIFIED = exists().where(
    ConsentEvent.phone_number_id == _PHONE,
    or_(
        ConsentEvent.kind == ConsentKind.VERIFICATION.value,
        and_(
            ConsentEvent.kind == ConsentKind.OPT_IN.value,
            ConsentEvent.channel.in_([channel.value for channel in AUTHENTICATED_CHANNELS]),
        ),
    ),
)
_STATE = select(_LATEST_STATUS, _VERIFIED)
_STATUS_AFTER = {
    ConsentKind.OPT_IN.value: ConsentStatus.OPTED_IN,
    ConsentKind.OPT_OUT.value: ConsentStatus.OPTED_OUT,
}


def current_state(session: Session, phone_number_id: int) -> ConsentState:
    """Derive the state from the ledger: the latest opt-in or opt-out decides; verification sticks."""
    # On the connection: these column reads need none of the ORM session's machinery (the webhook's hot path).
    latest, verified = session.connection().execute(_STATE, {"phone": phone_number_id}).one()
    return ConsentState(_STATUS_AFTER.get(latest, ConsentStatus.NEVER_OPTED_IN), bool(verified))


def history(session: Session, phone_number_id: int) -> list[ConsentEvent]:
    """Every event for a number, oldest first (for transcripts and records requests)."""
    return list(
        session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.phone_number_id == phone_number_id)
            .order_by(ConsentEvent.occurred_at, ConsentEvent.id)
        )
    )


def states(session: Session, phone_number_ids: list[int] | None = None) -> dict[int, ConsentState]:
    """Current state of many numbers at once (numbers with no events are left out: NO_CONSENT).

    Replays each number's events in order through `apply`, the same rule `current_state` uses.
    """
    query = select(ConsentEvent.phone_number_id, ConsentEvent.kind, ConsentEvent.channel).order_by(
        ConsentEvent.phone_number_id, ConsentEvent.occurred_at, ConsentEvent.id
    )
    found: dict[int, ConsentState] = {}
    chunks = (
        [None]
        if phone_number_ids is None
        else [phone_number_ids[start : start + 1000] for start in range(0, len(phone_number_ids), 1000)]
    )
    for chunk in chunks:
        statement = query if chunk is None else query.where(ConsentEvent.phone_number_id.in_(chunk))
        for phone_id, kind, channel in session.execute(statement):
            found[phone_id] = apply(found.get(phone_id, NO_CONSENT), kind, channel)
    return found
