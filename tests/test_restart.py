"""Nothing accepted is lost and nothing is sent twice when the process is killed."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import fresh_database
from tests.harness import Server, new_number, wait_for

BURST = 200


@pytest.fixture(params=["sqlite", "postgres"])
def restart_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database(request.param, tmp_path, "restart.db")


def test_kill_with_messages_in_flight_then_restart(restart_db: str, tmp_path: Path) -> None:
    # Receipts far in the future so that, when the process dies, no message is final yet:
    # they sit queued, sending, or sent and awaiting their receipt.
    server = Server(restart_db, tmp_path, env={"SWITCHBOARD_SANDBOX__DELIVERY_DELAY": "60"})
    server.start()
    client = server.client()
    try:
        profile = client.messaging_profiles.create(
            name="Restart", whitelisted_destinations=["US"]
        ).data
        assert profile is not None and profile.id
        sender = new_number()
        client.number_orders.create(
            phone_numbers=[{"phone_number": sender}], messaging_profile_id=profile.id
        )

        def send(i: int) -> str:
            sent = client.messages.send(from_=sender, to="+13125550100", text=f"burst {i}").data
            assert sent is not None and sent.id
            return sent.id

        with ThreadPoolExecutor(16) as pool:
            ids = list(pool.map(send, range(BURST)))
        server.kill()
        states = {r["status"] for r in server.query("SELECT DISTINCT status FROM messages")}
        assert states <= {"queued", "sending", "sent"}

        server.extra_env["SWITCHBOARD_SANDBOX__DELIVERY_DELAY"] = "0.05"
        server.start()

        def all_delivered() -> bool:
            rows = server.query("SELECT status, COUNT(*) AS n FROM messages GROUP BY status")
            return {r["status"]: r["n"] for r in rows} == {"delivered": BURST}

        wait_for(all_delivered, timeout=60, interval=0.5)
        per_message = server.query(
            "SELECT message_id, status, COUNT(*) AS n FROM message_events "
            "WHERE status IN ('sent', 'delivered') GROUP BY message_id, status"
        )
        assert len(per_message) == 2 * BURST
        assert all(r["n"] == 1 for r in per_message), "a message was sent or delivered twice"
        assert {r["message_id"] for r in per_message} == set(ids)
    finally:
        server.stop()
