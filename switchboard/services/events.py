"""Status transitions and the events that must be recorded with them, in one transaction.

`message_events` holds the statuses a message reached after it was created; the one it was
created in is its row's (`domain.status.creation_status`, at `received_at`). Storing that
too was an event row per accepted message, about 5% of the accept path's CPU, to say what
the message row already says. `history` puts the two together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.domain.ids import new_id
from switchboard.domain.status import check_transition, creation_status
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


async def created(
    rt: Runtime, conn: AsyncConnection, rows: Iterable[dict[str, Any]], now: datetime
) -> None:
    """Outbound messages just stored in their first status: the transition hooks run (in
    the caller's transaction, as for any status); no event row is written."""
    rows = list(rows)
    for hook in rt.transition_hooks:
        await hook(conn, rows, now)


def history(message: Mapping[str, Any], stored: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A message's statuses, oldest first: the one it was created in, then its events.

    Databases written before the first status lived only in the row also hold it as the
    first event; it is listed once.
    """
    first = creation_status(message)
    if stored and stored[0]["status"] == first:
        return list(stored)
    created_event = {
        "id": None,
        "account_id": message["account_id"],
        "message_id": message["id"],
        "status": first,
        "occurred_at": message["received_at"],
        "detail": None,
    }
    return [created_event, *stored]


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


@dataclass(frozen=True)
class Move:
    """One message to move to `status`, setting `values`, if it is still in the status it
    had when `message` was read."""

    message: dict[str, Any]
    status: str
    values: Mapping[str, Any] = field(default_factory=dict)


async def move_many(
    rt: Runtime, conn: AsyncConnection, moves: Sequence[Move], now: datetime
) -> list[dict[str, Any] | None]:
    """`move` for a batch, with a handful of statements in all instead of several each.

    Each message's row after the move (its row as read, with the new values), or None when
    another actor moved it first, or when an earlier move of this batch took the same
    message. Raises `InvalidTransition` before writing anything if any move is not allowed:
    callers that must not fail together check `can_transition` first.
    """
    for m in moves:
        check_transition(m.message["status"], m.status)
    first: dict[str, Move] = {}
    for m in moves:
        first.setdefault(m.message["id"], m)
    changes = {
        m.message["id"]: {"status": m.status, "updated_at": now, **m.values} for m in first.values()
    }
    moved = await message_store.transition_many(
        conn, [(i, first[i].message["status"], values) for i, values in changes.items()]
    )
    rows: list[dict[str, Any] | None] = [
        {**m.message, **changes[m.message["id"]]}
        if first[m.message["id"]] is m and m.message["id"] in moved
        else None
        for m in moves
    ]
    done = [r for r in rows if r is not None]
    if done:
        await record(rt, conn, done, now)
    return rows


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
