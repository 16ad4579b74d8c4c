"""Phone numbers' messaging settings: list, read and change them; their health."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.domain import errors
from switchboard.domain.clock import utcnow
from switchboard.domain.errors import ApiError
from switchboard.domain.ids import is_uuid
from switchboard.domain.numbers import (
    FINISHED_OUTBOUND,
    HEALTH_WINDOW,
    SPAM_ERROR_CODES,
    Traffic,
    eligible_products,
    health_metrics,
)
from switchboard.services.profiles import not_found
from switchboard.services.runtime import Runtime
from switchboard.store import metrics as metric_store
from switchboard.store import numbers as number_store
from switchboard.store import profiles as profile_store


async def with_health(
    conn: AsyncConnection, account_id: str, rows: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The rows (numbers of `account_id`), each with a `health` dict from its last week.

    Health is the number's own: counted by address (domain/numbers.py), whoever sent.
    """
    traffic = await metric_store.number_traffic(
        conn,
        [r["phone_number"] for r in rows],
        utcnow() - HEALTH_WINDOW,
        finished_statuses=FINISHED_OUTBOUND,
        spam_codes=SPAM_ERROR_CODES,
    )
    return [{**r, "health": health_metrics(Traffic(**traffic[r["phone_number"]]))} for r in rows]


async def list_settings(
    rt: Runtime,
    account_id: str,
    *,
    phone_numbers_in: list[str] | None = None,
    phone_number_contains: str | None = None,
    messaging_profile_id: str | None = None,
    number_kind: str | None = None,
    sort_phone_number: str | None = None,
    page_number: int,
    page_size: int,
) -> tuple[list[dict[str, Any]], int]:
    async with rt.read() as conn:
        rows, total = await number_store.list_numbers(
            conn,
            account_id,
            phone_numbers_in=phone_numbers_in,
            phone_number_contains=phone_number_contains,
            messaging_profile_id=messaging_profile_id,
            number_kind=number_kind,
            sort_phone_number=sort_phone_number,
            page_number=page_number,
            page_size=page_size,
        )
        return await with_health(conn, account_id, rows), total


async def get_settings(rt: Runtime, account_id: str, id_or_e164: str) -> dict[str, Any]:
    async with rt.read() as conn:
        row = await number_store.get_number(conn, account_id, id_or_e164)
        if row is None:
            raise not_found("phone number")
        return (await with_health(conn, account_id, [row]))[0]


async def update_settings(
    rt: Runtime, account_id: str, id_or_e164: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """Apply the fields the client sent; absent or null ones stay as they are.

    `messaging_profile_id`: `""` unassigns, a UUID assigns to that profile of the account.
    `messaging_product`: one of the number's eligible products. `tags`: replace the list.
    """
    async with rt.transaction() as conn:
        row = await number_store.get_number(conn, account_id, id_or_e164)
        if row is None:
            raise not_found("phone number")
        values: dict[str, Any] = {}
        profile_id = fields.get("messaging_profile_id")
        if profile_id == "":
            values["messaging_profile_id"] = None
        elif profile_id is not None:
            if not (
                is_uuid(profile_id)
                and await profile_store.get_profile(conn, account_id, profile_id) is not None
            ):
                raise ApiError(
                    errors.ASSOCIATED_NOT_FOUND,
                    f"Messaging profile '{profile_id}' does not exist.",
                    pointer="/messaging_profile_id",
                )
            values["messaging_profile_id"] = profile_id
        product = fields.get("messaging_product")
        if product is not None:
            allowed = eligible_products(row["number_kind"])
            if product not in allowed:
                raise ApiError(
                    errors.INVALID_PARAMETER,
                    f"messaging_product must be one of the number's eligible products: "
                    f"{', '.join(allowed)}.",
                    pointer="/messaging_product",
                )
            values["messaging_product"] = product
        if fields.get("tags") is not None:
            values["tags"] = list(dict.fromkeys(fields["tags"]))
        values["updated_at"] = utcnow()
        await number_store.update_number(conn, account_id, row["id"], values)
        updated = await number_store.get_number(conn, account_id, row["id"])
        assert updated is not None
        return (await with_health(conn, account_id, [updated]))[0]


async def list_mobile(
    rt: Runtime, account_id: str, *, page_number: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    async with rt.read() as conn:
        return await number_store.list_numbers(
            conn,
            account_id,
            phone_number_type="mobile",
            page_number=page_number,
            page_size=page_size,
        )


async def get_mobile(rt: Runtime, account_id: str, id_or_e164: str) -> dict[str, Any]:
    async with rt.read() as conn:
        row = await number_store.get_number(conn, account_id, id_or_e164)
    if row is None or row["phone_number_type"] != "mobile":
        raise not_found("mobile phone number")
    return row
