"""dashboard: work queue, conversation summaries, sign-in throttling, access log detail

Self-contained: only the dashboard's own tables, indexes for its reads (time on exchanges and
consent_events, a partial index on failed deliveries), and one new column on supervisor_access.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FAILED = sa.text("delivery_status IN ('failed', 'undelivered')")


def upgrade() -> None:
    op.create_table(
        "dashboard_sync",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exchange_seq", sa.Integer(), nullable=False),
        sa.Column("consent_event_id", sa.Integer(), nullable=False),
        sa.Column("synced_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_sync")),
    )
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_hash", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
    )
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.create_index("ix_sign_in_failures_client_time", ["client_hash", "occurred_at"], unique=False)

    op.create_table(
        "conversations",
        sa.Column("phone_number_id", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("last_intent", sa.String(length=32), nullable=True),
        sa.Column("last_inbound_seq", sa.Integer(), nullable=True),
        sa.Column("consent_state", sa.String(length=24), nullable=False),
        sa.Column("open_items", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["phone_number_id"],
            ["phone_numbers.id"],
            name=op.f("fk_conversations_phone_number_id_phone_numbers"),
        ),
        sa.PrimaryKeyConstraint("phone_number_id", name=op.f("pk_conversations")),
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index("ix_conversations_consent_last", ["consent_state", "last_at"], unique=False)
        batch_op.create_index("ix_conversations_intent_last", ["last_intent", "last_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_conversations_last_at"), ["last_at"], unique=False)

    op.create_table(
        "queue_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=48), nullable=False),
        sa.Column("phone_number_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("handled_at", sa.DateTime(), nullable=True),
        sa.Column("handled_by", sa.Integer(), nullable=True),
        sa.Column("note_enc", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["handled_by"], ["supervisors.id"], name=op.f("fk_queue_items_handled_by_supervisors")
        ),
        sa.ForeignKeyConstraint(
            ["phone_number_id"],
            ["phone_numbers.id"],
            name=op.f("fk_queue_items_phone_number_id_phone_numbers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_items")),
        sa.UniqueConstraint("kind", "source", name=op.f("uq_queue_items_kind_source")),
    )
    with op.batch_alter_table("queue_items", schema=None) as batch_op:
        batch_op.create_index("ix_queue_items_open_time", ["handled_at", "occurred_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_queue_items_phone_number_id"), ["phone_number_id"], unique=False)

    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exchanges_delivery_failed",
            ["delivery_status"],
            unique=False,
            sqlite_where=FAILED,
            postgresql_where=FAILED,
        )
        batch_op.create_index("ix_exchanges_time", ["occurred_at"], unique=False)

    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.create_index("ix_consent_events_time", ["occurred_at"], unique=False)

    with op.batch_alter_table("supervisor_access", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detail", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("supervisor_access", schema=None) as batch_op:
        batch_op.drop_column("detail")
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_events_time")
    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        batch_op.drop_index("ix_exchanges_time")
        batch_op.drop_index("ix_exchanges_delivery_failed")
    op.drop_table("queue_items")
    op.drop_table("conversations")
    op.drop_table("sign_in_failures")
    op.drop_table("dashboard_sync")
