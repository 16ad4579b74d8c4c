"""Accounts, API keys and the first-start set-up of the default account."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.domain.clock import utcnow
from switchboard.domain.ids import new_id
from switchboard.services.runtime import Runtime
from switchboard.store import accounts as account_store
from switchboard.webhooks.signing import (
    generate_seed,
    load_seed_b64,
    public_key_b64,
    seed_to_b64,
)


def generate_api_key() -> str:
    """`KEY` + 32 hex characters + `_` + 22 random characters, like a Telnyx v2 key."""
    return f"KEY{secrets.token_hex(16).upper()}_{secrets.token_urlsafe(16)}"


@dataclass(frozen=True)
class StartupInfo:
    account_id: str
    new_api_key: str | None  # shown once, only when generated now
    configured_api_key: str | None
    webhook_public_key: str


async def ensure_default_account(rt: Runtime) -> StartupInfo:
    """Create the default account, its first key and its signing key if missing."""
    settings = rt.settings
    now = utcnow()
    new_key: str | None = None
    async with rt.transaction() as conn:
        account = await account_store.first_account(conn)
        if account is None:
            account_id = new_id()
            await account_store.insert_account(conn, account_id, "Default account", now)
            if not settings.api_key:
                new_key = generate_api_key()
                await account_store.insert_api_key(
                    conn, new_id(), account_id, new_key, "generated at first start", now
                )
        else:
            account_id = account["id"]
        if settings.api_key and not await account_store.key_exists(conn, settings.api_key):
            await account_store.insert_api_key(
                conn, new_id(), account_id, settings.api_key, "SWITCHBOARD_API_KEY", now
            )
        public_key = await _ensure_signing_key(conn, account_id, settings.webhook_signing_key)
    return StartupInfo(account_id, new_key, settings.api_key, public_key)


async def _ensure_signing_key(
    conn: AsyncConnection, account_id: str, configured: str | None
) -> str:
    if configured:
        return public_key_b64(load_seed_b64(configured))
    keys = await account_store.active_signing_keys(conn, account_id)
    if keys:
        return str(keys[0]["public_key_b64"])
    seed = generate_seed()
    public = public_key_b64(seed)
    await account_store.insert_signing_key(
        conn, new_id(), account_id, seed_to_b64(seed), public, utcnow()
    )
    return public


async def authenticate(rt: Runtime, key: str) -> str | None:
    async with rt.read() as conn:
        return await account_store.account_for_key(conn, key)


async def create_account(rt: Runtime, name: str) -> tuple[str, str]:
    """A new, empty account and its first API key (operators hosting several tenants)."""
    account_id, key, now = new_id(), generate_api_key(), utcnow()
    async with rt.transaction() as conn:
        await account_store.insert_account(conn, account_id, name, now)
        await account_store.insert_api_key(conn, new_id(), account_id, key, "first key", now)
        await _ensure_signing_key(conn, account_id, rt.settings.webhook_signing_key)
    return account_id, key


async def create_api_key(rt: Runtime, label: str) -> str:
    key = generate_api_key()
    async with rt.transaction() as conn:
        account = await account_store.first_account(conn)
        if account is None:
            raise RuntimeError("no account yet: run `switchboard serve` or `migrate` first")
        await account_store.insert_api_key(conn, new_id(), account["id"], key, label, utcnow())
    return key


async def list_api_keys(rt: Runtime) -> list[dict[str, object]]:
    async with rt.read() as conn:
        return await account_store.list_api_keys(conn)


async def revoke_api_key(rt: Runtime, key_id_or_prefix: str) -> int:
    async with rt.transaction() as conn:
        return await account_store.revoke_api_key(conn, key_id_or_prefix, utcnow())
