"""Idempotency-Key records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.schema import idempotency_keys


async def find(
    conn: AsyncConnection, account_id: str, key: str, method: str, path: str
) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            sa.select(idempotency_keys).where(
                idempotency_keys.c.account_id == account_id,
                idempotency_keys.c.key == key,
                idempotency_keys.c.method == method,
                idempotency_keys.c.path == path,
            )
        )
    ).first()
    return dict(row._mapping) if row else None


async def insert_if_absent(conn: AsyncConnection, values: dict[str, Any]) -> bool:
    """Insert a record unless one with the same scope exists; True when this one went in.

    On PostgreSQL a concurrent insert of the same scope waits for the other transaction and
    then does nothing, so exactly one request wins.
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(idempotency_keys)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["account_id", "key", "method", "path"])
    )
    result = await conn.execute(statement)
    return bool(result.rowcount)


async def delete(conn: AsyncConnection, record_id: str, *, state: str | None = None) -> bool:
    query = idempotency_keys.delete().where(idempotency_keys.c.id == record_id)
    if state is not None:
        query = query.where(idempotency_keys.c.state == state)
    result = await conn.execute(query)
    return bool(result.rowcount)


async def complete(conn: AsyncConnection, record_id: str, status: int, body: str) -> bool:
    """Store the response of an in-flight record; False if the record is no longer ours."""
    result = await conn.execute(
        idempotency_keys.update()
        .where(idempotency_keys.c.id == record_id, idempotency_keys.c.state == "in_flight")
        .values(state="done", response_status=status, response_body=body)
    )
    return bool(result.rowcount)


async def delete_expired(conn: AsyncConnection, now: datetime, limit: int = 10_000) -> int:
    expired = (
        sa.select(idempotency_keys.c.id)
        .where(idempotency_keys.c.expires_at <= now)
        .limit(limit)
        .scalar_subquery()
    )
    result = await conn.execute(idempotency_keys.delete().where(idempotency_keys.c.id.in_(expired)))
    return int(result.rowcount or 0)
