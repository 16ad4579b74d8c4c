"""Senders' next free times (see domain/throughput.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.prepared import Prepared
from switchboard.store.schema import sender_throughput

EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


async def lock_sender(conn: AsyncConnection, address: str) -> datetime | None:
    """The sender's next free time, locked until the transaction ends.

    The lock is taken with a write (an upsert that changes nothing), so concurrent senders
    queue on it on both backends: a row lock on PostgreSQL, the write lock on SQLite. A
    sender seen for the first time gets its row in the same statement.
    """
    lock = _LOCKS[conn.dialect.name]
    value = await lock.scalar(conn, {"address": address, "epoch": EPOCH})
    return None if value is None or value <= EPOCH else value


def _lock_statement(dialect: Any) -> Any:
    insert = dialect.insert(sender_throughput).values(
        address=sa.bindparam("address"), next_free_at=sa.bindparam("epoch")
    )
    return insert.on_conflict_do_update(
        index_elements=["address"],
        set_={"next_free_at": sender_throughput.c.next_free_at},
    ).returning(sender_throughput.c.next_free_at)


# Run by every accept batch: built once per backend and run on the driver (store/prepared.py).
_LOCKS = {
    "postgresql": Prepared(_lock_statement(postgresql)),
    "sqlite": Prepared(_lock_statement(sqlite)),
}


async def set_next_free(conn: AsyncConnection, next_free: dict[str, datetime | None]) -> None:
    """Store the senders' new next free times (one statement for all of them)."""
    for address, value in sorted(next_free.items()):
        if value is not None:
            await _SET_NEXT_FREE.run(conn, {"b_address": address, "b_next_free_at": value})


# A batch mostly has one sender or a few: one prepared statement each, run on the driver.
_SET_NEXT_FREE = Prepared(
    sender_throughput.update()
    .where(sender_throughput.c.address == sa.bindparam("b_address"))
    .values(
        next_free_at=sa.bindparam("b_next_free_at", type_=sender_throughput.c.next_free_at.type)
    )
)
