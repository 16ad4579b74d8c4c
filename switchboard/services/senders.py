"""Who sends a message: the sender address, its type and its messaging profile.

Each send endpoint allows some sender types (messages.md §4): long codes and toll-free
numbers of the account, its short codes, its alphanumeric sender ids, or a number chosen
from the profile's number pool. `POST /messages` works out the type from `from`.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.domain import errors
from switchboard.domain.errors import ApiError
from switchboard.domain.ids import is_uuid
from switchboard.domain.number_pool import PoolNumber, PoolSettings, choose
from switchboard.domain.numbers import is_unhealthy
from switchboard.domain.phone import (
    E164_SHAPE,
    PhoneNumber,
    is_alphanumeric_sender,
    is_short_code,
)
from switchboard.services.number_settings import with_health
from switchboard.store import numbers as number_store
from switchboard.store import profiles as profile_store
from switchboard.store import sender_ids as sender_id_store
from switchboard.store import sending as sending_store

SenderType = Literal["long_code", "toll_free", "short_code", "alphanumeric"]

# `from.line_type` as the message resource reports it, by sender type.
LINE_TYPES: dict[str, str] = {
    "long_code": "VoIP",
    "toll_free": "Wireline",
    "short_code": "",
    "alphanumeric": "",
}


@dataclass(frozen=True)
class Sender:
    address: str
    type: SenderType
    profile: dict[str, Any]

    @property
    def line_type(self) -> str:
        return LINE_TYPES[self.type]


def invalid_from(detail: str) -> ApiError:
    return ApiError(errors.INVALID_FROM, detail, pointer="/from")


async def profile_of_account(
    conn: AsyncConnection, account_id: str, profile_id: str
) -> dict[str, Any]:
    """The account's profile named by `messaging_profile_id` in the body (422 if unknown)."""
    profile = (
        await profile_store.get_profile(conn, account_id, profile_id)
        if is_uuid(profile_id)
        else None
    )
    if profile is None:
        raise ApiError(
            errors.ASSOCIATED_NOT_FOUND,
            "The messaging profile does not exist.",
            pointer="/messaging_profile_id",
        )
    return profile


async def phone_number_sender(
    conn: AsyncConnection, account_id: str, address: str, messaging_profile_id: str | None
) -> Sender:
    """A long code or toll-free number of the account, sending through its own profile."""
    number = await number_store.find_number(conn, address)
    if number is None or number["account_id"] != account_id:
        raise invalid_from(f"'{address}' is not a number of this account.")
    if number["number_kind"] not in ("long_code", "toll_free"):
        raise invalid_from("'from' must be a long code or toll-free number.")
    if number["messaging_profile_id"] is None:
        raise ApiError(
            errors.NO_PROFILE,
            f"{address} is not assigned to a messaging profile.",
            pointer="/from",
        )
    profile = await profile_store.get_profile(conn, account_id, number["messaging_profile_id"])
    assert profile is not None
    if messaging_profile_id is not None and messaging_profile_id != profile["id"]:
        # A profile named in the body must at least exist; the number's own profile rules.
        await profile_of_account(conn, account_id, messaging_profile_id)
    return Sender(address=address, type=number["number_kind"], profile=profile)


async def pool_sender(
    conn: AsyncConnection,
    rng: Random,
    account_id: str,
    messaging_profile_id: str | None,
    destination: str,
) -> Sender:
    """A number from the profile's number pool, chosen by its `number_pool_settings`."""
    if not messaging_profile_id:
        raise ApiError(
            errors.MISSING_PARAMETER,
            "The 'messaging_profile_id' parameter is required to send from a number pool.",
            pointer="/messaging_profile_id",
        )
    profile = await profile_of_account(conn, account_id, messaging_profile_id)
    if profile["number_pool_settings"] is None:
        raise ApiError(
            errors.NO_POOL_NUMBER,
            "The messaging profile has no number pool (its number_pool_settings is null); "
            "set number_pool_settings or send with 'from'.",
            pointer="/messaging_profile_id",
        )
    settings = PoolSettings.from_profile(profile["number_pool_settings"])
    rows = await sending_store.pool_numbers(conn, account_id, profile["id"])
    if settings.skip_unhealthy:  # health only matters when unhealthy numbers are skipped
        rows = await with_health(conn, account_id, rows)
    pool = [
        PoolNumber(
            r["phone_number"], r["number_kind"], "health" not in r or not is_unhealthy(r["health"])
        )
        for r in rows
    ]
    previous = (
        await sending_store.last_sender(conn, account_id, profile["id"], destination)
        if settings.sticky_sender
        else None
    )
    chosen = choose(pool, settings, destination, rng=rng, previous=previous)
    if chosen is None:
        reason = (
            "it has no long code or toll-free number"
            if not pool
            else "none of its numbers is eligible (weights of 0 leave a type out; "
            "skip_unhealthy leaves out unhealthy numbers)"
        )
        raise ApiError(
            errors.NO_POOL_NUMBER,
            f"The messaging profile's number pool has no number to send from: {reason}.",
            pointer="/messaging_profile_id",
        )
    return Sender(address=chosen.phone_number, type=chosen.kind, profile=profile)


async def short_code_sender(conn: AsyncConnection, account_id: str, address: str) -> Sender:
    """A short code of the account, sending through the profile it is assigned to."""
    if not is_short_code(address):
        raise invalid_from(f"'{address}' is not a short code (3 to 8 digits).")
    code = await sender_id_store.find_short_code(conn, account_id, address)
    if code is None:
        raise invalid_from(f"'{address}' is not a short code of this account.")
    if code["messaging_profile_id"] is None:
        raise ApiError(
            errors.NO_PROFILE,
            f"Short code {address} is not assigned to a messaging profile.",
            pointer="/from",
        )
    profile = await profile_store.get_profile(conn, account_id, code["messaging_profile_id"])
    assert profile is not None
    return Sender(address=address, type="short_code", profile=profile)


async def alphanumeric_sender(
    conn: AsyncConnection,
    account_id: str,
    address: str,
    messaging_profile_id: str | None,
    destination: PhoneNumber,
) -> Sender:
    """An alphanumeric sender id registered on the profile named in the body.

    US carriers do not take alphanumeric senders: to a US number the message goes from the
    sender id's `us_long_code_fallback`, and without one it is refused.
    """
    if not is_alphanumeric_sender(address):
        raise invalid_from(
            f"'{address}' is not an alphanumeric sender id (1 to 11 letters, digits or spaces, "
            "at least one letter)."
        )
    if not messaging_profile_id:
        raise ApiError(
            errors.MISSING_PARAMETER,
            "The 'messaging_profile_id' parameter is required to send from an alphanumeric "
            "sender id.",
            pointer="/messaging_profile_id",
        )
    profile = await profile_of_account(conn, account_id, messaging_profile_id)
    record = await sender_id_store.find_alphanumeric(conn, account_id, profile["id"], address)
    if record is None:
        raise invalid_from(
            f"'{address}' is not an alphanumeric sender id of this messaging profile; "
            "register it with POST /alphanumeric_sender_ids."
        )
    if destination.country != "US":
        return Sender(address=address, type="alphanumeric", profile=profile)
    fallback = record["us_long_code_fallback"]
    number = await number_store.find_number(conn, fallback) if fallback else None
    if number is None or number["account_id"] != account_id:
        raise invalid_from(
            f"Alphanumeric sender ids cannot send to US numbers, and '{address}' has no "
            "us_long_code_fallback number of this account to send from instead."
        )
    return Sender(address=number["phone_number"], type=number["number_kind"], profile=profile)


def sender_type_of(address: str) -> Literal["phone_number", "short_code", "alphanumeric"] | None:
    """What kind of sender `from` names, by its shape alone."""
    if E164_SHAPE.match(address):
        return "phone_number"
    if is_short_code(address):
        return "short_code"
    if is_alphanumeric_sender(address):
        return "alphanumeric"
    return None
