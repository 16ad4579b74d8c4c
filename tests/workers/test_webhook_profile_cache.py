"""Status changes find their profile's webhook URLs without reading the profile every time,
and this process's own change to a profile applies to the very next event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from switchboard.services import events, profiles
from switchboard.store import messages as message_store
from switchboard.store import profiles as profile_store
from switchboard.store.schema import webhook_deliveries
from tests.workers.conftest import World, outbound_row, run


def test_profile_reads_are_shared_and_a_profile_update_applies_at_once(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    get_profile = profile_store.get_profile

    async def counted(conn: Any, account_id: str, profile_id: str) -> Any:
        reads.append(profile_id)
        return await get_profile(conn, account_id, profile_id)

    monkeypatch.setattr(profile_store, "get_profile", counted)

    async def scenario(w: World) -> None:
        profile = await profiles.create_profile(
            w.rt,
            w.account_id,
            {
                "name": "Hooks",
                "whitelisted_destinations": ["US"],
                "webhook_url": "https://a.test/h",
            },
        )

        async def sent() -> list[str]:
            """A message of the profile moved to `sent`: its `message.sent` delivery's targets."""
            now = datetime.now(UTC)
            row = {
                **outbound_row(w.account_id, now),
                "messaging_profile_id": profile["id"],
                "webhook_url": None,
                "use_profile_webhooks": True,
            }
            async with w.rt.transaction() as conn:
                await message_store.insert_messages(conn, [row])
            moved = {**row, "status": "sent", "sent_at": now}
            async with w.rt.transaction() as conn:
                await events.record(w.rt, conn, [moved], now)
            async with w.rt.read() as conn:
                targets = (
                    await conn.execute(
                        sa.select(webhook_deliveries.c.targets).where(
                            webhook_deliveries.c.message_id == row["id"]
                        )
                    )
                ).scalar_one()
            return list(targets)

        reads.clear()
        assert await sent() == ["https://a.test/h"]
        assert await sent() == ["https://a.test/h"]
        assert reads == [profile["id"]]  # read once for both

        await profiles.update_profile(
            w.rt, w.account_id, profile["id"], {"webhook_url": "https://b.test/h"}
        )
        assert await sent() == ["https://b.test/h"]

    run(db_url, scenario)
