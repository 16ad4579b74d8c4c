"""Accounts, API keys (stored as SHA-256 hashes) and webhook signing keys."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.schema import accounts, api_keys, signing_keys


def hash_key(key: str) -> str:
    """API keys are long random strings, so a fast unsalted hash is enough to store them."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


async def first_account(conn: AsyncConnection) -> dict[str, Any] | None:
    row = (await conn.execute(sa.select(accounts).order_by(accounts.c.created_at).limit(1))).first()
    return dict(row._mapping) if row else None


async def insert_account(conn: AsyncConnection, account_id: str, name: str, now: datetime) -> None:
    await conn.execute(accounts.insert().values(id=account_id, name=name, created_at=now))


async def insert_api_key(
    conn: AsyncConnection, key_id: str, account_id: str, key: str, label: str, now: datetime
) -> None:
    await conn.execute(
        api_keys.insert().values(
            id=key_id,
            account_id=account_id,
            label=label,
            prefix=key[:10],
            key_hash=hash_key(key),
            created_at=now,
        )
    )


async def account_for_key(conn: AsyncConnection, key: str) -> str | None:
    """The account a live (not revoked) key belongs to."""
    row = (
        await conn.execute(
            sa.select(api_keys.c.account_id).where(
                api_keys.c.key_hash == hash_key(key), api_keys.c.revoked_at.is_(None)
            )
        )
    ).first()
    return row[0] if row else None


async def key_exists(conn: AsyncConnection, key: str) -> bool:
    row = (
        await conn.execute(sa.select(api_keys.c.id).where(api_keys.c.key_hash == hash_key(key)))
    ).first()
    return row is not None


async def list_api_keys(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(sa.select(api_keys).order_by(api_keys.c.created_at))
    return [dict(r._mapping) for r in rows]


async def revoke_api_key(conn: AsyncConnection, key_id_or_prefix: str, now: datetime) -> int:
    result = await conn.execute(
        api_keys.update()
        .where(
            sa.or_(api_keys.c.id == key_id_or_prefix, api_keys.c.prefix == key_id_or_prefix),
            api_keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return result.rowcount or 0


async def active_signing_keys(conn: AsyncConnection, account_id: str) -> list[dict[str, Any]]:
    """Signing keys not yet retired, newest first."""
    rows = await conn.execute(
        sa.select(signing_keys)
        .where(signing_keys.c.account_id == account_id, signing_keys.c.retired_at.is_(None))
        .order_by(signing_keys.c.created_at.desc())
    )
    return [dict(r._mapping) for r in rows]


async def insert_signing_key(
    conn: AsyncConnection,
    key_id: str,
    account_id: str,
    seed_b64: str,
    public_key_b64: str,
    now: datetime,
) -> None:
    await conn.execute(
        signing_keys.insert().values(
            id=key_id,
            account_id=account_id,
            seed_b64=seed_b64,
            public_key_b64=public_key_b64,
            created_at=now,
        )
    )
