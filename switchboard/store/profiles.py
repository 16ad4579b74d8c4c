"""Messaging profiles."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.pagination import fetch_page
from switchboard.store.prepared import Prepared
from switchboard.store.schema import messaging_profiles, phone_numbers


async def insert_profile(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(messaging_profiles.insert().values(**values))


# Built once and run on the driver: workers read a profile for every batch of status changes.
_PROFILE = Prepared(
    sa.select(messaging_profiles).where(
        messaging_profiles.c.account_id == sa.bindparam("account_id"),
        messaging_profiles.c.id == sa.bindparam("profile_id"),
    )
)


async def get_profile(
    conn: AsyncConnection, account_id: str, profile_id: str
) -> dict[str, Any] | None:
    rows = await _PROFILE.rows(conn, {"account_id": account_id, "profile_id": profile_id})
    return rows[0] if rows else None


async def update_profile(
    conn: AsyncConnection, account_id: str, profile_id: str, values: dict[str, Any]
) -> None:
    await conn.execute(
        messaging_profiles.update()
        .where(messaging_profiles.c.account_id == account_id, messaging_profiles.c.id == profile_id)
        .values(**values)
    )


async def delete_profile(conn: AsyncConnection, account_id: str, profile_id: str) -> None:
    await conn.execute(
        messaging_profiles.delete().where(
            messaging_profiles.c.account_id == account_id, messaging_profiles.c.id == profile_id
        )
    )


async def count_numbers(conn: AsyncConnection, account_id: str, profile_id: str) -> int:
    return int(
        (
            await conn.execute(
                sa.select(sa.func.count()).where(
                    phone_numbers.c.account_id == account_id,
                    phone_numbers.c.messaging_profile_id == profile_id,
                )
            )
        ).scalar_one()
    )


async def list_profiles(
    conn: AsyncConnection,
    account_id: str,
    *,
    name_eq: str | None,
    name_contains: str | None,
    page_number: int,
    page_size: int,
) -> tuple[list[dict[str, Any]], int]:
    query = sa.select(messaging_profiles).where(messaging_profiles.c.account_id == account_id)
    if name_eq is not None:
        query = query.where(messaging_profiles.c.name == name_eq)
    if name_contains is not None:
        query = query.where(messaging_profiles.c.name.contains(name_contains, autoescape=True))
    query = query.order_by(messaging_profiles.c.created_at, messaging_profiles.c.id)
    return await fetch_page(conn, query, page_number, page_size)
