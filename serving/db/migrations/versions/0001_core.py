"""The core tables: directory, API keys, counter sessions, served suggestions, outcomes,
events, audit log.

Written by hand to match `serving/db/tables.py`; a test checks that autogenerate finds
no difference between this revision and the models.

Revision ID: 0001_core
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from serving.db.types import UtcDateTime

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(64)
NAME = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("account_no", ID, nullable=True),
        sa.Column("segment", NAME, nullable=False),
        sa.Column("region", NAME, nullable=False),
        sa.Column("hall_id", ID, nullable=True),
        sa.Column("tariff_id", ID, nullable=False),
        sa.Column("contract_capacity_kva", sa.Float(), nullable=True),
        sa.Column("has_app", sa.Boolean(), nullable=False),
        sa.Column("push_consent", sa.Boolean(), nullable=False),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customers")),
        sa.UniqueConstraint("account_no", name=op.f("uq_customers_account_no")),
    )
    op.create_index(op.f("ix_customers_hall_id"), "customers", ["hall_id"])

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("role", NAME, nullable=False),
        sa.Column("hall_id", ID, nullable=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(8), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )

    op.create_table(
        "counter_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("hall_id", ID, nullable=False),
        sa.Column("counter_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("identified_by", NAME, nullable=False),
        sa.Column("staff_id", ID, nullable=True),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_counter_sessions_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.id"], name=op.f("fk_counter_sessions_key_id_api_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counter_sessions")),
    )
    op.create_index(
        "ix_counter_sessions_customer_hall", "counter_sessions", ["customer_id", "hall_id"]
    )

    op.create_table(
        "suggestions_served",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("suggestion_id", sa.String(36), nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("kind", NAME, nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("channel", NAME, nullable=False),
        sa.Column("hall_id", ID, nullable=True),
        sa.Column("counter_id", ID, nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("shown_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_suggestions_served_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestions_served")),
    )
    op.create_index(
        "ix_suggestions_served_customer_shown", "suggestions_served", ["customer_id", "shown_at"]
    )
    op.create_index(
        op.f("ix_suggestions_served_suggestion_id"), "suggestions_served", ["suggestion_id"]
    )

    op.create_table(
        "suggestion_outcomes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("suggestion_id", sa.String(36), nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("kind", NAME, nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("channel", NAME, nullable=False),
        sa.Column("outcome", NAME, nullable=False),
        sa.Column("shown_at", UtcDateTime(), nullable=False),
        sa.Column("outcome_at", UtcDateTime(), nullable=False),
        sa.Column("hall_id", ID, nullable=True),
        sa.Column("counter_id", ID, nullable=True),
        sa.Column("staff_id", ID, nullable=True),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("exported_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_suggestion_outcomes_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.id"], name=op.f("fk_suggestion_outcomes_key_id_api_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_outcomes")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_suggestion_outcomes_idempotency_key")),
    )
    op.create_index(
        "ix_suggestion_outcomes_customer_at", "suggestion_outcomes", ["customer_id", "outcome_at"]
    )
    op.create_index(
        op.f("ix_suggestion_outcomes_exported_at"), "suggestion_outcomes", ["exported_at"]
    )
    op.create_index(
        op.f("ix_suggestion_outcomes_suggestion_id"), "suggestion_outcomes", ["suggestion_id"]
    )

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("kind", NAME, nullable=False),
        sa.Column("ts", UtcDateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"], name=op.f("fk_events_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_events_event_id")),
    )
    op.create_index(op.f("ix_events_customer_id"), "events", ["customer_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("role", NAME, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(256), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.id"], name=op.f("fk_audit_log_key_id_api_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_customer_id"), "audit_log", ["customer_id"])


def downgrade() -> None:
    for table in (
        "audit_log",
        "events",
        "suggestion_outcomes",
        "suggestions_served",
        "counter_sessions",
        "api_keys",
        "customers",
    ):
        op.drop_table(table)
