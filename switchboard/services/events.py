"""Status transitions and the events that must be recorded with them, in one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.domain.ids import new_id
from switchboard.domain.status import check_transition
from switchboard.services.runtime import Runtime
from switchboard.store import messages as message_store


def event_row(
    message: dict[str, Any], status: str, now: datetime, detail: Any = None
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "account_id": message["account_id"],
        "message_id": message["id"],
        "status": status,
        "occurred_at": now,
        "detail": detail,
    }


async def record(
    rt: Runtime, conn: AsyncConnection, rows: Iterable[dict[str, Any]], now: datetime
) -> None:
    """Record events for rows that have just reached their current status.

    The runtime's transition hooks (webhook enqueueing) run in the same transaction, so an
    event is never lost between a status change and its notification.
    """
    rows = list(rows)
    await message_store.insert_events(conn, [event_row(r, r["status"], now) for r in rows])
    for hook in rt.transition_hooks:
        await hook(conn, rows, now)


async def move(
    rt: Runtime,
    conn: AsyncConnection,
    message: dict[str, Any],
    new_status: str,
    now: datetime,
    **values: Any,
) -> dict[str, Any] | None:
    """Transition one message if its current status still allows it; record the event.

    Returns the updated row, or None when another actor moved it first (nothing is written).
    """
    check_transition(message["status"], new_status)
    row = await message_store.transition(
        conn,
        message["id"],
        [message["status"]],
        {"status": new_status, "updated_at": now, **values},
    )
    if row is not None:
        await record(rt, conn, [row], now)
    return row


async def record_received(
    rt: Runtime, conn: AsyncConnection, rows: Iterable[dict[str, Any]], now: datetime
) -> None:
    """Record the arrival of inbound messages (their first status), in the caller's transaction.

    The transition hooks follow outbound lifecycles (`message.sent`, `message.finalized`) and
    do not run here: the inbound service enqueues `message.received` itself.
    """
    await message_store.insert_events(conn, [event_row(r, r["status"], now) for r in rows])


async def inbound_webhook_delivered(
    rt: Runtime, conn: AsyncConnection, message_id: str, now: datetime
) -> None:
    """An inbound message's `message.received` reached the customer: its `to[].status`
    becomes `webhook_delivered` (once; a later delivery of the same event changes nothing)."""
    row = await message_store.transition(
        conn, message_id, ["delivered"], {"status": "webhook_delivered", "updated_at": now}
    )
    if row is not None:
        await message_store.insert_events(conn, [event_row(row, row["status"], now)])
