"""Aggregates over messages: profile metrics, daily spend, number health.

Everything is counted in SQL, over a time window that an index on
(profile | from | to, received_at) bounds; Python only reshapes the grouped rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.schema import messages, messaging_profiles

IN_CHUNK = 500


def _cost_sum() -> sa.ColumnElement[Any]:
    # Amounts are stored as decimal strings; NUMERIC is exact on PostgreSQL and a float
    # on SQLite (the service rounds to the money quantum).
    return sa.func.sum(sa.cast(messages.c.cost_amount, sa.Numeric(20, 6)))


def _interval_index(conn: AsyncConnection, start: datetime, seconds: int) -> sa.ColumnElement[Any]:
    """Which `seconds`-long interval since `start` (whole seconds) a message falls in."""
    offset = sa.extract("epoch", messages.c.received_at) - int(start.timestamp())
    if conn.dialect.name == "postgresql":
        return sa.cast(sa.func.floor(offset / seconds), sa.Integer)
    return offset // seconds  # SQLite: integer division of integer seconds


async def message_groups(
    conn: AsyncConnection,
    account_id: str,
    since: datetime,
    *,
    profile_id: str | None = None,
    interval_seconds: int | None = None,
) -> list[dict[str, Any]]:
    """Messages received since `since`, counted by profile, direction and status.

    With `interval_seconds`, also by interval of that length from `since` (key `interval`).
    Rows carry `messages`, `parts` and `cost` (the sum of `cost_amount`).
    """
    keys: list[sa.ColumnElement[Any]] = [
        messages.c.messaging_profile_id,
        messages.c.direction,
        messages.c.status,
    ]
    if interval_seconds:
        keys.append(_interval_index(conn, since, interval_seconds).label("interval"))
    query = sa.select(
        *keys,
        sa.func.count().label("messages"),
        sa.func.coalesce(sa.func.sum(messages.c.parts), 0).label("parts"),
        _cost_sum().label("cost"),
    ).where(messages.c.received_at >= since)
    if profile_id is not None:
        # The profile is the account's (the caller checked): its index bounds the scan.
        query = query.where(messages.c.messaging_profile_id == profile_id)
    else:
        query = query.where(
            messages.c.account_id == account_id, messages.c.messaging_profile_id.is_not(None)
        )
    rows = await conn.execute(query.group_by(*keys))
    return [dict(r._mapping) for r in rows]


async def all_profiles(conn: AsyncConnection, account_id: str) -> list[dict[str, Any]]:
    rows = await conn.execute(
        sa.select(messaging_profiles.c.id, messaging_profiles.c.name)
        .where(messaging_profiles.c.account_id == account_id)
        .order_by(messaging_profiles.c.created_at, messaging_profiles.c.id)
    )
    return [dict(r._mapping) for r in rows]


async def lock_profile(conn: AsyncConnection, profile_id: str) -> None:
    """Serialise spend checks of one profile until this transaction ends.

    PostgreSQL locks the profile row. SQLite has one writer: a no-op write takes the
    database's write lock now rather than at the message insert.
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(
            sa.select(messaging_profiles.c.id)
            .where(messaging_profiles.c.id == profile_id)
            .with_for_update()
        )
    else:
        await conn.execute(
            messaging_profiles.update()
            .where(messaging_profiles.c.id == profile_id)
            .values(updated_at=messaging_profiles.c.updated_at)
        )


async def outbound_spend(conn: AsyncConnection, profile_id: str, since: datetime) -> Any:
    """Sum of the cost of the profile's outbound messages accepted since `since`."""
    return (
        await conn.execute(
            sa.select(_cost_sum()).where(
                messages.c.messaging_profile_id == profile_id,
                messages.c.received_at >= since,
                messages.c.direction == "outbound",
            )
        )
    ).scalar_one()


async def number_traffic(
    conn: AsyncConnection,
    e164s: Sequence[str],
    since: datetime,
    *,
    finished_statuses: Sequence[str],
    spam_codes: Sequence[str],
) -> dict[str, dict[str, int]]:
    """Per number: outbound sent from it and inbound received on it since `since`.

    Keys: `outbound`, `inbound`, `finished` (outbound in a final status), `delivered`,
    `spam` (finished with one of `spam_codes` as its first error). Health belongs to the
    number (carriers judge the number), so the counts are by address alone, which keeps
    the reads on the (from | to, received_at) indexes. Callers pass only numbers the
    requesting account owns.
    """
    out: dict[str, dict[str, int]] = {
        n: {"outbound": 0, "inbound": 0, "finished": 0, "delivered": 0, "spam": 0} for n in e164s
    }
    finished = messages.c.status.in_(list(finished_statuses))
    first_error = messages.c.errors[(0, "code")].as_string()

    def flag(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    for start in range(0, len(e164s), IN_CHUNK):
        chunk = list(e164s[start : start + IN_CHUNK])
        outbound = await conn.execute(
            sa.select(
                messages.c.from_address,
                sa.func.count().label("outbound"),
                flag(finished).label("finished"),
                flag(messages.c.status == "delivered").label("delivered"),
                flag(sa.and_(finished, first_error.in_(list(spam_codes)))).label("spam"),
            )
            .where(
                messages.c.from_address.in_(chunk),
                messages.c.received_at >= since,
                messages.c.direction == "outbound",
            )
            .group_by(messages.c.from_address)
        )
        for row in outbound:
            counts = out[row.from_address]
            counts.update(
                outbound=int(row.outbound),
                finished=int(row.finished),
                delivered=int(row.delivered),
                spam=int(row.spam),
            )
        inbound = await conn.execute(
            sa.select(messages.c.to_address, sa.func.count().label("inbound"))
            .where(
                messages.c.to_address.in_(chunk),
                messages.c.received_at >= since,
                messages.c.direction == "inbound",
            )
            .group_by(messages.c.to_address)
        )
        for row in inbound:
            out[row.to_address]["inbound"] = int(row.inbound)
    return out
