"""The push tables: campaigns, the outbox, dead letters.

Written by hand to match `serving/push/tables.py`; the migration test checks that
autogenerate finds no difference between this revision and the models.

Revision ID: 0002_push
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from serving.db.types import UtcDateTime

revision = "0002_push"
down_revision = "0001_core"
branch_labels = None
depends_on = None

ID = sa.String(64)
NAME = sa.String(32)
UUID_TEXT = sa.String(36)
ERROR_TEXT = sa.String(512)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", UUID_TEXT, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["api_keys.id"], name=op.f("fk_campaigns_created_by_api_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign_id", UUID_TEXT, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("suggestion_id", UUID_TEXT, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("idempotency_key", UUID_TEXT, nullable=False),
        sa.Column("status", NAME, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_until", UtcDateTime(), nullable=True),
        sa.Column("last_error", ERROR_TEXT, nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("delivered_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_outbox_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_outbox_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
    )
    op.create_index(op.f("ix_outbox_campaign_id"), "outbox", ["campaign_id"])
    op.create_index("ix_outbox_status_next_attempt", "outbox", ["status", "next_attempt_at"])

    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", ERROR_TEXT, nullable=True),
        sa.Column("died_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name=op.f("fk_dead_letters_outbox_id_outbox")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
        sa.UniqueConstraint("outbox_id", name=op.f("uq_dead_letters_outbox_id")),
    )
    op.create_index(op.f("ix_dead_letters_died_at"), "dead_letters", ["died_at"])


def downgrade() -> None:
    for table in ("dead_letters", "outbox", "campaigns"):
        op.drop_table(table)
