"""The consent ledger: append consent events, derive a number's current consent state from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, bindparam, exists, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from storage.models import (
    AUTHENTICATED_CHANNELS,
    ConsentChannel,
    ConsentEvent,
    ConsentKind,
    decides_status,
    utcnow,
    verifies,
)
from storage.statements import Statement, connection_of


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


def state_columns(phone_id: ColumnElement[int]) -> tuple[ColumnElement[str], ColumnElement[bool]]:
    """Two columns that give a number's consent state in any query: the latest opt-in or opt-out kind,
    and whether any event ever verified the number (read them with `state_of`).

    One round trip, whatever the length of the history; same answer as replaying every event through
    `apply`. The webhook reads them together with the sender's phone row.
    """
    latest = (
        select(ConsentEvent.kind)
        .where(ConsentEvent.phone_number_id == phone_id, decides_status())
        .order_by(ConsentEvent.occurred_at.desc(), ConsentEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    verified = exists().where(ConsentEvent.phone_number_id == phone_id, verifies())
    return latest, verified


_STATUS_AFTER = {
    ConsentKind.OPT_IN.value: ConsentStatus.OPTED_IN,
    ConsentKind.OPT_OUT.value: ConsentStatus.OPTED_OUT,
}


def state_of(latest: str | None, verified: object) -> ConsentState:
    """The state from the two `state_columns` values."""
    return ConsentState(_STATUS_AFTER.get(latest, ConsentStatus.NEVER_OPTED_IN), bool(verified))


_STATE = Statement(select(*state_columns(bindparam("phone"))))


def current_state(db: Session | Connection, phone_number_id: int) -> ConsentState:
    """Derive the state from the ledger: the latest opt-in or opt-out decides; verification sticks."""
    connection = connection_of(db)
    latest, verified = _STATE.first(connection, {"phone": phone_number_id})
    return state_of(latest, verified)


_COLUMNS = ("phone_number_id", "kind", "channel", "occurred_at", "recorded_at", "evidence", "dedupe_key")
_INSERT = Statement(insert(ConsentEvent).values({name: bindparam(name) for name in _COLUMNS}))


def record_new(
    connection: Connection,
    phone_number_id: int,
    kind: ConsentKind,
    channel: ConsentChannel,
    evidence: str,
    *,
    dedupe_key: str,
) -> None:
    """Append one event for a transaction known to be new (the webhook's): one INSERT, no look-up, no ORM.

    A repeated dedupe_key fails on its unique key (at the latest when the transaction commits).
    """
    now = utcnow()
    _INSERT.run(
        connection,
        {
            "phone_number_id": phone_number_id,
            "kind": kind.value,
            "channel": channel.value,
            "occurred_at": now,
            "recorded_at": now,
            "evidence": evidence[:128],
            "dedupe_key": dedupe_key,
        },
    )


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
