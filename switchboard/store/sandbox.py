"""Traffic of the simulated network (sandbox mode)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.executemany import insert_many
from switchboard.store.pagination import fetch_page
from switchboard.store.prepared import Prepared
from switchboard.store.schema import sandbox_messages


async def insert_traffic(conn: AsyncConnection, row: dict[str, Any]) -> None:
    """Record one message on the simulated network, once (a repeat of its id does nothing)."""
    await insert_traffic_many(conn, [row])


async def insert_traffic_many(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """`insert_traffic` for many rows: one executemany."""
    if not rows:
        return
    await insert_many(conn, sandbox_messages, rows, unless_conflicting_on=("message_id",))


async def set_traffic_statuses(
    conn: AsyncConnection, changes: Sequence[tuple[str, str]], now: datetime
) -> None:
    """The status of the traffic of each `(message id, status)`: one UPDATE per status."""
    by_status: dict[str, list[str]] = {}
    for message_id, status in changes:
        by_status.setdefault(status, []).append(message_id)
    for status, ids in by_status.items():
        await _SET_STATUS.run(conn, {"ids": ids, "status": status, "now": now})


# Run for every batch of sandbox deliveries.
_SET_STATUS = Prepared(
    sandbox_messages.update()
    .where(sandbox_messages.c.message_id.in_(sa.bindparam("ids", expanding=True)))
    .values(
        status=sa.bindparam("status", type_=sandbox_messages.c.status.type),
        updated_at=sa.bindparam("now", type_=sandbox_messages.c.updated_at.type),
    )
)


async def traffic_by_carrier_ref(
    conn: AsyncConnection, carrier_message_id: str
) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            sa.select(sandbox_messages).where(
                sandbox_messages.c.carrier_message_id == carrier_message_id
            )
        )
    ).first()
    return dict(row._mapping) if row else None


async def list_traffic(
    conn: AsyncConnection,
    account_id: str,
    *,
    handset: str | None,
    number: str | None,
    direction: str | None,
    since: datetime | None,
    page_number: int,
    page_size: int,
) -> tuple[list[dict[str, Any]], int]:
    query = sa.select(sandbox_messages).where(sandbox_messages.c.account_id == account_id)
    if handset is not None:
        query = query.where(sandbox_messages.c.handset == handset)
    if number is not None:
        query = query.where(sandbox_messages.c.number == number)
    if direction is not None:
        query = query.where(sandbox_messages.c.direction == direction)
    if since is not None:
        query = query.where(sandbox_messages.c.created_at >= since)
    query = query.order_by(sandbox_messages.c.created_at, sandbox_messages.c.id)
    return await fetch_page(conn, query, page_number, page_size)
