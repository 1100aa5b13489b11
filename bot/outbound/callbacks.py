"""Twilio's status callbacks for the texts we sent: move the outbox row and its log record forward.

Callbacks come late, twice, or out of order: a status never moves a row backwards, and a repeat changes
nothing. A callback for a row whose worker died before saving the SID (the row id rides in the callback
URL) adopts the SID, so the text is recorded once and never sent again. 21610 records an opt-out.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.outbound.delivery import record_carrier_opt_out, record_sent
from bot.outbound.twilio_api import OPTED_OUT
from consent import ledger
from storage import outbox
from storage.crypto import DataCipher
from storage.models import OutboundMessage, OutboundStatus, utcnow
from storage.outbox import Claimed, StatusChange


@dataclass(frozen=True)
class StatusCallback:
    message_sid: str
    message_status: str
    error_code: int | None
    outbox_id: int | None  # from the callback URL's ?outbox=


def apply(session: Session, cipher: DataCipher, callback: StatusCallback) -> StatusChange:
    """Apply one callback in the caller's transaction."""
    change = outbox.apply_callback(
        session, callback.message_sid, callback.message_status, callback.error_code
    )
    if change.outbox_id is None and callback.outbox_id is not None:
        if _adopt(session, cipher, callback):
            change = outbox.apply_callback(
                session, callback.message_sid, callback.message_status, callback.error_code
            )
    if callback.error_code == OPTED_OUT and change.phone_number_id is not None:
        record_carrier_opt_out(session, change.phone_number_id, callback.message_sid)
    return change


def _adopt(session: Session, cipher: DataCipher, callback: StatusCallback) -> bool:
    row = session.get(OutboundMessage, callback.outbox_id, with_for_update=True)
    if row is None or row.status != OutboundStatus.SENDING.value or row.twilio_sid:
        return False
    claimed = Claimed.of(row)
    label = ledger.current_state(session, row.phone_number_id).label
    record_sent(
        session, cipher, claimed, cipher.decrypt(row.body_enc), label, callback.message_sid, "sent", utcnow()
    )
    return True
