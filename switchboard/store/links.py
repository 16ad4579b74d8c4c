"""Short links of the URL shortener and their clicks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.schema import link_clicks, short_links


async def insert_links(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(short_links.insert(), list(rows))


async def get_link(conn: AsyncConnection, code: str) -> dict[str, Any] | None:
    row = (await conn.execute(sa.select(short_links).where(short_links.c.code == code))).first()
    return dict(row._mapping) if row else None


async def insert_click(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(link_clicks.insert().values(**values))
