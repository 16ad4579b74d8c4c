"""Handle inbound: a handset's message to one of our numbers becomes an inbound message.

Everything one inbound message causes commits in one transaction: the message row (its
arrival is the row's first status, not an event), the opt-out change its keyword makes, the
cancelled scheduled messages, the queued auto-reply, the sandbox traffic record and the
`message.received` webhook. A crash either
keeps all of it or none, and the carrier (or the sandbox API caller) is answered only after
the commit.
"""

from __future__ import annotations

import logging
import mimetypes
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.carriers.base import MobileOriginated
from switchboard.domain import keywords
from switchboard.domain.clock import utcnow
from switchboard.domain.encoding import analyze
from switchboard.domain.errors import OPTED_OUT
from switchboard.domain.ids import new_id
from switchboard.domain.phone import InvalidNumber, is_alphanumeric_sender, parse_e164
from switchboard.domain.pricing import message_cost
from switchboard.domain.text import clean_text
from switchboard.services import autoresp, events, sandbox, webhooks
from switchboard.services.runtime import Runtime
from switchboard.store import inbound as inbound_store
from switchboard.store import messages as message_store
from switchboard.store import numbers as number_store
from switchboard.store import optouts as optout_store
from switchboard.store import profiles as profile_store

log = logging.getLogger(__name__)

AUTORESPONSE_TAG = "autoresponse"


@dataclass(frozen=True)
class Received:
    """What became of one mobile-originated message."""

    message: dict[str, Any] | None  # the stored inbound row; None when dropped
    reply: dict[str, Any] | None = None  # the queued auto-reply, if a keyword asked for one
    dropped: str | None = None  # why nobody got it (the message is in `unrouted_messages`)
    duplicate: bool = False  # the carrier delivered this message before


@dataclass(frozen=True)
class _Handset:
    address: str
    country: str
    line_type: str
    sender_type: str
    can_reply: bool


def _handset(address: str) -> _Handset:
    try:
        parsed = parse_e164(address)
    except InvalidNumber:
        kind = "alphanumeric" if is_alphanumeric_sender(address) else "short_code"
        return _Handset(address, "", "", kind, False)
    return _Handset(address, parsed.country, parsed.line_type, parsed.kind, True)


def _our_line_type(number: dict[str, Any]) -> str:
    return "Wireline" if number["number_kind"] == "toll_free" else "VoIP"


def _media(urls: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {
            "url": url,
            "content_type": mimetypes.guess_type(url.split("?", 1)[0])[0],
            "sha256": None,
            "size": None,
        }
        for url in urls
    ]


async def receive(rt: Runtime, mo: MobileOriginated) -> Received:
    """Store, route and answer one mobile-originated message.

    Routed by the number it was sent to: the owning account and that number's profile get
    it. A number nobody owns drops it (recorded in `unrouted_messages`, logged), so it can
    never reach the wrong account.
    """
    now = utcnow()
    text = clean_text(mo.text or "")
    media_urls = tuple(clean_text(u) for u in mo.media_urls)
    message_type = mo.message_type
    if message_type == "SMS" and media_urls:
        message_type = "MMS"
    async with rt.transaction() as conn:
        if mo.carrier_message_id:
            seen = await inbound_store.find_inbound_by_carrier_ref(
                conn, mo.carrier, mo.carrier_message_id
            )
            if seen is not None:
                return Received(seen, duplicate=True)
            if await inbound_store.unrouted_by_carrier_ref(conn, mo.carrier, mo.carrier_message_id):
                return Received(None, dropped="unowned_number", duplicate=True)
        number = await number_store.find_number(conn, mo.to)
        if number is None:
            await inbound_store.insert_unrouted(
                conn,
                {
                    "id": new_id(),
                    "carrier": mo.carrier,
                    "carrier_message_id": mo.carrier_message_id,
                    "from_address": clean_text(mo.from_),
                    "to_address": clean_text(mo.to),
                    "type": message_type,
                    "text": text,
                    "media": _media(media_urls),
                    "reason": "unowned_number",
                    "received_at": mo.received_at or now,
                },
            )
            log.warning(
                "inbound message from %s to %s dropped: no account owns %s",
                mo.from_,
                mo.to,
                mo.to,
            )
            return Received(None, dropped="unowned_number")

        profile = None
        if number["messaging_profile_id"] is not None:
            profile = await profile_store.get_profile(
                conn, number["account_id"], number["messaging_profile_id"]
            )
        handset = _handset(mo.from_)
        match = None
        if profile is not None and text:
            rules = await autoresp.rules_for(conn, profile["id"])
            match = keywords.match(text, rules, handset.country)

        row = _inbound_row(mo, number, profile, handset, text, media_urls, message_type, now)
        if match is not None:
            row["autoresponse_type"] = match.autoresponse_type
        await message_store.insert_messages(conn, [row])

        reply = None
        if match is not None and profile is not None:
            reply = await _apply_keyword(rt, conn, row, number, profile, handset, match, now)
        if mo.carrier == sandbox.CARRIER:
            await sandbox.record_inbound(conn, row, mo.carrier_message_id, now)
        await webhooks.enqueue_message_received(rt, conn, row, now)
    if reply is not None:
        rt.wake_dispatcher()
    log.info(
        "inbound message %s from %s to %s received%s",
        row["id"],
        mo.from_,
        mo.to,
        f" ({match.autoresponse_type})" if match else "",
    )
    return Received(row, reply)


def _inbound_row(
    mo: MobileOriginated,
    number: dict[str, Any],
    profile: dict[str, Any] | None,
    handset: _Handset,
    text: str,
    media_urls: tuple[str, ...],
    message_type: str,
    now: datetime,
) -> dict[str, Any]:
    encoding: str
    if message_type == "SMS":
        encoded = analyze(text, "auto", smart=False)
        encoding, parts = encoded.encoding, encoded.parts
    else:
        encoding, parts = "UTF-8", 1
    return {
        "id": new_id(),
        "account_id": number["account_id"],
        "group_id": None,
        "direction": "inbound",
        "type": message_type,
        "messaging_profile_id": profile["id"] if profile else None,
        "from_address": clean_text(mo.from_),
        "sender_type": handset.sender_type,
        "from_line_type": handset.line_type,
        "to_address": number["phone_number"],
        "to_line_type": _our_line_type(number),
        "to_country": number["country_code"],
        "cc": [],
        "text": text,
        "sent_text": text,
        "subject": None,
        "media": _media(media_urls),
        "encoding": encoding,
        "parts": parts,
        "num_chars": len(text),
        "smart_encoding_applied": False,
        "tags": [],
        "errors": [],
        "cost_amount": None,
        "cost_currency": None,
        # `to[].status` of an inbound message: `delivered` to us, `webhook_delivered` once
        # the customer's webhook took it.
        "status": "delivered",
        "received_at": now,
        "send_at": None,
        "sent_at": None,
        "completed_at": None,
        "valid_until": None,
        "wait_seconds": 0.0,
        "next_attempt_at": None,
        "claimed_by": None,
        "claimed_at": None,
        "attempts": 0,
        "carrier": mo.carrier,
        "carrier_message_id": mo.carrier_message_id,
        "webhook_url": (profile or {}).get("webhook_url") or None,
        "webhook_failover_url": (profile or {}).get("webhook_failover_url") or None,
        "use_profile_webhooks": True,
        "autoresponse_type": None,
        "updated_at": now,
    }


async def _apply_keyword(
    rt: Runtime,
    conn: AsyncConnection,
    inbound: dict[str, Any],
    number: dict[str, Any],
    profile: dict[str, Any],
    handset: _Handset,
    match: keywords.KeywordMatch,
    now: datetime,
) -> dict[str, Any] | None:
    """Opt out or in as the keyword says; queue its auto-reply. Returns the reply row."""
    if match.op == "stop":
        await optout_store.add(
            conn,
            {
                "id": new_id(),
                "account_id": profile["account_id"],
                "messaging_profile_id": profile["id"],
                "from_address": number["phone_number"],
                "to_address": handset.address,
                "keyword": match.keyword,
                "created_at": now,
            },
        )
        for scheduled in await optout_store.scheduled_to(conn, profile["id"], handset.address):
            await events.move(
                rt,
                conn,
                scheduled,
                "cancelled",
                now,
                completed_at=now,
                valid_until=None,
                cost_amount="0.0000",
                errors=[
                    {
                        "code": OPTED_OUT.code,
                        "title": OPTED_OUT.title,
                        "detail": "The recipient opted out before the message was due.",
                    }
                ],
            )
    elif match.op == "start":
        await optout_store.remove(conn, profile["id"], handset.address)
    if not match.reply or not handset.can_reply or not profile["enabled"]:
        return None
    reply = _reply_row(rt, inbound, number, profile, handset, match.reply, now)
    await message_store.insert_messages(conn, [reply])
    await events.created(rt, conn, [reply], now)
    return reply


def _reply_row(
    rt: Runtime,
    inbound: dict[str, Any],
    number: dict[str, Any],
    profile: dict[str, Any],
    handset: _Handset,
    text: str,
    now: datetime,
) -> dict[str, Any]:
    """An outbound SMS answering a keyword, queued like any sent message.

    It skips the opt-out check on purpose: the confirmation of a STOP must still go out.
    """
    encoded = analyze(text, "auto", smart=True)
    return {
        "id": new_id(),
        "account_id": inbound["account_id"],
        "group_id": None,
        "direction": "outbound",
        "type": "SMS",
        "messaging_profile_id": profile["id"],
        "from_address": number["phone_number"],
        "sender_type": number["number_kind"],
        "from_line_type": _our_line_type(number),
        "to_address": handset.address,
        "to_line_type": handset.line_type,
        "to_country": handset.country,
        "cc": [],
        "text": text,
        "sent_text": encoded.text,
        "subject": None,
        "media": [],
        "encoding": encoded.encoding,
        "parts": encoded.parts,
        "num_chars": encoded.num_chars,
        "smart_encoding_applied": encoded.smart_encoding_applied,
        "tags": [AUTORESPONSE_TAG],
        "errors": [],
        "cost_amount": message_cost(rt.settings.rates, "SMS", handset.country, encoded.parts),
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
        "webhook_url": None,
        "webhook_failover_url": None,
        "use_profile_webhooks": True,
        "updated_at": now,
    }
