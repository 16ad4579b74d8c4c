"""Auto-response configs: a profile's own keywords and replies, per sender country."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.domain.clock import utcnow
from switchboard.domain.errors import ApiError
from switchboard.domain.ids import is_uuid, new_id
from switchboard.domain.keywords import Rule
from switchboard.services.profiles import not_found
from switchboard.services.runtime import Runtime
from switchboard.store import autoresp as autoresp_store
from switchboard.store import profiles as profile_store


@dataclass(frozen=True)
class ConfigFields:
    op: str
    keywords: list[str]
    country_code: str
    resp_text: str | None


def _missing_config() -> ApiError:
    return not_found("auto-response config")


async def _check_profile(conn: AsyncConnection, account_id: str, profile_id: str) -> None:
    if not is_uuid(profile_id) or not await profile_store.get_profile(conn, account_id, profile_id):
        raise not_found()


async def create(
    rt: Runtime, account_id: str, profile_id: str, fields: ConfigFields
) -> dict[str, Any]:
    now = utcnow()
    values = {
        "id": new_id(),
        "account_id": account_id,
        "messaging_profile_id": profile_id,
        "op": fields.op,
        "keywords": fields.keywords,
        "country_code": fields.country_code,
        "resp_text": fields.resp_text,
        "created_at": now,
        "updated_at": now,
    }
    async with rt.transaction() as conn:
        await _check_profile(conn, account_id, profile_id)
        await autoresp_store.insert(conn, values)
    return values


async def get(rt: Runtime, account_id: str, profile_id: str, config_id: str) -> dict[str, Any]:
    async with rt.read() as conn:
        await _check_profile(conn, account_id, profile_id)
        row = (
            await autoresp_store.get(conn, account_id, profile_id, config_id)
            if is_uuid(config_id)
            else None
        )
    if row is None:
        raise _missing_config()
    return row


async def replace(
    rt: Runtime, account_id: str, profile_id: str, config_id: str, fields: ConfigFields
) -> dict[str, Any]:
    """PUT: every field replaced (a missing `resp_text` clears it)."""
    async with rt.transaction() as conn:
        await _check_profile(conn, account_id, profile_id)
        row = (
            await autoresp_store.get(conn, account_id, profile_id, config_id)
            if is_uuid(config_id)
            else None
        )
        if row is None:
            raise _missing_config()
        values = {
            "op": fields.op,
            "keywords": fields.keywords,
            "country_code": fields.country_code,
            "resp_text": fields.resp_text,
            "updated_at": utcnow(),
        }
        await autoresp_store.update(conn, config_id, values)
    return {**row, **values}


async def delete(rt: Runtime, account_id: str, profile_id: str, config_id: str) -> None:
    async with rt.transaction() as conn:
        await _check_profile(conn, account_id, profile_id)
        row = (
            await autoresp_store.get(conn, account_id, profile_id, config_id)
            if is_uuid(config_id)
            else None
        )
        if row is None:
            raise _missing_config()
        await autoresp_store.delete(conn, config_id)


async def list_configs(
    rt: Runtime,
    account_id: str,
    profile_id: str,
    *,
    country_code: str | None = None,
    created_gte: datetime | None = None,
    created_lte: datetime | None = None,
    updated_gte: datetime | None = None,
    updated_lte: datetime | None = None,
) -> list[dict[str, Any]]:
    async with rt.read() as conn:
        await _check_profile(conn, account_id, profile_id)
        return await autoresp_store.list_for_profile(
            conn,
            profile_id,
            country_code=country_code,
            created_gte=created_gte,
            created_lte=created_lte,
            updated_gte=updated_gte,
            updated_lte=updated_lte,
        )


async def rules_for(conn: AsyncConnection, profile_id: str) -> list[Rule]:
    """The profile's configs as keyword rules (for inbound keyword matching)."""
    return [
        Rule(
            op=row["op"],
            keywords=list(row["keywords"] or []),
            country_code=row["country_code"],
            resp_text=row["resp_text"],
        )
        for row in await autoresp_store.list_for_profile(conn, profile_id)
    ]
