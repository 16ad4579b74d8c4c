"""receiving: opt-outs, auto-response configs, unrouted inbound, sandbox traffic, short links

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import switchboard.store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = switchboard.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("autoresponse_type", sa.String(length=16), nullable=True))

    op.create_table(
        "opt_outs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("messaging_profile_id", sa.String(length=36), nullable=False),
        sa.Column("from_address", sa.String(length=64), nullable=False),
        sa.Column("to_address", sa.String(length=64), nullable=False),
        sa.Column("keyword", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_opt_outs_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opt_outs")),
        sa.UniqueConstraint(
            "messaging_profile_id", "to_address", name="uq_opt_outs_profile_destination"
        ),
    )
    with op.batch_alter_table("opt_outs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_opt_outs_account_created", ["account_id", "created_at"], unique=False
        )

    op.create_table(
        "autoresp_configs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("messaging_profile_id", sa.String(length=36), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("keywords", JSON, nullable=False),
        sa.Column("country_code", sa.String(length=8), nullable=False),
        sa.Column("resp_text", sa.Text(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_autoresp_configs_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["messaging_profile_id"],
            ["messaging_profiles.id"],
            name=op.f("fk_autoresp_configs_messaging_profile_id_messaging_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autoresp_configs")),
    )
    with op.batch_alter_table("autoresp_configs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_autoresp_configs_messaging_profile_id"),
            ["messaging_profile_id"],
            unique=False,
        )

    op.create_table(
        "unrouted_messages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("carrier", sa.String(length=64), nullable=False),
        sa.Column("carrier_message_id", sa.String(length=255), nullable=True),
        sa.Column("from_address", sa.String(length=64), nullable=False),
        sa.Column("to_address", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("media", JSON, nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("received_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unrouted_messages")),
    )
    with op.batch_alter_table("unrouted_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_unrouted_messages_carrier_ref", ["carrier", "carrier_message_id"], unique=False
        )

    op.create_table(
        "sandbox_messages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("handset", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("media", JSON, nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("carrier_message_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_sandbox_messages_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_messages")),
        sa.UniqueConstraint("message_id", name=op.f("uq_sandbox_messages_message_id")),
    )
    with op.batch_alter_table("sandbox_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sandbox_messages_account_created", ["account_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_sandbox_messages_carrier_ref", ["carrier_message_id"], unique=False
        )

    op.create_table(
        "short_links",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("messaging_profile_id", sa.String(length=36), nullable=True),
        sa.Column("to_address", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("send_webhooks", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_short_links_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_short_links")),
    )
    with op.batch_alter_table("short_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_short_links_message_id"), ["message_id"], unique=False)

    op.create_table(
        "link_clicks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("clicked_at", UTC, nullable=False),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["code"], ["short_links.code"], name=op.f("fk_link_clicks_code_short_links")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_clicks")),
    )
    with op.batch_alter_table("link_clicks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_link_clicks_code"), ["code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("link_clicks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_clicks_code"))
    op.drop_table("link_clicks")
    with op.batch_alter_table("short_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_short_links_message_id"))
    op.drop_table("short_links")
    with op.batch_alter_table("sandbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_sandbox_messages_carrier_ref")
        batch_op.drop_index("ix_sandbox_messages_account_created")
    op.drop_table("sandbox_messages")
    with op.batch_alter_table("unrouted_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_unrouted_messages_carrier_ref")
    op.drop_table("unrouted_messages")
    with op.batch_alter_table("autoresp_configs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_autoresp_configs_messaging_profile_id"))
    op.drop_table("autoresp_configs")
    with op.batch_alter_table("opt_outs", schema=None) as batch_op:
        batch_op.drop_index("ix_opt_outs_account_created")
    op.drop_table("opt_outs")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("autoresponse_type")
