"""Inbound messages: carrier references of received messages, and unroutable ones."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.schema import messages, unrouted_messages


async def find_inbound_by_carrier_ref(
    conn: AsyncConnection, carrier: str, carrier_message_id: str
) -> dict[str, Any] | None:
    """A message already received under this carrier reference (a carrier's redelivery)."""
    row = (
        await conn.execute(
            sa.select(messages).where(
                messages.c.carrier == carrier,
                messages.c.carrier_message_id == carrier_message_id,
                messages.c.direction == "inbound",
            )
        )
    ).first()
    return dict(row._mapping) if row else None


async def insert_unrouted(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(unrouted_messages.insert().values(**values))


async def unrouted_by_carrier_ref(
    conn: AsyncConnection, carrier: str, carrier_message_id: str
) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            sa.select(unrouted_messages).where(
                unrouted_messages.c.carrier == carrier,
                unrouted_messages.c.carrier_message_id == carrier_message_id,
            )
        )
    ).first()
    return dict(row._mapping) if row else None
