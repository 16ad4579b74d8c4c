"""Senders' next free times (see domain/throughput.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.schema import sender_throughput

EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


async def lock_sender(conn: AsyncConnection, address: str) -> datetime | None:
    """The sender's next free time, locked until the transaction ends.

    The lock is taken with a write (a no-op update), so concurrent senders queue on it on
    both backends: a row lock on PostgreSQL, the write lock on SQLite. A sender seen for the
    first time gets its row first.
    """
    lock = (
        sender_throughput.update()
        .where(sender_throughput.c.address == address)
        .values(next_free_at=sender_throughput.c.next_free_at)
        .returning(sender_throughput.c.next_free_at)
    )
    value = (await conn.execute(lock)).scalar_one_or_none()
    if value is None:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        await conn.execute(
            dialect.insert(sender_throughput)
            .values(address=address, next_free_at=EPOCH)
            .on_conflict_do_nothing(index_elements=["address"])
        )
        value = (await conn.execute(lock)).scalar_one()
    return None if value is None or value <= EPOCH else value


async def set_next_free(conn: AsyncConnection, address: str, next_free_at: datetime) -> None:
    await conn.execute(
        sender_throughput.update()
        .where(sender_throughput.c.address == address)
        .values(next_free_at=next_free_at)
    )
