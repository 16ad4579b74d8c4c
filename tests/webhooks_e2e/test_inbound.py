"""`message.received` through the service the inbound path calls, and the sender in-process.

`services.webhooks.enqueue_message_received(rt, conn, row)` is called inside the transaction
that stores an inbound message; its event goes to the receiving number's profile URLs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telnyx.types import InboundMessageWebhookEvent

from switchboard.config import Settings, WebhookSettings
from switchboard.domain.ids import new_id
from switchboard.services import accounts, profiles, webhooks
from switchboard.services.runtime import Runtime
from switchboard.store import messages as message_store
from switchboard.store import migrate
from switchboard.store.database import create_engine
from switchboard.workers.webhook_sender import WebhookSender
from tests.webhooks.servers import http_receiver, standard_verify, telnyx_unwrap
from tests.webhooks_e2e.conftest import database_for

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database_for(str(request.param), tmp_path)


def inbound_row(account_id: str, profile_id: str, text: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "id": new_id(),
        "account_id": account_id,
        "group_id": None,
        "direction": "inbound",
        "type": "SMS",
        "messaging_profile_id": profile_id,
        "from_address": "+13125550100",
        "sender_type": "long_code",
        "from_line_type": "Wireless",
        "to_address": "+17735559999",
        "to_line_type": "VoIP",
        "to_country": "US",
        "cc": [],
        "text": text,
        "sent_text": text,
        "subject": None,
        "media": [],
        "encoding": "GSM-7",
        "parts": 1,
        "num_chars": len(text),
        "smart_encoding_applied": False,
        "tags": [],
        "errors": [],
        "cost_amount": None,
        "cost_currency": None,
        "status": "delivered",  # `to[].status` of an inbound message
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
        "carrier": None,
        "carrier_message_id": None,
        "webhook_url": None,
        "webhook_failover_url": None,
        "use_profile_webhooks": True,
        "updated_at": now,
    }


async def scenario(db_url: str) -> None:
    # A long poll interval: only the wake-up after commit can make delivery prompt.
    settings = Settings(
        database_url=db_url,
        webhooks=WebhookSettings(poll_interval=30, retry_schedule="0,0.2s"),
    )
    engine = create_engine(db_url)
    await migrate.upgrade(engine)
    rt = Runtime(settings=settings, engine=engine)
    sender = WebhookSender(rt, "inbound-test")
    try:
        startup = await accounts.ensure_default_account(rt)
        account_id = startup.account_id
        async with http_receiver() as (base, rec):
            profile = await profiles.create_profile(
                rt,
                account_id,
                {
                    "name": "Inbound",
                    "whitelisted_destinations": ["US"],
                    "webhook_url": f"{base}/inbound",
                    "webhook_failover_url": f"{base}/inbound-failover",
                },
            )
            silent = await profiles.create_profile(
                rt, account_id, {"name": "No hooks", "whitelisted_destinations": ["US"]}
            )
            await sender.start()
            task = asyncio.create_task(sender.run())
            await asyncio.sleep(0.2)  # the sender is idle, waiting for its 30 s poll

            row = inbound_row(account_id, profile["id"], "Hi there")
            started = time.monotonic()
            async with rt.transaction() as conn:
                await message_store.insert_messages(conn, [row])
                delivery_id = await webhooks.enqueue_message_received(rt, conn, row)
            assert delivery_id is not None
            while not rec.requests and time.monotonic() - started < 5:
                await asyncio.sleep(0.01)
            assert rec.requests, "not delivered"
            assert time.monotonic() - started < 2.0, "the commit did not wake the sender"

            quiet = inbound_row(account_id, silent["id"], "nobody listens")
            async with rt.transaction() as conn:
                await message_store.insert_messages(conn, [quiet])
                assert await webhooks.enqueue_message_received(rt, conn, quiet) is None

            hit = rec.requests[0]
            event = telnyx_unwrap(hit.body, hit.headers, startup.webhook_public_key)
            assert isinstance(event, InboundMessageWebhookEvent)
            assert event.data is not None and event.data.payload is not None
            assert event.data.event_type == "message.received"
            assert event.data.record_type == "event"
            payload = event.data.payload
            assert payload.id == row["id"] and payload.direction == "inbound"
            assert payload.text == "Hi there"
            assert payload.from_ is not None and payload.from_.phone_number == "+13125550100"
            assert payload.to and payload.to[0].phone_number == "+17735559999"  # type: ignore[union-attr]
            assert standard_verify(hit.body, hit.headers, "whpk_" + startup.webhook_public_key)
            for _ in range(100):
                found, _total = await webhooks.list_deliveries(
                    rt,
                    account_id,
                    webhooks.DeliveryFilter(event_types=("message.received",)),
                    1,
                    20,
                )
                if found and found[0]["status"] == "delivered":
                    break
                await asyncio.sleep(0.05)
            assert [d["id"] for d in found] == [delivery_id]
            assert found[0]["status"] == "delivered" and len(found[0]["attempts"]) == 1
            assert found[0]["webhook"]["payload"]["id"] == row["id"]
            await sender.stop()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    finally:
        await sender.stop()
        await rt.close()
        await engine.dispose()


def test_message_received_goes_to_the_profile_urls(db_url: str) -> None:
    asyncio.run(scenario(db_url))
