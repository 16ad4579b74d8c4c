"""Phone numbers and number orders."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.pagination import fetch_page
from switchboard.store.schema import messaging_profiles, number_orders, phone_numbers


async def number_taken(conn: AsyncConnection, e164: str) -> bool:
    row = (
        await conn.execute(
            sa.select(phone_numbers.c.id).where(phone_numbers.c.phone_number == e164)
        )
    ).first()
    return row is not None


async def insert_number(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(phone_numbers.insert().values(**values))


async def insert_order(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(number_orders.insert().values(**values))


async def get_order(conn: AsyncConnection, account_id: str, order_id: str) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            sa.select(number_orders).where(
                number_orders.c.account_id == account_id, number_orders.c.id == order_id
            )
        )
    ).first()
    return dict(row._mapping) if row else None


def _with_profile_name() -> sa.Select[Any]:
    return sa.select(phone_numbers, messaging_profiles.c.name.label("messaging_profile_name")).join(
        messaging_profiles,
        messaging_profiles.c.id == phone_numbers.c.messaging_profile_id,
        isouter=True,
    )


async def get_number(
    conn: AsyncConnection, account_id: str, id_or_e164: str
) -> dict[str, Any] | None:
    """A number of the account, by its id or its E.164 value."""
    row = (
        await conn.execute(
            _with_profile_name().where(
                phone_numbers.c.account_id == account_id,
                sa.or_(
                    phone_numbers.c.id == id_or_e164, phone_numbers.c.phone_number == id_or_e164
                ),
            )
        )
    ).first()
    return dict(row._mapping) if row else None


async def find_number(conn: AsyncConnection, e164: str) -> dict[str, Any] | None:
    """Any account's number (inbound routing, sender checks)."""
    row = (
        await conn.execute(_with_profile_name().where(phone_numbers.c.phone_number == e164))
    ).first()
    return dict(row._mapping) if row else None


async def list_numbers(
    conn: AsyncConnection,
    account_id: str,
    *,
    phone_numbers_in: list[str] | None = None,
    phone_number_contains: str | None = None,
    messaging_profile_id: str | None = None,
    number_kind: str | None = None,
    sort_phone_number: str | None = None,
    page_number: int,
    page_size: int,
) -> tuple[list[dict[str, Any]], int]:
    query = _with_profile_name().where(phone_numbers.c.account_id == account_id)
    if phone_numbers_in:
        query = query.where(phone_numbers.c.phone_number.in_(phone_numbers_in))
    if phone_number_contains:
        query = query.where(
            phone_numbers.c.phone_number.contains(phone_number_contains, autoescape=True)
        )
    if messaging_profile_id:
        query = query.where(phone_numbers.c.messaging_profile_id == messaging_profile_id)
    if number_kind:
        query = query.where(phone_numbers.c.number_kind == number_kind)
    if sort_phone_number == "desc":
        query = query.order_by(phone_numbers.c.phone_number.desc())
    elif sort_phone_number == "asc":
        query = query.order_by(phone_numbers.c.phone_number)
    else:
        query = query.order_by(phone_numbers.c.created_at, phone_numbers.c.id)
    return await fetch_page(conn, query, page_number, page_size)


async def update_number(
    conn: AsyncConnection, account_id: str, number_id: str, values: dict[str, Any]
) -> None:
    await conn.execute(
        phone_numbers.update()
        .where(phone_numbers.c.account_id == account_id, phone_numbers.c.id == number_id)
        .values(**values)
    )


async def sandbox_numbers(conn: AsyncConnection, account_id: str) -> list[str]:
    rows = await conn.execute(
        sa.select(phone_numbers.c.phone_number)
        .where(phone_numbers.c.account_id == account_id)
        .order_by(phone_numbers.c.created_at)
    )
    return [r[0] for r in rows]
