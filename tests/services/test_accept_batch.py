"""Sends stored in batches: each send still succeeds or fails alone, never falsely."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from switchboard.config import load_settings
from switchboard.domain import errors
from switchboard.domain.clock import utcnow
from switchboard.domain.errors import ApiError
from switchboard.domain.ids import new_id
from switchboard.services import accounts, messages
from switchboard.services.accept_batch import batcher_of
from switchboard.services.numbers import ensure_sandbox_numbers
from switchboard.services.runtime import Runtime
from switchboard.store import messages as message_store
from switchboard.store import migrate
from switchboard.store import optouts as optout_store
from switchboard.store.database import create_engine
from switchboard.store.schema import message_events
from switchboard.store.schema import messages as messages_table

SENDER = "+12025550142"  # a sandbox number of the default account


@asynccontextmanager
async def runtime(path: Path) -> AsyncIterator[tuple[Runtime, str]]:
    url = f"sqlite:///{path / 'batch.db'}"
    engine = create_engine(url)
    await migrate.upgrade(engine)
    rt = Runtime(settings=load_settings(database_url=url), engine=engine)
    account_id = (await accounts.ensure_default_account(rt)).account_id
    await ensure_sandbox_numbers(rt, account_id)
    try:
        yield rt, account_id
    finally:
        await rt.close()
        await engine.dispose()


def send(to: str) -> messages.SendRequest:
    return messages.SendRequest(to=to, from_=SENDER, text="Your code is 493021.")


async def stored_rows(rt: Runtime) -> dict[str, str]:
    """Message id → status, for every stored message; no message may have an event row
    yet (the first status is the row's own)."""
    async with rt.read() as conn:
        rows = (await conn.execute(sa.select(messages_table.c.id, messages_table.c.status))).all()
        events = (await conn.execute(sa.select(message_events.c.message_id))).scalars().all()
    assert events == [], "an accepted message's first status is its row's, not an event"
    return {r.id: r.status for r in rows}


def test_an_opted_out_destination_fails_alone_in_its_batch(tmp_path: Path) -> None:
    async def main() -> None:
        async with runtime(tmp_path) as (rt, account_id):
            profile_id = (await messages.send_message(rt, account_id, send("+13125550100")))[
                "messaging_profile_id"
            ]
            async with rt.transaction() as conn:
                await optout_store.add(
                    conn,
                    {
                        "id": new_id(),
                        "account_id": account_id,
                        "messaging_profile_id": profile_id,
                        "from_address": SENDER,
                        "to_address": "+13125550177",
                        "keyword": "STOP",
                        "created_at": utcnow(),
                    },
                )
            destinations = [f"+131255501{n:02d}" for n in range(60, 80)]
            batches_before = batcher_of(rt).batches
            results = await asyncio.gather(
                *(messages.send_message(rt, account_id, send(to)) for to in destinations),
                return_exceptions=True,
            )
            outcome = dict(zip(destinations, results, strict=True))
            refused = outcome.pop("+13125550177")
            assert isinstance(refused, ApiError) and refused.kind is errors.OPTED_OUT
            assert all(isinstance(r, dict) for r in outcome.values()), outcome
            assert batcher_of(rt).batches - batches_before < len(destinations)
            rows = await stored_rows(rt)
            assert len(rows) == 1 + 19
            assert set(rows.values()) == {"queued"}
            assert {r["id"] for r in outcome.values()} <= rows.keys()  # type: ignore[index]

    asyncio.run(main())


def test_a_failed_batch_answers_every_caller_with_an_error_and_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def main() -> None:
        async with runtime(tmp_path) as (rt, account_id):
            original = message_store.insert_messages

            async def insert_then_fail(conn: Any, rows: Any) -> None:
                await original(conn, rows)  # the rows are written, then the batch fails
                raise OSError("disk full")

            monkeypatch.setattr(message_store, "insert_messages", insert_then_fail)
            results = await asyncio.gather(
                *(
                    messages.send_message(rt, account_id, send(f"+131255501{n:02d}"))
                    for n in range(10)
                ),
                return_exceptions=True,
            )
            assert all(isinstance(r, OSError) for r in results), results
            assert await stored_rows(rt) == {}
            monkeypatch.setattr(message_store, "insert_messages", original)
            row = await messages.send_message(rt, account_id, send("+13125550100"))
            assert await stored_rows(rt) == {row["id"]: "queued"}, "the batcher keeps working"

    asyncio.run(main())


def test_a_change_to_the_sender_applies_to_the_next_send(tmp_path: Path) -> None:
    async def main() -> None:
        async with runtime(tmp_path) as (rt, account_id):
            first = await messages.send_message(rt, account_id, send("+13125550100"))
            async with rt.transaction() as conn:
                await conn.execute(
                    sa.text("UPDATE messaging_profiles SET enabled = 0 WHERE id = :id"),
                    {"id": first["messaging_profile_id"]},
                )
            with pytest.raises(ApiError) as refused:
                await messages.send_message(rt, account_id, send("+13125550100"))
            assert refused.value.kind is errors.PROFILE_DISABLED

    asyncio.run(main())
