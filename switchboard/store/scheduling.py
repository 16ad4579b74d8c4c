"""Scheduled messages: rows in `scheduled` waiting for their `send_at`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.schema import inline, messages


async def due_scheduled(conn: AsyncConnection, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` scheduled rows whose `send_at` has come, earliest first.

    On PostgreSQL the rows are locked for this transaction and rows another scheduler holds
    are skipped; on SQLite the single writer lock does the same job.
    """
    rows = await conn.execute(
        sa.select(messages)
        .where(messages.c.status == inline("scheduled"), messages.c.send_at <= now)
        .order_by(messages.c.send_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [dict(r._mapping) for r in rows]


async def next_send_at(conn: AsyncConnection) -> datetime | None:
    """The earliest `send_at` still waiting (the scheduler sleeps until then)."""
    row = (
        await conn.execute(
            sa.select(sa.func.min(messages.c.send_at)).where(
                messages.c.status == inline("scheduled")
            )
        )
    ).first()
    value = row[0] if row else None  # min() keeps the column type, so this is aware UTC
    return value  # type: ignore[no-any-return,unused-ignore]


async def get_for_update(
    conn: AsyncConnection, account_id: str, message_id: str
) -> dict[str, Any] | None:
    """One outbound message of the account, locked until the transaction ends."""
    row = (
        await conn.execute(
            sa.select(messages)
            .where(
                messages.c.id == message_id,
                messages.c.account_id == account_id,
                messages.c.direction == "outbound",
            )
            .with_for_update()
        )
    ).first()
    return dict(row._mapping) if row else None
