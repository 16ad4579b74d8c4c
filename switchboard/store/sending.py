"""Message queries for the ways of sending: groups, sender history and statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.schema import messages, phone_numbers


async def group_rows(
    conn: AsyncConnection, account_id: str, group_id: str, *, received_after: datetime
) -> list[dict[str, Any]]:
    """The per-recipient rows of a group MMS, in recipient order."""
    rows = await conn.execute(
        sa.select(messages)
        .where(
            messages.c.group_id == group_id,
            messages.c.account_id == account_id,
            messages.c.received_at >= received_after,
        )
        .order_by(messages.c.id)
    )
    return [dict(r._mapping) for r in rows]


async def pool_numbers(
    conn: AsyncConnection, account_id: str, profile_id: str
) -> list[dict[str, Any]]:
    """The profile's active long codes and toll-free numbers: its number pool."""
    rows = await conn.execute(
        sa.select(phone_numbers)
        .where(
            phone_numbers.c.account_id == account_id,
            phone_numbers.c.messaging_profile_id == profile_id,
            phone_numbers.c.number_kind.in_(["long_code", "toll_free"]),
            phone_numbers.c.status == "active",
        )
        .order_by(phone_numbers.c.phone_number)
    )
    return [dict(r._mapping) for r in rows]


async def last_sender(
    conn: AsyncConnection, account_id: str, profile_id: str, to_address: str
) -> str | None:
    """The address the profile last sent from to `to_address` (sticky sender)."""
    row = (
        await conn.execute(
            sa.select(messages.c.from_address)
            .where(
                messages.c.to_address == to_address,
                messages.c.account_id == account_id,
                messages.c.messaging_profile_id == profile_id,
                messages.c.direction == "outbound",
            )
            .order_by(messages.c.received_at.desc(), messages.c.id.desc())
            .limit(1)
        )
    ).first()
    return str(row[0]) if row else None


async def set_media(conn: AsyncConnection, message_id: str, media: list[dict[str, Any]]) -> None:
    """Record what a message's media turned out to be (while it is being sent)."""
    await conn.execute(
        messages.update()
        .where(messages.c.id == message_id, messages.c.status == "sending")
        .values(media=media)
    )
