"""index group and carrier references only where they are set

Revision ID: 0008
Revises: 0007

Most messages have no group, and none has a carrier reference when it is accepted: full
indexes wrote an entry for each NULL on every accept. `group_id = ?` and
`carrier_message_id = ?` / `IN (...)` imply `IS NOT NULL`, so SQLite and PostgreSQL still
use the partial indexes for every query that looks these up.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_messages_group", ["group_id"], "group_id IS NOT NULL"),
    (
        "ix_messages_carrier_ref",
        ["carrier", "carrier_message_id"],
        "carrier_message_id IS NOT NULL",
    ),
)


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        for name, columns, where in INDEXES:
            batch_op.drop_index(name)
            batch_op.create_index(
                name,
                columns,
                unique=False,
                sqlite_where=sa.text(where),
                postgresql_where=sa.text(where),
            )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        for name, columns, _where in INDEXES:
            batch_op.drop_index(name)
            batch_op.create_index(name, columns, unique=False)
