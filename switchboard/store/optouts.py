"""Opt-out block rules, one per (messaging profile, destination)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.executemany import dialect_insert
from switchboard.store.pagination import fetch_page
from switchboard.store.prepared import Prepared
from switchboard.store.schema import messages, opt_outs


async def blocked_pairs(conn: AsyncConnection, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (messaging profile, destination) pairs of `pairs` have a block rule."""
    if not pairs:
        return set()
    rows = await _BLOCKED_PAIRS.rows(conn, {"pairs": sorted(pairs)})
    return {(r["messaging_profile_id"], r["to_address"]) for r in rows}


# Run by every accept batch: built once and run on the driver (store/prepared.py).
_BLOCKED_PAIRS = Prepared(
    sa.select(opt_outs.c.messaging_profile_id, opt_outs.c.to_address).where(
        sa.tuple_(opt_outs.c.messaging_profile_id, opt_outs.c.to_address).in_(
            sa.bindparam("pairs", expanding=True)
        )
    )
)


async def add(conn: AsyncConnection, values: dict[str, Any]) -> bool:
    """Insert a block unless one exists for the same profile and destination; True if new.

    Two opt-outs racing for the same block both succeed: the second insert does nothing.
    """
    result = await conn.execute(
        dialect_insert(conn.dialect)(opt_outs)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["messaging_profile_id", "to_address"])
    )
    return bool(result.rowcount)


async def remove(conn: AsyncConnection, messaging_profile_id: str, to_address: str) -> int:
    result = await conn.execute(
        opt_outs.delete().where(
            opt_outs.c.messaging_profile_id == messaging_profile_id,
            opt_outs.c.to_address == to_address,
        )
    )
    return int(result.rowcount or 0)


async def list_opt_outs(
    conn: AsyncConnection,
    account_id: str,
    *,
    messaging_profile_id: str | None,
    from_address: str | None,
    created_gte: datetime | None,
    created_lte: datetime | None,
    page_number: int,
    page_size: int,
) -> tuple[list[dict[str, Any]], int]:
    query = sa.select(opt_outs).where(opt_outs.c.account_id == account_id)
    if messaging_profile_id is not None:
        query = query.where(opt_outs.c.messaging_profile_id == messaging_profile_id)
    if from_address is not None:
        query = query.where(opt_outs.c.from_address == from_address)
    if created_gte is not None:
        query = query.where(opt_outs.c.created_at >= created_gte)
    if created_lte is not None:
        query = query.where(opt_outs.c.created_at <= created_lte)
    query = query.order_by(opt_outs.c.created_at.desc(), opt_outs.c.id.desc())
    return await fetch_page(conn, query, page_number, page_size)


async def scheduled_to(
    conn: AsyncConnection, messaging_profile_id: str, to_address: str
) -> list[dict[str, Any]]:
    """Scheduled messages of a profile to one destination (cancelled when it opts out)."""
    rows = await conn.execute(
        sa.select(messages)
        .where(
            messages.c.status == "scheduled",
            messages.c.direction == "outbound",
            messages.c.messaging_profile_id == messaging_profile_id,
            messages.c.to_address == to_address,
        )
        .with_for_update()
    )
    return [dict(r._mapping) for r in rows]
