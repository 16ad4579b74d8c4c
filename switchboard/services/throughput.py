"""Throughput limits: give messages their turn at the carrier, per sender, in parts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.domain.throughput import Slot, reserve
from switchboard.services.runtime import Runtime
from switchboard.store import throughput as store


async def reserve_slots(
    rt: Runtime, conn: AsyncConnection, rows: Sequence[dict[str, Any]], ready_at: datetime
) -> list[Slot]:
    """One slot per row (in order) for messages ready to leave at `ready_at`.

    Runs in the caller's transaction: the senders' times change only if it commits.
    """
    limits = rt.settings.throughput
    next_free: dict[str, datetime | None] = {}
    slots: list[Slot] = []
    for row in rows:
        if row["type"] == "WHATSAPP":  # WhatsApp has its own budget per number
            address, rate = f"whatsapp:{row['from_address']}", limits.whatsapp
        else:
            address = row["from_address"]
            rate = limits.rate_for(address, row["sender_type"])
        if address not in next_free:
            next_free[address] = await store.lock_sender(conn, address)
        slot = reserve(next_free[address], ready_at, row["parts"], rate, row["valid_until"])
        next_free[address] = slot.next_free_at
        slots.append(slot)
    for address, value in next_free.items():
        if value is not None:
            await store.set_next_free(conn, address, value)
    return slots
