"""Sending WhatsApp messages: stored and delivered like SMS, with WhatsApp content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from switchboard.domain import errors
from switchboard.domain import whatsapp as content
from switchboard.domain.clock import utcnow
from switchboard.domain.errors import ApiError
from switchboard.domain.ids import new_id
from switchboard.domain.phone import InvalidNumber, PhoneNumber, parse_e164
from switchboard.domain.pricing import message_cost
from switchboard.services import events, send_limits, senders, throughput
from switchboard.services.messages import AcceptHook, _check_profile_allows
from switchboard.services.runtime import Runtime
from switchboard.store import messages as message_store


@dataclass
class WhatsappRequest:
    from_: str
    to: str
    message: dict[str, Any]
    messaging_profile_id: str | None = None
    use_profile_webhooks: bool = True
    webhook_url: str | None = None
    webhook_failover_url: str | None = None


def _destination(to: str) -> tuple[PhoneNumber | None, str]:
    """A phone number, or a business-scoped user id (BSUID) and its country."""
    if content.BSUID.match(to):
        return None, to[:2]
    try:
        number = parse_e164(to)
    except InvalidNumber as exc:
        raise ApiError(
            errors.INVALID_TO,
            f"'to' {exc.reason}, or a WhatsApp user id such as US.13491208655302741918.",
            pointer="/to",
        ) from exc
    return number, number.country


async def send_whatsapp(
    rt: Runtime,
    account_id: str,
    request: WhatsappRequest,
    *,
    on_accepted: AcceptHook | None = None,
) -> list[dict[str, Any]]:
    """Accept a WhatsApp message from a number of the account (its profile's rules apply)."""
    try:
        content.validate(request.message)
    except content.InvalidContent as exc:
        raise ApiError(
            errors.INVALID_PARAMETER, f"whatsapp_message: {exc.reason}.", pointer=exc.pointer
        ) from exc
    number, country = _destination(request.to)
    text = content.text_of(request.message)
    now = utcnow()
    async with rt.transaction() as conn:
        sender = await senders.phone_number_sender(
            conn, account_id, request.from_, request.messaging_profile_id
        )
        profile = sender.profile
        _check_profile_allows(profile, country)
        row: dict[str, Any] = {
            "id": new_id(),
            "account_id": account_id,
            "group_id": None,
            "direction": "outbound",
            "type": "WHATSAPP",
            "messaging_profile_id": profile["id"],
            "from_address": sender.address,
            "sender_type": sender.type,
            "from_line_type": sender.line_type,
            "to_address": request.to,
            "to_line_type": number.line_type if number else "",
            "to_country": country,
            "cc": [],
            "text": text,
            "sent_text": text,
            "subject": None,
            "media": [],
            "body": request.message,
            "encoding": "UTF-8",
            "parts": 1,
            "num_chars": len(text),
            "smart_encoding_applied": False,
            "tags": [],
            "errors": [],
            "cost_amount": message_cost(rt.settings.rates, "WHATSAPP", country, 1),
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
        if number is not None:
            await send_limits.check_send(conn, profile, number, row["cost_amount"], now)
        (slot,) = await throughput.reserve_slots(rt, conn, [row], now)
        row["next_attempt_at"], row["wait_seconds"] = slot.starts_at, slot.wait_seconds
        await message_store.insert_messages(conn, [row])
        await events.created(rt, conn, [row], now)
        if on_accepted is not None:
            await on_accepted(conn, [row])
    rt.wake_dispatcher()
    return [row]
