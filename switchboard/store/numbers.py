"""Phone numbers and number orders."""

from __future__ import annotations

from collections.abc import Sequence
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


IN_CHUNK = 500  # values per `IN (...)`: well under every backend's bound-parameter limit


def _chunks(values: Sequence[str]) -> list[Sequence[str]]:
    return [values[i : i + IN_CHUNK] for i in range(0, len(values), IN_CHUNK)]


async def taken_numbers(conn: AsyncConnection, e164s: Sequence[str]) -> set[str]:
    """Which of these numbers any account already has."""
    taken: set[str] = set()
    for chunk in _chunks(e164s):
        rows = await conn.execute(
            sa.select(phone_numbers.c.phone_number).where(phone_numbers.c.phone_number.in_(chunk))
        )
        taken.update(r[0] for r in rows)
    return taken


async def insert_numbers(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(phone_numbers.insert(), list(rows))


async def owned_numbers(
    conn: AsyncConnection, account_id: str, e164s: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The account's numbers among `e164s`, by E.164 (id, kind and status only)."""
    owned: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(e164s):
        rows = await conn.execute(
            sa.select(
                phone_numbers.c.id,
                phone_numbers.c.phone_number,
                phone_numbers.c.number_kind,
                phone_numbers.c.status,
            ).where(
                phone_numbers.c.account_id == account_id, phone_numbers.c.phone_number.in_(chunk)
            )
        )
        owned.update({r.phone_number: dict(r._mapping) for r in rows})
    return owned


async def assign_numbers(
    conn: AsyncConnection, account_id: str, number_ids: Sequence[str], values: dict[str, Any]
) -> None:
    """One UPDATE for many numbers of the account (ids in ascending order lock predictably)."""
    for chunk in _chunks(sorted(number_ids)):
        await conn.execute(
            phone_numbers.update()
            .where(phone_numbers.c.account_id == account_id, phone_numbers.c.id.in_(chunk))
            .values(**values)
        )


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
    phone_number_type: str | None = None,
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
    if phone_number_type:
        query = query.where(phone_numbers.c.phone_number_type == phone_number_type)
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
