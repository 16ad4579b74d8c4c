"""Helpers for the numbers-and-profiles tests: many unused numbers, orders, stored messages."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime
from typing import Any

import phonenumbers
import telnyx

from switchboard.domain.ids import new_id
from switchboard.store.database import create_engine
from switchboard.store.schema import messages
from tests.harness import Server

_us = itertools.count()
_uk = itertools.count()


def us_numbers(count: int) -> list[str]:
    """Unused, valid US long codes (Seattle, +1 206 NXX XXXX), never a sandbox magic number.

    `tests.harness.new_number` hands out at most a few thousand numbers per session; bulk
    tests need tens of thousands, from a range it never uses.
    """
    out: list[str] = []
    while len(out) < count:
        i = next(_us)
        number = f"+1206{200 + i // 10_000:03d}{i % 10_000:04d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(number)):
            out.append(number)
    return out


def uk_mobile() -> str:
    """An unused UK mobile number (+44 7400 …): `mobile` by its numbering plan."""
    while True:
        number = f"+447400{next(_uk):06d}"
        parsed = phonenumbers.parse(number)
        if phonenumbers.region_code_for_number(parsed) == "GB" and (
            phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
        ):
            return number


def provision(client: telnyx.Telnyx, numbers: list[str], profile_id: str | None = None) -> None:
    """Own `numbers`, up to 5,000 per number order (one request each)."""
    for start in range(0, len(numbers), 5000):
        chunk = numbers[start : start + 5000]
        client.number_orders.create(
            phone_numbers=[{"phone_number": n} for n in chunk],
            **({"messaging_profile_id": profile_id} if profile_id else {}),
        )


def new_profile(client: telnyx.Telnyx, name: str = "Numbers test", **fields: Any) -> str:
    fields.setdefault("whitelisted_destinations", ["US"])
    profile = client.messaging_profiles.create(name=name, **fields).data
    assert profile is not None and profile.id
    return profile.id


def wait_order(client: telnyx.Telnyx, order_id: str, timeout: float = 25.0) -> Any:
    """Poll a bulk update order until nothing is pending; its final state."""
    deadline = time.monotonic() + timeout
    while True:
        data = client.messaging_numbers_bulk_updates.retrieve(order_id).data
        assert data is not None
        if not data.pending:
            return data
        if time.monotonic() > deadline:
            raise AssertionError(f"order {order_id} still has {len(data.pending)} pending")
        time.sleep(0.2)  # each poll renders every number of the order: leave the server room


def account_of(client: telnyx.Telnyx, profile_id: str) -> str:
    profile = client.messaging_profiles.retrieve(profile_id).data
    assert profile is not None and profile.organization_id
    return profile.organization_id


def message_row(
    *,
    account_id: str,
    profile_id: str,
    direction: str,
    from_: str,
    to: str,
    status: str,
    received_at: datetime | None = None,
    parts: int = 1,
    cost: str | None = None,
) -> dict[str, Any]:
    """A stored message as the send path or the carrier intake would leave it."""
    now = datetime.now(UTC)
    return {
        "id": new_id(),
        "account_id": account_id,
        "direction": direction,
        "type": "SMS",
        "messaging_profile_id": profile_id,
        "from_address": from_,
        "sender_type": "long_code",
        "to_address": to,
        "cc": [],
        "text": "stored by the test",
        "sent_text": "stored by the test",
        "media": [],
        "encoding": "GSM-7",
        "parts": parts,
        "num_chars": 18,
        "smart_encoding_applied": False,
        "tags": [],
        "errors": [],
        "cost_amount": cost,
        "cost_currency": "USD" if cost else None,
        "status": status,
        "received_at": received_at or now,
        "use_profile_webhooks": False,
        "updated_at": now,
    }


def store_messages(server: Server, rows: list[dict[str, Any]]) -> None:
    """Insert message rows straight into the server's database (typed by the schema).

    Used for what the API cannot produce on demand: inbound messages, and messages
    accepted days ago.
    """

    async def run() -> None:
        engine = create_engine(server.db_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(messages.insert(), rows)
        finally:
            await engine.dispose()

    asyncio.run(run())
