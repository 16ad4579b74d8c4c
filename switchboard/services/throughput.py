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
    rt: Runtime,
    conn: AsyncConnection,
    rows: Sequence[dict[str, Any]],
    ready_at: datetime | None = None,
) -> list[Slot]:
    """One slot per row (in order) for messages ready to leave at `ready_at` (default: each
    row's `received_at`).

    Runs in the caller's transaction: the senders' times change only if it commits. The
    senders are locked in address order, so two transactions with the same senders cannot
    deadlock.
    """
    limits = rt.settings.throughput
    budgets: list[tuple[str, float]] = []
    for row in rows:
        if row["type"] == "WHATSAPP":  # WhatsApp has its own budget per number
            budgets.append((f"whatsapp:{row['from_address']}", limits.whatsapp))
        else:
            address = row["from_address"]
            budgets.append((address, limits.rate_for(address, row["sender_type"])))
    next_free: dict[str, datetime | None] = {}
    for address in sorted({address for address, _ in budgets}):
        next_free[address] = await store.lock_sender(conn, address)
    changed: set[str] = set()
    slots: list[Slot] = []
    for row, (address, rate) in zip(rows, budgets, strict=True):
        ready = ready_at or row["received_at"]
        slot = reserve(next_free[address], ready, row["parts"], rate, row["valid_until"])
        if slot.next_free_at != next_free[address]:
            next_free[address] = slot.next_free_at
            changed.add(address)
        slots.append(slot)
    await store.set_next_free(conn, {address: next_free[address] for address in sorted(changed)})
    return slots
