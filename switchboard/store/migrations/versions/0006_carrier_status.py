"""carrier status snapshots

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import switchboard.store.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "carrier_status",
        sa.Column("worker_id", sa.String(length=128), nullable=False),
        sa.Column("carrier", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", switchboard.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", "carrier", name=op.f("pk_carrier_status")),
    )


def downgrade() -> None:
    op.drop_table("carrier_status")
