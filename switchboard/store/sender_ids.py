"""Short codes and alphanumeric sender ids of an account."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.pagination import fetch_page
from switchboard.store.schema import alphanumeric_sender_ids, short_codes

# --- short codes --------------------------------------------------------------------------


async def short_code_taken(conn: AsyncConnection, short_code: str, country_code: str) -> bool:
    row = (
        await conn.execute(
            sa.select(short_codes.c.id).where(
                short_codes.c.short_code == short_code,
                short_codes.c.country_code == country_code,
            )
        )
    ).first()
    return row is not None


async def insert_short_code(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(short_codes.insert().values(**values))


async def get_short_code(
    conn: AsyncConnection, account_id: str, short_code_id: str
) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            sa.select(short_codes).where(
                short_codes.c.account_id == account_id, short_codes.c.id == short_code_id
            )
        )
    ).first()
    return dict(row._mapping) if row else None


async def find_short_code(
    conn: AsyncConnection, account_id: str, short_code: str
) -> dict[str, Any] | None:
    """The account's short code with these digits (any country; the first if several)."""
    row = (
        await conn.execute(
            sa.select(short_codes)
            .where(short_codes.c.account_id == account_id, short_codes.c.short_code == short_code)
            .order_by(short_codes.c.created_at)
            .limit(1)
        )
    ).first()
    return dict(row._mapping) if row else None


async def list_short_codes(
    conn: AsyncConnection,
    account_id: str,
    *,
    messaging_profile_id: str | None,
    unassigned: bool,
    page_number: int,
    page_size: int,
) -> tuple[list[dict[str, Any]], int]:
    query = sa.select(short_codes).where(short_codes.c.account_id == account_id)
    if unassigned:
        query = query.where(short_codes.c.messaging_profile_id.is_(None))
    elif messaging_profile_id is not None:
        query = query.where(short_codes.c.messaging_profile_id == messaging_profile_id)
    query = query.order_by(short_codes.c.created_at, short_codes.c.id)
    return await fetch_page(conn, query, page_number, page_size)


async def update_short_code(
    conn: AsyncConnection, account_id: str, short_code_id: str, values: dict[str, Any]
) -> None:
    await conn.execute(
        short_codes.update()
        .where(short_codes.c.account_id == account_id, short_codes.c.id == short_code_id)
        .values(**values)
    )


# --- alphanumeric sender ids --------------------------------------------------------------


async def insert_alphanumeric(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(alphanumeric_sender_ids.insert().values(**values))


async def get_alphanumeric(
    conn: AsyncConnection, account_id: str, record_id: str
) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            sa.select(alphanumeric_sender_ids).where(
                alphanumeric_sender_ids.c.account_id == account_id,
                alphanumeric_sender_ids.c.id == record_id,
            )
        )
    ).first()
    return dict(row._mapping) if row else None


async def find_alphanumeric(
    conn: AsyncConnection, account_id: str, profile_id: str, sender_id: str
) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            sa.select(alphanumeric_sender_ids).where(
                alphanumeric_sender_ids.c.account_id == account_id,
                alphanumeric_sender_ids.c.messaging_profile_id == profile_id,
                alphanumeric_sender_ids.c.alphanumeric_sender_id == sender_id,
            )
        )
    ).first()
    return dict(row._mapping) if row else None


async def list_alphanumeric(
    conn: AsyncConnection,
    account_id: str,
    *,
    messaging_profile_id: str | None,
    page_number: int,
    page_size: int,
) -> tuple[list[dict[str, Any]], int]:
    query = sa.select(alphanumeric_sender_ids).where(
        alphanumeric_sender_ids.c.account_id == account_id
    )
    if messaging_profile_id is not None:
        query = query.where(alphanumeric_sender_ids.c.messaging_profile_id == messaging_profile_id)
    query = query.order_by(alphanumeric_sender_ids.c.created_at, alphanumeric_sender_ids.c.id)
    return await fetch_page(conn, query, page_number, page_size)


async def delete_alphanumeric(conn: AsyncConnection, account_id: str, record_id: str) -> None:
    await conn.execute(
        alphanumeric_sender_ids.delete().where(
            alphanumeric_sender_ids.c.account_id == account_id,
            alphanumeric_sender_ids.c.id == record_id,
        )
    )
