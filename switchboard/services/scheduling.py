"""Scheduled messages: the `send_at` window, release when due, and cancellation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from switchboard.domain import errors
from switchboard.domain.clock import iso, utcnow
from switchboard.domain.errors import ApiError
from switchboard.domain.ids import is_uuid
from switchboard.services import events, throughput
from switchboard.services.runtime import Runtime
from switchboard.store import scheduling as schedule_store


def check_send_at(rt: Runtime, send_at: datetime, now: datetime) -> None:
    """`send_at` must fall inside [now + min lead, now + max lead] (5 minutes to 5 days)."""
    settings = rt.settings.scheduling
    earliest = now + timedelta(seconds=settings.min_lead_seconds)
    latest = now + timedelta(seconds=settings.max_lead_seconds)
    if not earliest <= send_at <= latest:
        raise ApiError(
            errors.INVALID_PARAMETER,
            f"send_at must be between {_span(settings.min_lead_seconds)} and "
            f"{_span(settings.max_lead_seconds)} from now "
            f"({iso(earliest)} to {iso(latest)}); it is {iso(send_at)}.",
            pointer="/send_at",
        )


def _span(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds:g} seconds"


async def release_due(rt: Runtime, limit: int) -> int:
    """Move scheduled messages whose `send_at` has come to `queued`; how many moved."""
    now = utcnow()
    async with rt.transaction() as conn:
        rows = await schedule_store.due_scheduled(conn, now, limit)
        slots = await throughput.reserve_slots(rt, conn, rows, now)
        moved = 0
        for row, slot in zip(rows, slots, strict=True):
            if await events.move(
                rt,
                conn,
                row,
                "queued",
                now,
                next_attempt_at=slot.starts_at,
                wait_seconds=slot.wait_seconds,
            ):
                moved += 1
    return moved


async def next_send_at(rt: Runtime) -> datetime | None:
    async with rt.read() as conn:
        return await schedule_store.next_send_at(conn)


async def cancel(rt: Runtime, account_id: str, message_id: str) -> dict[str, Any]:
    """Cancel a scheduled message (→ `cancelled`, which finalizes it).

    Allowed only while it is `scheduled` and its `send_at` is more than the cancel cutoff
    (one minute by default) away; anything else is a 403.
    """
    missing = ApiError(errors.NOT_FOUND, "The requested message could not be found.")
    if not is_uuid(message_id):
        raise missing
    now = utcnow()
    cutoff = rt.settings.scheduling.cancel_cutoff_seconds
    retention = now - timedelta(days=rt.settings.message_retention_days)
    async with rt.transaction() as conn:
        row = await schedule_store.get_for_update(conn, account_id, message_id)
        if row is None or row["received_at"] < retention:
            raise missing
        if row["status"] != "scheduled":
            raise ApiError(
                errors.NOT_CANCELLABLE,
                f"The message is {row['status']}; only scheduled messages can be cancelled.",
            )
        if row["send_at"] - now <= timedelta(seconds=cutoff):
            raise ApiError(
                errors.NOT_CANCELLABLE,
                f"The message is due at {iso(row['send_at'])}; a scheduled message can only "
                f"be cancelled more than {_span(cutoff)} before its send_at.",
            )
        moved = await events.move(
            rt,
            conn,
            row,
            "cancelled",
            now,
            completed_at=now,
            valid_until=None,
            cost_amount="0.0000",
        )
        if moved is None:  # the scheduler released it a moment ago
            raise ApiError(
                errors.NOT_CANCELLABLE, "The message has already left the schedule for sending."
            )
    return moved
