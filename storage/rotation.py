"""Key rotation: re-encrypt every stored secret with the newest DATA_KEYS key."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import exchange_log
from storage.bulk import chunked
from storage.crypto import DataCipher
from storage.models import OutboundMessage, PhoneNumber


def _rotate_column(session: Session, cipher: DataCipher, model: type, column: str) -> int:
    ids = list(session.scalars(select(model.id).order_by(model.id)))
    for chunk in chunked(ids):
        for row in session.scalars(select(model).where(model.id.in_(chunk))):
            setattr(row, column, cipher.rotate(getattr(row, column)))
            if model is PhoneNumber:
                row.lookup_hash = cipher.lookup_hash(cipher.decrypt(row.number_enc))
        session.flush()
        session.expunge_all()
    return len(ids)


def rotate_all(session: Session, cipher: DataCipher) -> dict[str, int]:
    """Re-encrypt phone numbers (and re-hash them), outbound bodies and the exchange log; the caller's
    transaction makes it all or nothing. Afterwards older keys can leave DATA_KEYS."""
    return {
        "phone numbers": _rotate_column(session, cipher, PhoneNumber, "number_enc"),
        "outbound messages": _rotate_column(session, cipher, OutboundMessage, "body_enc"),
        "exchange records": exchange_log.rechain(session, cipher),
    }
