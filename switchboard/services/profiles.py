"""Messaging profiles: create, read, update, delete, list."""

from __future__ import annotations

import secrets
from typing import Any

from switchboard.domain import errors
from switchboard.domain.clock import utcnow
from switchboard.domain.errors import ApiError
from switchboard.domain.ids import is_uuid, new_id
from switchboard.services.runtime import Runtime
from switchboard.store import profiles as profile_store

PROFILE_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "webhook_url": "",
    "webhook_failover_url": "",
    "webhook_api_version": "2",
    "number_pool_settings": None,
    "url_shortener_settings": None,
    "alpha_sender": None,
    "daily_spend_limit": None,
    "daily_spend_limit_enabled": False,
    "mms_fall_back_to_sms": False,
    "mms_transcoding": False,
    "mobile_only": False,
    "smart_encoding": False,
    "redaction_enabled": False,
    "redaction_level": 2,
    "features": None,
    "ai_assistant_id": None,
    "resource_group_id": None,
    "health_webhook_url": None,
}


def _new_secret() -> str:
    return secrets.token_urlsafe(18)


def not_found(what: str = "messaging profile") -> ApiError:
    return ApiError(errors.NOT_FOUND, f"The requested {what} could not be found.")


async def create_profile(rt: Runtime, account_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    now = utcnow()
    values = {
        **PROFILE_DEFAULTS,
        **fields,
        "id": new_id(),
        "account_id": account_id,
        "v1_secret": _new_secret(),
        "created_at": now,
        "updated_at": now,
    }
    async with rt.transaction() as conn:
        await profile_store.insert_profile(conn, values)
        row = await profile_store.get_profile(conn, account_id, values["id"])
    assert row is not None
    return row


async def get_profile(rt: Runtime, account_id: str, profile_id: str) -> dict[str, Any]:
    if not is_uuid(profile_id):
        raise not_found()
    async with rt.read() as conn:
        row = await profile_store.get_profile(conn, account_id, profile_id)
    if row is None:
        raise not_found()
    return row


async def update_profile(
    rt: Runtime, account_id: str, profile_id: str, fields: dict[str, Any]
) -> dict[str, Any]:
    if not is_uuid(profile_id):
        raise not_found()
    async with rt.transaction() as conn:
        if await profile_store.get_profile(conn, account_id, profile_id) is None:
            raise not_found()
        await profile_store.update_profile(
            conn, account_id, profile_id, {**fields, "updated_at": utcnow()}
        )
        row = await profile_store.get_profile(conn, account_id, profile_id)
    assert row is not None
    return row


async def regenerate_secret(rt: Runtime, account_id: str, profile_id: str) -> dict[str, Any]:
    return await update_profile(rt, account_id, profile_id, {"v1_secret": _new_secret()})


async def delete_profile(rt: Runtime, account_id: str, profile_id: str) -> dict[str, Any]:
    """Delete a profile with no numbers assigned; with numbers it is refused (DECISIONS 12)."""
    if not is_uuid(profile_id):
        raise not_found()
    async with rt.transaction() as conn:
        row = await profile_store.get_profile(conn, account_id, profile_id)
        if row is None:
            raise not_found()
        count = await profile_store.count_numbers(conn, account_id, profile_id)
        if count:
            raise ApiError(
                errors.RESOURCE_IN_USE,
                f"The messaging profile still has {count} phone number(s) assigned; "
                "unassign them first.",
            )
        await profile_store.delete_profile(conn, account_id, profile_id)
    return row


async def list_profiles(
    rt: Runtime,
    account_id: str,
    *,
    name_eq: str | None,
    name_contains: str | None,
    page_number: int,
    page_size: int,
) -> tuple[list[dict[str, Any]], int]:
    async with rt.read() as conn:
        return await profile_store.list_profiles(
            conn,
            account_id,
            name_eq=name_eq,
            name_contains=name_contains,
            page_number=page_number,
            page_size=page_size,
        )
