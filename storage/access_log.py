"""The access log: who saw which transcript, revealed which number, exported what, and when.

Targets name records by id ("phone #12", "range 2026-01-01..2026-01-31"), never by a phone number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Supervisor, SupervisorAccess, utcnow


class AccessAction(StrEnum):
    """What a supervisor did with protected records."""

    SIGN_IN = "sign_in"
    VIEW_TRANSCRIPT = "view_transcript"
    REVEAL_NUMBER = "reveal_number"
    EXPORT = "export"
    HANDLE_QUEUE_ITEM = "handle_queue_item"
    UNLOCK_ACCOUNT = "unlock_account"


def record(
    session: Session, supervisor_id: int, action: AccessAction, target: str, detail: str | None = None
) -> None:
    """Add one entry in the caller's transaction."""
    session.add(
        SupervisorAccess(
            supervisor_id=supervisor_id,
            action=action.value,
            target=target[:128],
            detail=None if detail is None else detail[:255],
            occurred_at=utcnow(),
        )
    )


@dataclass(frozen=True)
class AccessEntry:
    """One line of the access log as the admin page shows it."""

    id: int
    occurred_at: datetime
    email: str
    action: str
    target: str
    detail: str | None


def page(session: Session, *, before_id: int | None, size: int) -> list[AccessEntry]:
    """Newest first, `size` entries older than `before_id` (keyset pagination on the primary key)."""
    query = (
        select(
            SupervisorAccess.id,
            SupervisorAccess.occurred_at,
            Supervisor.email,
            SupervisorAccess.action,
            SupervisorAccess.target,
            SupervisorAccess.detail,
        )
        .join(Supervisor, Supervisor.id == SupervisorAccess.supervisor_id)
        .order_by(SupervisorAccess.id.desc())
        .limit(size)
    )
    if before_id is not None:
        query = query.where(SupervisorAccess.id < before_id)
    return [AccessEntry(*row) for row in session.execute(query)]


def count(session: Session) -> int:
    """How many entries there are."""
    return session.scalar(select(func.count()).select_from(SupervisorAccess)) or 0
