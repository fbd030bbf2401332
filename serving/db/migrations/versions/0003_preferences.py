"""Customers' preferences: `customers.peer_comparison` (the app may compare their use with
similar homes; true until the customer opts out).

Existing customers get true from the server default, as a new customer does: opting out
is the customer's act (`PUT /v1/customers/{id}/preferences`). Written by hand to match
`serving/db/tables.py`; the migration test checks that autogenerate finds no difference.

Revision ID: 0003_preferences
Revises: 0002_push
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_preferences"
down_revision = "0002_push"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "customers",
        sa.Column("peer_comparison", sa.Boolean(), nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    # In place on both: SQLite (3.35+) drops a column that no index or constraint names
    # without copying the table, which batch mode would do and foreign keys would refuse.
    op.drop_column("customers", "peer_comparison")
