"""An index of the outbox by customer and time: every answer reads the customer's queued
pushes (`serving.push.history`, the weekly and monthly caps), which without it scans the
whole outbox, a row per push of every campaign ever queued.

Written by hand to match `serving/push/tables.py`; the migration test checks that
autogenerate finds no difference.

Revision ID: 0004_outbox_customer
Revises: 0003_preferences
"""

from __future__ import annotations

from alembic import op

revision = "0004_outbox_customer"
down_revision = "0003_preferences"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_customer_created", "outbox", ["customer_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_customer_created", table_name="outbox")
