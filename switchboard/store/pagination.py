"""Counting and slicing a query into one page."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


async def fetch_page(
    conn: AsyncConnection, query: sa.Select[Any], page_number: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    """Rows of one page and the total count of the unpaged query."""
    total = (
        await conn.execute(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    ).scalar_one()
    rows = await conn.execute(query.limit(page_size).offset((page_number - 1) * page_size))
    return [dict(r._mapping) for r in rows], int(total)
