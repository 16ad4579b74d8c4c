"""Bulk messaging-settings update orders and their items; the runner's claim."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.schema import accounts, bulk_update_items, bulk_update_orders, inline

ITEM_CHUNK = 500


async def insert_order(
    conn: AsyncConnection, order: dict[str, Any], items: Sequence[dict[str, Any]]
) -> None:
    await conn.execute(bulk_update_orders.insert().values(**order))
    for start in range(0, len(items), 1000):
        await conn.execute(bulk_update_items.insert(), list(items[start : start + 1000]))


async def get_order(conn: AsyncConnection, account_id: str, order_id: str) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            sa.select(bulk_update_orders).where(
                bulk_update_orders.c.account_id == account_id,
                bulk_update_orders.c.id == order_id,
            )
        )
    ).first()
    return dict(row._mapping) if row else None


async def items_of(conn: AsyncConnection, order_id: str) -> list[dict[str, Any]]:
    rows = await conn.execute(
        sa.select(
            bulk_update_items.c.position,
            bulk_update_items.c.phone_number,
            bulk_update_items.c.status,
            bulk_update_items.c.error_code,
            bulk_update_items.c.error_detail,
        )
        .where(bulk_update_items.c.order_id == order_id)
        .order_by(bulk_update_items.c.position)
    )
    return [dict(r._mapping) for r in rows]


def _may_start(order: sa.FromClause, stale_before: datetime) -> list[sa.ColumnElement[bool]]:
    """Conditions for `order` to be claimed now (the oldest unfinished, none running)."""
    older = bulk_update_orders.alias("older")
    running = bulk_update_orders.alias("running")
    c = order.c
    return [
        sa.or_(
            c.status == "pending",
            sa.and_(c.status == "processing", c.claimed_at < stale_before),
        ),
        ~sa.exists()
        .where(
            older.c.account_id == c.account_id,
            older.c.status != inline("done"),
            sa.tuple_(older.c.created_at, older.c.id) < sa.tuple_(c.created_at, c.id),
        )
        .correlate(order),
        ~sa.exists()
        .where(
            running.c.account_id == c.account_id,
            running.c.id != c.id,
            running.c.status == "processing",
            running.c.claimed_at >= stale_before,
        )
        .correlate(order),
    ]


async def claim_next(
    conn: AsyncConnection, worker_id: str, now: datetime, stale_before: datetime
) -> dict[str, Any] | None:
    """Claim one order (→ `processing`, owned by `worker_id`) and return it, or None.

    Orders of one account are applied one at a time, oldest first: an order is claimable
    when it is pending (or its claim went stale: the worker holding it died), no older
    order of its account is unfinished and none is running. So orders sharing numbers
    never interleave, and the one applied last decides those numbers' settings.

    PostgreSQL: workers skip orders another worker has locked, then lock the account row
    and check again, so two workers can never start two orders of one account at once.
    SQLite: the single writer makes the UPDATE (which checks again) atomic.
    """
    candidate = bulk_update_orders.alias("candidate")
    chosen = (
        await conn.execute(
            sa.select(candidate.c.id, candidate.c.account_id)
            .where(*_may_start(candidate, stale_before))
            .order_by(candidate.c.created_at, candidate.c.id)
            .limit(1)
            .with_for_update(skip_locked=True, of=candidate)
        )
    ).first()
    if chosen is None:
        return None
    if conn.dialect.name == "postgresql":
        await conn.execute(
            sa.select(accounts.c.id)
            .where(accounts.c.id == chosen.account_id)
            .with_for_update(key_share=True)  # FOR NO KEY UPDATE: inserts still proceed
        )
    result = await conn.execute(
        bulk_update_orders.update()
        .where(bulk_update_orders.c.id == chosen.id, *_may_start(bulk_update_orders, stale_before))
        .values(
            status="processing",
            claimed_by=worker_id,
            claimed_at=now,
            started_at=sa.func.coalesce(bulk_update_orders.c.started_at, now),
            updated_at=now,
        )
        .returning(*bulk_update_orders.c)
    )
    row = result.first()
    return dict(row._mapping) if row else None


async def release_claims(conn: AsyncConnection, worker_id: str, now: datetime) -> int:
    """Orders `worker_id` held when it stopped go back to `pending`."""
    result = await conn.execute(
        bulk_update_orders.update()
        .where(
            bulk_update_orders.c.status == "processing",
            bulk_update_orders.c.claimed_by == worker_id,
        )
        .values(status="pending", claimed_by=None, claimed_at=None, updated_at=now)
    )
    return int(result.rowcount or 0)


async def renew_claim(conn: AsyncConnection, order_id: str, worker_id: str, now: datetime) -> bool:
    """Extend the claim (and, on PostgreSQL, lock the order row for this transaction).

    False when the order is no longer this worker's: its claim went stale and another
    worker took it over, so this worker must stop.
    """
    result = await conn.execute(
        bulk_update_orders.update()
        .where(
            bulk_update_orders.c.id == order_id,
            bulk_update_orders.c.status == "processing",
            bulk_update_orders.c.claimed_by == worker_id,
        )
        .values(claimed_at=now, updated_at=now)
    )
    return bool(result.rowcount)


async def pending_items(conn: AsyncConnection, order_id: str, limit: int) -> list[dict[str, Any]]:
    rows = await conn.execute(
        sa.select(bulk_update_items.c.position, bulk_update_items.c.phone_number)
        .where(bulk_update_items.c.order_id == order_id, bulk_update_items.c.status == "pending")
        .order_by(bulk_update_items.c.position)
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]


async def settle_items(
    conn: AsyncConnection,
    order_id: str,
    positions: Sequence[int],
    now: datetime,
    *,
    status: str,
    error_code: str | None = None,
    error_detail: str | None = None,
) -> None:
    """Set the outcome of several items at once (only those still pending)."""
    for start in range(0, len(positions), ITEM_CHUNK):
        await conn.execute(
            bulk_update_items.update()
            .where(
                bulk_update_items.c.order_id == order_id,
                bulk_update_items.c.position.in_(positions[start : start + ITEM_CHUNK]),
                bulk_update_items.c.status == "pending",
            )
            .values(status=status, error_code=error_code, error_detail=error_detail, updated_at=now)
        )


async def finish_order(conn: AsyncConnection, order_id: str, now: datetime) -> None:
    await conn.execute(
        bulk_update_orders.update()
        .where(bulk_update_orders.c.id == order_id)
        .values(status="done", completed_at=now, updated_at=now)  # claimed_by: who applied it
    )
