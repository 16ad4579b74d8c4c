"""Sending and reading messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from switchboard.domain import errors
from switchboard.domain.clock import utcnow
from switchboard.domain.encoding import MAX_PARTS, UnencodableText, analyze
from switchboard.domain.errors import ApiError
from switchboard.domain.ids import is_uuid, new_id
from switchboard.domain.phone import InvalidNumber, parse_e164
from switchboard.domain.pricing import message_cost
from switchboard.services import events
from switchboard.services.runtime import Runtime
from switchboard.store import messages as message_store
from switchboard.store import numbers as number_store
from switchboard.store import profiles as profile_store

SenderMode = Literal["any", "long_code"]


@dataclass
class SendRequest:
    """A validated send request (shapes checked by the API; rules checked here)."""

    to: str
    from_: str | None = None
    messaging_profile_id: str | None = None
    text: str | None = None
    media_urls: list[str] = field(default_factory=list)
    subject: str | None = None
    type: Literal["SMS", "MMS"] | None = None
    auto_detect: bool = False
    encoding: Literal["auto", "gsm7", "ucs2"] = "auto"
    use_profile_webhooks: bool = True
    webhook_url: str | None = None
    webhook_failover_url: str | None = None


def _parse_to(value: str) -> Any:
    try:
        return parse_e164(value)
    except InvalidNumber as exc:
        raise ApiError(errors.INVALID_TO, f"'to' {exc.reason}.", pointer="/to") from exc


async def send_message(
    rt: Runtime, account_id: str, request: SendRequest, mode: SenderMode = "any"
) -> dict[str, Any]:
    """Accept a message for sending: validate, price, store as `queued`, wake the dispatcher.

    The row and its `queued` event commit together before the caller answers, so an accepted
    message survives any crash after this returns.
    """
    destination = _parse_to(request.to)
    message_type = request.type or ("MMS" if request.media_urls else "SMS")
    if message_type == "SMS" and request.media_urls:
        raise ApiError(
            errors.INVALID_PARAMETER, "type SMS cannot carry media_urls; use MMS.", pointer="/type"
        )
    if message_type == "MMS" and not request.media_urls:
        raise ApiError(errors.MISSING_PARAMETER, "MMS needs media_urls.", pointer="/media_urls")
    if message_type == "SMS" and not request.text:
        raise ApiError(
            errors.MISSING_PARAMETER, "The 'text' parameter is required.", pointer="/text"
        )
    if request.from_ is None:
        raise ApiError(
            errors.MISSING_PARAMETER,
            "The 'from' parameter is required (a number of this account).",
            pointer="/from",
        )

    now = utcnow()
    async with rt.transaction() as conn:
        sender = await number_store.find_number(conn, request.from_)
        if sender is None or sender["account_id"] != account_id:
            raise ApiError(
                errors.INVALID_FROM,
                f"'{request.from_}' is not a number of this account.",
                pointer="/from",
            )
        if sender["number_kind"] not in ("long_code", "toll_free"):
            raise ApiError(
                errors.INVALID_FROM,
                "'from' must be a long code or toll-free number.",
                pointer="/from",
            )
        if sender["messaging_profile_id"] is None:
            raise ApiError(
                errors.NO_PROFILE,
                f"{request.from_} is not assigned to a messaging profile.",
                pointer="/from",
            )
        profile = await profile_store.get_profile(conn, account_id, sender["messaging_profile_id"])
        assert profile is not None
        other_profile = request.messaging_profile_id
        if (
            other_profile is not None
            and other_profile != profile["id"]
            and not (
                is_uuid(other_profile)
                and await profile_store.get_profile(conn, account_id, other_profile)
            )
        ):
            raise ApiError(
                errors.ASSOCIATED_NOT_FOUND,
                "The messaging profile does not exist.",
                pointer="/messaging_profile_id",
            )
        _check_profile_allows(profile, destination.country)

        text = request.text or ""
        encoding: str
        if message_type == "SMS":
            try:
                encoded = analyze(text, request.encoding)
            except UnencodableText as exc:
                raise ApiError(
                    errors.UNENCODABLE_TEXT,
                    f"Character {exc.char!r} at position {exc.index} is not in the GSM-7 alphabet.",
                    pointer="/text",
                ) from exc
            if request.auto_detect and encoded.parts > MAX_PARTS:
                raise ApiError(
                    errors.TOO_MANY_PARTS,
                    f"The text needs {encoded.parts} parts; at most {MAX_PARTS} are allowed.",
                    pointer="/text",
                )
            sent_text, encoding, parts = encoded.text, encoded.encoding, encoded.parts
            num_chars, smart_applied = encoded.num_chars, encoded.smart_encoding_applied
        else:
            sent_text, encoding, parts, num_chars, smart_applied = (
                text,
                "UTF-8",
                1,
                len(text),
                False,
            )

        row = {
            "id": new_id(),
            "account_id": account_id,
            "group_id": None,
            "direction": "outbound",
            "type": message_type,
            "messaging_profile_id": profile["id"],
            "from_address": request.from_,
            "sender_type": sender["number_kind"],
            "from_line_type": "Wireline" if sender["number_kind"] == "toll_free" else "VoIP",
            "to_address": destination.e164,
            "to_line_type": destination.line_type,
            "to_country": destination.country,
            "cc": [],
            "text": text,
            "sent_text": sent_text,
            "subject": request.subject,
            "media": [
                {"url": u, "content_type": None, "sha256": None, "size": None}
                for u in request.media_urls
            ],
            "encoding": encoding,
            "parts": parts,
            "num_chars": num_chars,
            "smart_encoding_applied": smart_applied,
            "tags": [],
            "errors": [],
            "cost_amount": message_cost(
                rt.settings.rates, message_type, destination.country, parts
            ),
            "cost_currency": rt.settings.currency,
            "status": "queued",
            "received_at": now,
            "send_at": None,
            "sent_at": None,
            "completed_at": None,
            "valid_until": now + timedelta(seconds=rt.settings.valid_for_seconds),
            "wait_seconds": 0.0,
            "next_attempt_at": now,
            "claimed_by": None,
            "claimed_at": None,
            "attempts": 0,
            "carrier": None,
            "carrier_message_id": None,
            "webhook_url": request.webhook_url,
            "webhook_failover_url": request.webhook_failover_url,
            "use_profile_webhooks": request.use_profile_webhooks,
            "updated_at": now,
        }
        await message_store.insert_messages(conn, [row])
        await events.record(rt, conn, [row], now)
    rt.wake_dispatcher()
    return row


def _check_profile_allows(profile: dict[str, Any], country: str) -> None:
    if not profile["enabled"]:
        raise ApiError(errors.PROFILE_DISABLED, "The messaging profile is disabled.")
    allowed = profile["whitelisted_destinations"] or []
    if "*" not in allowed and country not in allowed:
        raise ApiError(
            errors.DESTINATION_NOT_ALLOWED,
            f"Destination country {country} is not in the profile's whitelisted_destinations.",
            pointer="/to",
        )


async def get_message(rt: Runtime, account_id: str, message_id: str) -> dict[str, Any]:
    """A message of the account within the retention window (404 outside it)."""
    if not is_uuid(message_id):
        raise ApiError(errors.NOT_FOUND, "The requested message could not be found.")
    cutoff = utcnow() - timedelta(days=rt.settings.message_retention_days)
    async with rt.read() as conn:
        row = await message_store.get_message(conn, account_id, message_id, received_after=cutoff)
    if row is None:
        raise ApiError(errors.NOT_FOUND, "The requested message could not be found.")
    return row


def retention_cutoff(rt: Runtime, now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=rt.settings.message_retention_days)
