"""Auto-response configs of messaging profiles (custom keywords and replies)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.schema import autoresp_configs


async def insert(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(autoresp_configs.insert().values(**values))


async def get(
    conn: AsyncConnection, account_id: str, profile_id: str, config_id: str
) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            sa.select(autoresp_configs).where(
                autoresp_configs.c.account_id == account_id,
                autoresp_configs.c.messaging_profile_id == profile_id,
                autoresp_configs.c.id == config_id,
            )
        )
    ).first()
    return dict(row._mapping) if row else None


async def update(conn: AsyncConnection, config_id: str, values: dict[str, Any]) -> None:
    await conn.execute(
        autoresp_configs.update().where(autoresp_configs.c.id == config_id).values(**values)
    )


async def delete(conn: AsyncConnection, config_id: str) -> None:
    await conn.execute(autoresp_configs.delete().where(autoresp_configs.c.id == config_id))


async def list_for_profile(
    conn: AsyncConnection,
    profile_id: str,
    *,
    country_code: str | None = None,
    created_gte: datetime | None = None,
    created_lte: datetime | None = None,
    updated_gte: datetime | None = None,
    updated_lte: datetime | None = None,
) -> list[dict[str, Any]]:
    query = sa.select(autoresp_configs).where(autoresp_configs.c.messaging_profile_id == profile_id)
    if country_code is not None:
        query = query.where(autoresp_configs.c.country_code == country_code)
    if created_gte is not None:
        query = query.where(autoresp_configs.c.created_at >= created_gte)
    if created_lte is not None:
        query = query.where(autoresp_configs.c.created_at <= created_lte)
    if updated_gte is not None:
        query = query.where(autoresp_configs.c.updated_at >= updated_gte)
    if updated_lte is not None:
        query = query.where(autoresp_configs.c.updated_at <= updated_lte)
    rows = await conn.execute(query.order_by(autoresp_configs.c.created_at, autoresp_configs.c.id))
    return [dict(r._mapping) for r in rows]
