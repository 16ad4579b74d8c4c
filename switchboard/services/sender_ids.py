"""Short codes and alphanumeric sender ids: create (sandbox), read, assign, delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.domain import errors
from switchboard.domain.clock import utcnow
from switchboard.domain.errors import ApiError
from switchboard.domain.ids import is_uuid, new_id
from switchboard.domain.phone import (
    SHORT_CODE_SHAPE,
    InvalidNumber,
    is_alphanumeric_sender,
    parse_e164,
)
from switchboard.services.profiles import not_found
from switchboard.services.runtime import Runtime
from switchboard.store import numbers as number_store
from switchboard.store import profiles as profile_store
from switchboard.store import sender_ids as store


async def _profile_id(conn: AsyncConnection, account_id: str, profile_id: str | None) -> None:
    if profile_id is None:
        return
    if (
        not is_uuid(profile_id)
        or await profile_store.get_profile(conn, account_id, profile_id) is None
    ):
        raise ApiError(
            errors.ASSOCIATED_NOT_FOUND,
            "The messaging profile does not exist.",
            pointer="/messaging_profile_id",
        )


# --- short codes --------------------------------------------------------------------------


async def create_short_code(
    rt: Runtime,
    account_id: str,
    *,
    short_code: str,
    country_code: str,
    messaging_profile_id: str | None,
    tags: list[str],
) -> dict[str, Any]:
    """Give the account a short code (the sandbox's stand-in for a carrier's provisioning)."""
    if not SHORT_CODE_SHAPE.match(short_code):
        raise ApiError(
            errors.INVALID_PARAMETER,
            "short_code must be 3 to 8 digits.",
            pointer="/short_code",
        )
    now = utcnow()
    values = {
        "id": new_id(),
        "account_id": account_id,
        "short_code": short_code,
        "country_code": country_code,
        "messaging_profile_id": messaging_profile_id,
        "tags": list(dict.fromkeys(tags)),
        "created_at": now,
        "updated_at": now,
    }
    async with rt.transaction() as conn:
        await _profile_id(conn, account_id, messaging_profile_id)
        if await store.short_code_taken(conn, short_code, country_code):
            raise ApiError(
                errors.DUPLICATE_RESOURCE,
                f"Short code {short_code} ({country_code}) already exists.",
                pointer="/short_code",
            )
        await store.insert_short_code(conn, values)
    return values


async def get_short_code(rt: Runtime, account_id: str, short_code_id: str) -> dict[str, Any]:
    async with rt.read() as conn:
        row = await store.get_short_code(conn, account_id, short_code_id)
    if row is None:
        raise not_found("short code")
    return row


async def list_short_codes(
    rt: Runtime,
    account_id: str,
    *,
    messaging_profile_id: str | None,
    page_number: int,
    page_size: int,
) -> tuple[list[dict[str, Any]], int]:
    """`filter[messaging_profile_id]=null` lists the short codes without a profile."""
    async with rt.read() as conn:
        return await store.list_short_codes(
            conn,
            account_id,
            messaging_profile_id=messaging_profile_id,
            unassigned=messaging_profile_id == "null",
            page_number=page_number,
            page_size=page_size,
        )


async def update_short_code(
    rt: Runtime, account_id: str, short_code_id: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """Assign the short code to a profile (or none, with null) and/or replace its tags."""
    async with rt.transaction() as conn:
        if await store.get_short_code(conn, account_id, short_code_id) is None:
            raise not_found("short code")
        await _profile_id(conn, account_id, fields.get("messaging_profile_id"))
        values = dict(fields)
        if "tags" in values:
            values["tags"] = list(dict.fromkeys(values["tags"] or []))
        await store.update_short_code(
            conn, account_id, short_code_id, {**values, "updated_at": utcnow()}
        )
        row = await store.get_short_code(conn, account_id, short_code_id)
    assert row is not None
    return row


# --- alphanumeric sender ids --------------------------------------------------------------


async def create_alphanumeric(
    rt: Runtime,
    account_id: str,
    *,
    sender_id: str,
    messaging_profile_id: str,
    us_long_code_fallback: str | None,
) -> dict[str, Any]:
    if not is_alphanumeric_sender(sender_id):
        raise ApiError(
            errors.INVALID_PARAMETER,
            "alphanumeric_sender_id must be 1 to 11 letters, digits or spaces, with at least "
            "one letter.",
            pointer="/alphanumeric_sender_id",
        )
    now = utcnow()
    values = {
        "id": new_id(),
        "account_id": account_id,
        "alphanumeric_sender_id": sender_id,
        "messaging_profile_id": messaging_profile_id,
        "us_long_code_fallback": us_long_code_fallback,
        "created_at": now,
        "updated_at": now,
    }
    async with rt.transaction() as conn:
        await _profile_id(conn, account_id, messaging_profile_id)
        if us_long_code_fallback is not None:
            await _check_fallback(conn, account_id, us_long_code_fallback)
        if await store.find_alphanumeric(conn, account_id, messaging_profile_id, sender_id):
            raise ApiError(
                errors.DUPLICATE_RESOURCE,
                f"'{sender_id}' is already a sender id of this messaging profile.",
                pointer="/alphanumeric_sender_id",
            )
        await store.insert_alphanumeric(conn, values)
    return values


async def _check_fallback(conn: AsyncConnection, account_id: str, e164: str) -> None:
    pointer = "/us_long_code_fallback"
    try:
        parse_e164(e164)
    except InvalidNumber as exc:
        raise ApiError(errors.NOT_E164, f"'{e164}' {exc.reason}.", pointer=pointer) from exc
    number = await number_store.find_number(conn, e164)
    if number is None or number["account_id"] != account_id:
        raise ApiError(
            errors.INVALID_FROM, f"{e164} is not a number of this account.", pointer=pointer
        )


async def get_alphanumeric(rt: Runtime, account_id: str, record_id: str) -> dict[str, Any]:
    async with rt.read() as conn:
        row = await store.get_alphanumeric(conn, account_id, record_id)
    if row is None:
        raise not_found("alphanumeric sender id")
    return row


async def list_alphanumeric(
    rt: Runtime,
    account_id: str,
    *,
    messaging_profile_id: str | None,
    page_number: int,
    page_size: int,
) -> tuple[list[dict[str, Any]], int]:
    async with rt.read() as conn:
        return await store.list_alphanumeric(
            conn,
            account_id,
            messaging_profile_id=messaging_profile_id,
            page_number=page_number,
            page_size=page_size,
        )


async def delete_alphanumeric(rt: Runtime, account_id: str, record_id: str) -> dict[str, Any]:
    """Remove a sender id; the answer is the record as it was."""
    async with rt.transaction() as conn:
        row = await store.get_alphanumeric(conn, account_id, record_id)
        if row is None:
            raise not_found("alphanumeric sender id")
        await store.delete_alphanumeric(conn, account_id, record_id)
    return row
