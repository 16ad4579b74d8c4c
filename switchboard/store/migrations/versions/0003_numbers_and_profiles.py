"""numbers and profiles: bulk update orders, metrics indexes, mobile numbers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 07:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import switchboard.store.types
from switchboard.domain.numbers import phone_number_type

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bulk_update_orders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("messaging_profile_id", sa.String(length=36), nullable=True),
        sa.Column("assign_only", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("number_count", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", switchboard.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", switchboard.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "completed_at", switchboard.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("created_at", switchboard.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", switchboard.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_bulk_update_orders_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_update_orders")),
    )
    op.create_index(
        "ix_bulk_update_orders_account_created",
        "bulk_update_orders",
        ["account_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_bulk_update_orders_unfinished",
        "bulk_update_orders",
        ["created_at"],
        unique=False,
        sqlite_where=sa.text("status != 'done'"),
        postgresql_where=sa.text("status != 'done'"),
    )
    op.create_table(
        "bulk_update_items",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("phone_number", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=8), nullable=True),
        sa.Column("error_detail", sa.Text(), nullable=True),
        sa.Column("updated_at", switchboard.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["bulk_update_orders.id"],
            name=op.f("fk_bulk_update_items_order_id_bulk_update_orders"),
        ),
        sa.PrimaryKeyConstraint("order_id", "position", name=op.f("pk_bulk_update_items")),
    )
    op.create_index(
        "ix_messages_profile_received",
        "messages",
        ["messaging_profile_id", "received_at"],
        unique=False,
    )
    op.create_index(
        "ix_messages_from_received", "messages", ["from_address", "received_at"], unique=False
    )
    op.create_index(
        "ix_messages_to_received", "messages", ["to_address", "received_at"], unique=False
    )
    _classify_mobile_numbers()


def _classify_mobile_numbers() -> None:
    """Numbers ordered before mobile ranges were recognised were stored as `local`."""
    numbers = sa.table(
        "phone_numbers",
        sa.column("id", sa.String),
        sa.column("phone_number", sa.String),
        sa.column("phone_number_type", sa.String),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(numbers.c.id, numbers.c.phone_number).where(
            numbers.c.phone_number_type == "local"
        )
    ).all()
    mobile = [row.id for row in rows if phone_number_type(row.phone_number) == "mobile"]
    for start in range(0, len(mobile), 500):
        conn.execute(
            numbers.update()
            .where(numbers.c.id.in_(mobile[start : start + 500]))
            .values(phone_number_type="mobile")
        )


def downgrade() -> None:
    op.drop_index("ix_messages_to_received", table_name="messages")
    op.drop_index("ix_messages_from_received", table_name="messages")
    op.drop_index("ix_messages_profile_received", table_name="messages")
    op.drop_table("bulk_update_items")
    op.drop_index(
        "ix_bulk_update_orders_unfinished",
        table_name="bulk_update_orders",
        sqlite_where=sa.text("status != 'done'"),
        postgresql_where=sa.text("status != 'done'"),
    )
    op.drop_index("ix_bulk_update_orders_account_created", table_name="bulk_update_orders")
    op.drop_table("bulk_update_orders")
