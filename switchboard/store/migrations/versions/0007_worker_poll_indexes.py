"""one partial index per status the workers poll

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

POLLED = (
    ("sending", "claimed_at"),
    ("sent", "sent_at"),
    ("scheduled", "send_at"),
    ("queued", "valid_until"),
)


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_inflight")
        for status, column in POLLED:
            batch_op.create_index(
                f"ix_messages_{status}_{column}",
                [column],
                unique=False,
                sqlite_where=sa.text(f"status = '{status}'"),
                postgresql_where=sa.text(f"status = '{status}'"),
            )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        for status, column in POLLED:
            batch_op.drop_index(f"ix_messages_{status}_{column}")
        batch_op.create_index(
            "ix_messages_inflight",
            ["status", "claimed_at"],
            unique=False,
            sqlite_where=sa.text("status IN ('sending', 'sent', 'scheduled')"),
            postgresql_where=sa.text("status IN ('sending', 'sent', 'scheduled')"),
        )
