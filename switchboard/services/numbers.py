"""Phone numbers: ordering (instant in the sandbox) and reading."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.domain import errors
from switchboard.domain.clock import utcnow
from switchboard.domain.errors import ApiError
from switchboard.domain.ids import is_uuid, new_id, new_numeric_id
from switchboard.domain.numbers import default_product, phone_number_type
from switchboard.domain.phone import InvalidNumber, PhoneNumber, parse_e164
from switchboard.services.profiles import not_found
from switchboard.services.runtime import Runtime
from switchboard.store import numbers as number_store
from switchboard.store import profiles as profile_store


def _number_row(
    account_id: str,
    parsed: PhoneNumber,
    *,
    profile_id: str | None,
    order_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "id": new_numeric_id(),
        "account_id": account_id,
        "phone_number": parsed.e164,
        "country_code": parsed.country,
        "number_kind": parsed.kind,
        "phone_number_type": phone_number_type(parsed.e164),
        "messaging_profile_id": profile_id,
        "messaging_product": default_product(parsed.kind),
        "tags": [],
        "status": "active",
        "order_id": order_id,
        "created_at": now,
        "updated_at": now,
    }


def _unique_ids(rows: list[dict[str, Any]]) -> None:
    """Numeric ids made in the same microsecond can repeat: draw again until they differ."""
    seen: set[str] = set()
    for row in rows:
        while row["id"] in seen:
            row["id"] = new_numeric_id()
        seen.add(row["id"])


def _parse(e164: str, pointer: str) -> PhoneNumber:
    try:
        return parse_e164(e164)
    except InvalidNumber as exc:
        raise ApiError(errors.NOT_E164, f"'{e164}' {exc.reason}.", pointer=pointer) from exc


async def _add_number(
    conn: AsyncConnection,
    account_id: str,
    e164: str,
    *,
    profile_id: str | None,
    order_id: str | None,
    pointer: str,
) -> dict[str, Any]:
    parsed = _parse(e164, pointer)
    if await number_store.number_taken(conn, e164):
        raise ApiError(
            errors.NUMBER_UNAVAILABLE, f"{e164} is already in use by an account.", pointer=pointer
        )
    values = _number_row(account_id, parsed, profile_id=profile_id, order_id=order_id, now=utcnow())
    await number_store.insert_number(conn, values)
    return values


async def order_numbers(
    rt: Runtime,
    account_id: str,
    numbers: list[str],
    *,
    messaging_profile_id: str | None,
    customer_reference: str | None,
) -> dict[str, Any]:
    """Create an order whose numbers are active at once (the sandbox has no provisioning).

    All or nothing: one unusable number refuses the whole order. The numbers are checked
    and inserted in batches, so an order of thousands takes one request.
    """
    parsed = [_parse(e164, f"/phone_numbers/{i}/phone_number") for i, e164 in enumerate(numbers)]
    if len(set(numbers)) != len(numbers):
        raise ApiError(
            errors.INVALID_PARAMETER, "A number appears twice.", pointer="/phone_numbers"
        )
    async with rt.transaction() as conn:
        if messaging_profile_id is not None and (
            not is_uuid(messaging_profile_id)
            or await profile_store.get_profile(conn, account_id, messaging_profile_id) is None
        ):
            raise ApiError(
                errors.ASSOCIATED_NOT_FOUND,
                "The messaging profile does not exist.",
                pointer="/messaging_profile_id",
            )
        taken = await number_store.taken_numbers(conn, numbers)
        for index, e164 in enumerate(numbers):
            if e164 in taken:
                raise ApiError(
                    errors.NUMBER_UNAVAILABLE,
                    f"{e164} is already in use by an account.",
                    pointer=f"/phone_numbers/{index}/phone_number",
                )
        order_id = new_id()
        now = utcnow()
        rows = [
            _number_row(account_id, p, profile_id=messaging_profile_id, order_id=order_id, now=now)
            for p in parsed
        ]
        _unique_ids(rows)
        await number_store.insert_numbers(conn, rows)
        items = [
            {
                "id": row["id"],
                "record_type": "number_order_phone_number",
                "phone_number": row["phone_number"],
                "country_code": row["country_code"],
                "phone_number_type": row["phone_number_type"],
                "status": "success",
                "requirements_met": True,
            }
            for row in rows
        ]
        order = {
            "id": order_id,
            "account_id": account_id,
            "status": "success",
            "messaging_profile_id": messaging_profile_id,
            "customer_reference": customer_reference,
            "phone_numbers": items,
            "created_at": now,
            "updated_at": now,
        }
        await number_store.insert_order(conn, order)
    return order


async def get_order(rt: Runtime, account_id: str, order_id: str) -> dict[str, Any]:
    async with rt.read() as conn:
        row = await number_store.get_order(conn, account_id, order_id)
    if row is None:
        raise not_found("number order")
    return row


async def get_number(rt: Runtime, account_id: str, id_or_e164: str) -> dict[str, Any]:
    async with rt.read() as conn:
        row = await number_store.get_number(conn, account_id, id_or_e164)
    if row is None:
        raise not_found("phone number")
    return row


async def list_numbers(
    rt: Runtime, account_id: str, **filters: Any
) -> tuple[list[dict[str, Any]], int]:
    async with rt.read() as conn:
        return await number_store.list_numbers(conn, account_id, **filters)


async def ensure_sandbox_numbers(rt: Runtime, account_id: str) -> list[str]:
    """First start: give the default account a profile and the configured sandbox numbers."""
    async with rt.transaction() as conn:
        owned = await number_store.sandbox_numbers(conn, account_id)
        if owned:
            return owned
    profile = await _sandbox_profile(rt, account_id)
    async with rt.transaction() as conn:
        for e164 in rt.settings.sandbox.numbers:
            if not await number_store.number_taken(conn, e164):
                await _add_number(
                    conn, account_id, e164, profile_id=profile, order_id=None, pointer="/"
                )
        return await number_store.sandbox_numbers(conn, account_id)


async def _sandbox_profile(rt: Runtime, account_id: str) -> str:
    from switchboard.services.profiles import create_profile

    row = await create_profile(
        rt, account_id, {"name": "Sandbox", "whitelisted_destinations": ["*"]}
    )
    return str(row["id"])
