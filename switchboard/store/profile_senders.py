"""Senders of a messaging profile besides its phone numbers: short codes, alphanumeric ids.

The tables behind them (`short_codes`, `alphanumeric_sender_ids`) belong to their own
feature. Until one exists in `schema.metadata`, its profile listing is an empty page;
once it does, the listing reads it, provided the table has the usual columns: `id`,
`account_id`, `messaging_profile_id` and `created_at`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.pagination import fetch_page
from switchboard.store.schema import metadata

SHORT_CODES = "short_codes"
ALPHANUMERIC_SENDER_IDS = "alphanumeric_sender_ids"


async def list_for_profile(
    conn: AsyncConnection,
    table_name: str,
    account_id: str,
    profile_id: str,
    *,
    page_number: int,
    page_size: int,
) -> tuple[list[dict[str, Any]], int]:
    table = metadata.tables.get(table_name)
    if table is None:
        return [], 0
    query = (
        sa.select(table)
        .where(table.c.account_id == account_id, table.c.messaging_profile_id == profile_id)
        .order_by(table.c.created_at, table.c.id)
    )
    return await fetch_page(conn, query, page_number, page_size)
