"""consent state indexes: partial indexes of the events that decide a number's status and verification

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

A number's consent state is read on every inbound text. HELP (and other) events can pile up in the
thousands for one number, and with only (phone_number_id, occurred_at) both reads walked all of them.
The predicates are the ones storage.models.decides_status/verifies write into the ledger's queries.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DECIDES_STATUS = sa.text("kind IN ('opt_in', 'opt_out')")
VERIFIES = sa.text(
    "kind IN ('verification')"
    " OR (kind IN ('opt_in') AND channel IN ('ivr', 'sdu_phone', 'technician', 'web'))"
)


def upgrade() -> None:
    op.create_index(
        "ix_consent_events_phone_status",
        "consent_events",
        ["phone_number_id", "occurred_at", "id"],
        postgresql_where=DECIDES_STATUS,
        sqlite_where=DECIDES_STATUS,
    )
    op.create_index(
        "ix_consent_events_phone_verified",
        "consent_events",
        ["phone_number_id"],
        postgresql_where=VERIFIES,
        sqlite_where=VERIFIES,
    )


def downgrade() -> None:
    op.drop_index("ix_consent_events_phone_verified", table_name="consent_events")
    op.drop_index("ix_consent_events_phone_status", table_name="consent_events")
