"""sending: idempotency keys, short codes, alphanumeric sender ids, throughput, WhatsApp body

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import switchboard.store.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = switchboard.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("created_at", switchboard.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", switchboard.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_idempotency_keys_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint(
            "account_id", "key", "method", "path", name="uq_idempotency_keys_scope"
        ),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_keys_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "short_codes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("short_code", sa.String(length=16), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("messaging_profile_id", sa.String(length=36), nullable=True),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_short_codes_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["messaging_profile_id"],
            ["messaging_profiles.id"],
            name=op.f("fk_short_codes_messaging_profile_id_messaging_profiles"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_short_codes")),
        sa.UniqueConstraint("short_code", "country_code", name="uq_short_codes_code_country"),
    )
    with op.batch_alter_table("short_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_short_codes_account_id"), ["account_id"])
        batch_op.create_index(
            batch_op.f("ix_short_codes_messaging_profile_id"), ["messaging_profile_id"]
        )

    op.create_table(
        "alphanumeric_sender_ids",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("alphanumeric_sender_id", sa.String(length=11), nullable=False),
        sa.Column("messaging_profile_id", sa.String(length=36), nullable=False),
        sa.Column("us_long_code_fallback", sa.String(length=32), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_alphanumeric_sender_ids_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["messaging_profile_id"],
            ["messaging_profiles.id"],
            name=op.f("fk_alphanumeric_sender_ids_messaging_profile_id_messaging_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alphanumeric_sender_ids")),
        sa.UniqueConstraint(
            "messaging_profile_id",
            "alphanumeric_sender_id",
            name="uq_alphanumeric_sender_ids_profile",
        ),
    )
    with op.batch_alter_table("alphanumeric_sender_ids", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alphanumeric_sender_ids_account_id"), ["account_id"])
        batch_op.create_index(
            batch_op.f("ix_alphanumeric_sender_ids_messaging_profile_id"),
            ["messaging_profile_id"],
        )

    op.create_table(
        "sender_throughput",
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("next_free_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_sender_throughput")),
    )

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("body")
    op.drop_table("sender_throughput")
    op.drop_table("alphanumeric_sender_ids")
    op.drop_table("short_codes")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_keys_expires_at"))
    op.drop_table("idempotency_keys")
