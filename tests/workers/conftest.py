"""An in-process runtime per backend, on a fresh database, and outbound rows to work on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from switchboard.config import DispatcherSettings, Settings
from switchboard.domain.ids import new_id
from switchboard.services import accounts, events, webhooks
from switchboard.services.runtime import Runtime
from switchboard.store import messages as message_store
from switchboard.store import migrate
from switchboard.store.database import create_engine
from switchboard.store.schema import message_events, messages, webhook_deliveries
from tests.conftest import fresh_database

HOOK_URL = "http://127.0.0.1:9/hooks"  # never called: these tests stop at the stored rows


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database(request.param, tmp_path, "workers.db")


@dataclass
class World:
    rt: Runtime
    account_id: str

    async def queued(self, count: int) -> list[dict[str, Any]]:
        """`count` outbound messages, queued and due, whose events have a webhook URL."""
        now = datetime.now(UTC)
        rows = [outbound_row(self.account_id, now) for _ in range(count)]
        async with self.rt.transaction() as conn:
            await message_store.insert_messages(conn, rows)
            await events.record(self.rt, conn, rows, now)
        return rows

    async def status(self, ids: list[str]) -> dict[str, str]:
        async with self.rt.read() as conn:
            result = await conn.execute(
                sa.select(messages.c.id, messages.c.status).where(messages.c.id.in_(ids))
            )
            return {r.id: r.status for r in result}

    async def message(self, message_id: str) -> dict[str, Any]:
        async with self.rt.read() as conn:
            row = await message_store.get_message_by_id(conn, message_id)
        assert row is not None
        return row

    async def events_of(self, ids: list[str], status: str) -> dict[str, int]:
        """Message id → how many `status` events it has (absent: none)."""
        e = message_events.c
        async with self.rt.read() as conn:
            result = await conn.execute(
                sa.select(e.message_id, sa.func.count())
                .where(e.message_id.in_(ids), e.status == status)
                .group_by(e.message_id)
            )
            return {r[0]: r[1] for r in result}

    async def webhooks_of(self, ids: list[str], event_type: str) -> dict[str, int]:
        """Message id → how many `event_type` webhook deliveries it has (absent: none)."""
        d = webhook_deliveries.c
        async with self.rt.read() as conn:
            result = await conn.execute(
                sa.select(d.message_id, sa.func.count())
                .where(d.message_id.in_(ids), d.event_type == event_type)
                .group_by(d.message_id)
            )
            return {r[0]: r[1] for r in result}


@asynccontextmanager
async def world(db_url: str, lease_seconds: float = 30.0) -> AsyncIterator[World]:
    settings = Settings(
        database_url=db_url, dispatcher=DispatcherSettings(lease_seconds=lease_seconds)
    )
    engine = create_engine(db_url)
    await migrate.upgrade(engine)
    rt = Runtime(settings=settings, engine=engine)
    webhooks.install(rt)  # status changes write their webhook rows, as in the workers
    try:
        account_id = (await accounts.ensure_default_account(rt)).account_id
        yield World(rt, account_id)
    finally:
        await rt.close()
        await engine.dispose()


def run(db_url: str, scenario: Callable[[World], Awaitable[None]], **options: Any) -> None:
    async def main() -> None:
        async with world(db_url, **options) as w:
            await scenario(w)

    asyncio.run(main())


def outbound_row(account_id: str, now: datetime) -> dict[str, Any]:
    return {
        "id": new_id(),
        "account_id": account_id,
        "group_id": None,
        "direction": "outbound",
        "type": "SMS",
        "messaging_profile_id": None,
        "from_address": "+13125550001",
        "sender_type": "long_code",
        "from_line_type": "Wireless",
        "to_address": "+13125550100",
        "to_line_type": "Wireless",
        "to_country": "US",
        "cc": [],
        "text": "Code 493021.",
        "sent_text": "Code 493021.",
        "subject": None,
        "media": [],
        "encoding": "GSM-7",
        "parts": 1,
        "num_chars": 12,
        "smart_encoding_applied": False,
        "tags": [],
        "errors": [],
        "cost_amount": None,
        "cost_currency": None,
        "status": "queued",
        "received_at": now,
        "send_at": None,
        "sent_at": None,
        "completed_at": None,
        "valid_until": now + timedelta(hours=1),
        "wait_seconds": 0.0,
        "next_attempt_at": now,
        "claimed_by": None,
        "claimed_at": None,
        "attempts": 0,
        "carrier": None,
        "carrier_message_id": None,
        "webhook_url": HOOK_URL,
        "webhook_failover_url": None,
        "use_profile_webhooks": False,
        "updated_at": now,
    }
