"""Carrier status snapshots written by workers, read by the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.schema import carrier_status


async def save_status(
    conn: AsyncConnection, worker_id: str, snapshot: dict[str, Any], now: datetime
) -> None:
    """Replace this worker's rows (delete + insert: the same SQL on SQLite and PostgreSQL)."""
    await conn.execute(carrier_status.delete().where(carrier_status.c.worker_id == worker_id))
    if snapshot:
        await conn.execute(
            carrier_status.insert(),
            [
                {"worker_id": worker_id, "carrier": name, "status": status, "updated_at": now}
                for name, status in snapshot.items()
            ],
        )


async def all_status(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(
        sa.select(carrier_status).order_by(carrier_status.c.carrier, carrier_status.c.worker_id)
    )
    return [dict(r._mapping) for r in rows]
